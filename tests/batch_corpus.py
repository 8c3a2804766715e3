"""Small image files, good and broken, that the batch / CLI / io tests make for themselves.

Every maker writes one file into a folder and returns its path. Pixels are deterministic.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
from PIL import Image

ORIENTATION_TAG = 0x0112

# sRGB's colorants adapted to D50, as an ICC matrix/TRC profile stores them.
_SRGB_RED = (0.4361, 0.2225, 0.0139)
_SRGB_GREEN = (0.3851, 0.7169, 0.0971)
_SRGB_BLUE = (0.1431, 0.0606, 0.7141)
_D50 = (0.9642, 1.0, 0.8249)


def photo(height: int, width: int, seed: int = 0, channels: int = 3) -> np.ndarray:
    """Photo-like uint8 pixels: smooth gradients, a few hard-edged shapes and mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    y /= max(1, height - 1)
    x /= max(1, width - 1)
    planes = [
        120 + 100 * np.sin(3.0 * x + 1.5 * y + seed),
        110 + 90 * np.cos(2.0 * y - 2.5 * x),
        100 + 80 * np.sin(4.0 * x * y + 0.5),
    ]
    image = np.stack(planes, axis=-1)
    image[(x - 0.3) ** 2 + (y - 0.4) ** 2 < 0.04] = (230, 40, 30)  # a disc with sharp edges
    image[(x > 0.6) & (x < 0.8) & (y > 0.55) & (y < 0.9)] = (20, 60, 200)  # a rectangle
    image += rng.normal(0, 6, image.shape)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    if channels == 4:
        alpha = np.clip(np.rint(255 * (0.2 + 0.8 * x)), 0, 255).astype(np.uint8)
        image = np.dstack([image, alpha])
    return image


def save(array: np.ndarray, path: Path, **params) -> Path:
    Image.fromarray(array).save(path, **params)
    return path


def truncated(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A valid PNG header announcing width x height RGB pixels, with no pixel data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IEND", b""))
    return path


def exif_rotated_jpeg(path: Path, orientation: int = 6) -> Path:
    """A 40x20 stored image (red block at the stored top-left) tagged with an EXIF orientation."""
    pixels = np.full((20, 40, 3), 200, np.uint8)
    pixels[:10, :20] = (255, 0, 0)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[ORIENTATION_TAG] = orientation
    image.save(path, quality=95, exif=exif.tobytes())
    return path


def _s15(value: float) -> bytes:
    return struct.pack(">i", int(round(value * 65536)))


def _xyz_tag(xyz: Tuple[float, float, float]) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def swapped_rgb_icc(description: str = "fastbatch test RGB, red and green swapped") -> bytes:
    """A minimal ICC v2 RGB matrix/TRC profile whose red primary is sRGB's green and vice versa.

    Pure red tagged with it is green in sRGB terms, so a colour-managed grey differs clearly from a
    naive one. White stays white (the colorants still sum to D50).
    """
    text = description.encode("ascii") + b"\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", int(2.2 * 256))
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz_tag(_D50)),
        (b"rXYZ", _xyz_tag(_SRGB_GREEN)),
        (b"gXYZ", _xyz_tag(_SRGB_RED)),
        (b"bXYZ", _xyz_tag(_SRGB_BLUE)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        padded = body + b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += padded
    size = offset + len(data)
    header = (
        struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntr" + b"RGB " + b"XYZ "
        + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0) + b"".join(_s15(v) for v in _D50) + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def animated_webp(path: Path) -> Path:
    first = Image.new("RGB", (24, 16), (250, 10, 10))
    second = Image.new("RGB", (24, 16), (10, 10, 250))
    first.save(path, save_all=True, append_images=[second], duration=100, lossless=True)
    return path


def cmyk_jpeg(path: Path) -> Path:
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(path, quality=95)  # red ink mix
    return path


def png16(path: Path) -> Path:
    ramp = np.linspace(0, 65535, 32 * 16).reshape(16, 32).astype(np.uint16)
    Image.fromarray(ramp).save(path)  # mode I;16 -> a 16-bit grey PNG
    return path


def palette_with_transparency(path: Path) -> Path:
    indices = np.zeros((16, 24), np.uint8)
    indices[:, 12:] = 1
    image = Image.fromarray(indices, "L").convert("P")
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.save(path, transparency=0)  # index 0 fully transparent
    return path


def one_bit(path: Path) -> Path:
    checker = (np.indices((16, 16)).sum(axis=0) % 2 * 255).astype(np.uint8)
    Image.fromarray(checker).convert("1").save(path)
    return path


def good_and_bad_corpus(folder: Path) -> Dict[str, Path]:
    """Every kind of file the batch must survive. Keys say what each file is."""
    folder.mkdir(parents=True, exist_ok=True)
    files: Dict[str, Path] = {}
    files["jpeg"] = save(photo(48, 64, 1), folder / "photo.jpg", quality=92)
    files["upper_ext"] = save(photo(40, 30, 2), folder / "UPPER.JPEG", quality=92)
    files["rgba_png"] = save(photo(32, 48, 3, channels=4), folder / "alpha.png")
    files["webp"] = save(photo(30, 40, 4), folder / "pic.webp", quality=90)
    files["unicode"] = save(photo(20, 30, 5), folder / "фото café 1.png")
    files["cmyk"] = cmyk_jpeg(folder / "cmyk.jpg")
    files["png16"] = png16(folder / "deep16.png")
    files["palette"] = palette_with_transparency(folder / "palette.png")
    files["one_bit"] = one_bit(folder / "onebit.png")
    files["sliver_tall"] = save(photo(300, 1, 6), folder / "sliver_tall.png")
    files["sliver_wide"] = save(photo(1, 300, 7), folder / "sliver_wide.png")
    files["rotated"] = exif_rotated_jpeg(folder / "rotated.jpg")
    icc_image = Image.fromarray(photo(24, 32, 8))
    icc_image.save(folder / "tagged.png", icc_profile=swapped_rgb_icc())
    files["icc"] = folder / "tagged.png"
    files["animated"] = animated_webp(folder / "animated.webp")

    files["zero"] = folder / "zero.png"
    files["zero"].write_bytes(b"")
    source_jpeg = save(photo(64, 64, 9), folder / "_source.jpeg.tmp", format="JPEG")
    files["truncated_jpeg"] = truncated(folder / "cut.jpg", source_jpeg)
    source_png = save(photo(64, 64, 10), folder / "_source.png.tmp", format="PNG")
    files["truncated_png"] = truncated(folder / "cut.png", source_png)
    source_jpeg.unlink()
    source_png.unlink()
    files["random"] = folder / "noise.webp"
    files["random"].write_bytes(np.random.default_rng(11).integers(0, 256, 512, dtype=np.uint8).tobytes())
    files["text"] = folder / "notes.jpg"
    files["text"].write_text("this is not an image\n", encoding="utf-8")
    files["bomb"] = png_bomb(folder / "bomb.png")
    files["dangling"] = folder / "gone.jpg"
    os.symlink(folder / "does-not-exist.jpg", files["dangling"])
    files["loop"] = folder / "loop.png"
    os.symlink(files["loop"], files["loop"])
    return files


GOOD = ("jpeg", "upper_ext", "rgba_png", "webp", "unicode", "cmyk", "png16", "palette", "one_bit",
        "sliver_tall", "sliver_wide", "rotated", "icc", "animated")
BAD = ("zero", "truncated_jpeg", "truncated_png", "random", "text", "bomb", "dangling", "loop")


def leftover_temp_files(folder: Path):
    """Anything a write left behind: fastbatch's temporary names start with a dot."""
    return [p for p in folder.rglob("*") if p.name.startswith(".") or p.name.endswith(".fastbatch-tmp")]


def open_pixels(path: Path) -> Tuple[str, Tuple[int, int], np.ndarray]:
    with Image.open(path) as image:
        image.load()
        return image.mode, image.size, np.asarray(image)


def icc_and_exif(path: Path):
    with Image.open(path) as image:
        return image.info.get("icc_profile"), image.getexif()


def encoded_size(image: Image.Image, **params) -> int:
    buffer = io.BytesIO()
    image.save(buffer, **params)
    return buffer.tell()
