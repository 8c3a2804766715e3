"""Build the batch benchmark's image folders under bench/corpus/ (git-ignored); nothing is committed.

    python bench/corpus.py                 # synthetic folders: bench/corpus/jpeg and bench/corpus/mixed
    python bench/corpus.py --real          # also bench/corpus/real from Debian wallpaper packages

Synthetic: reproducible from a fixed seed (same bytes for the same Pillow), photo-like (smooth
lighting, soft blobs, hard-edged shapes where Lanczos rings, fine texture, sensor noise), sizes from
0.3 to 24 MP, landscape and portrait, some with an EXIF orientation. ``jpeg/`` holds JPEGs only (4:2:0
and 4:4:4); ``mixed/`` adds PNG RGB, PNG RGBA and WebP. The real folder is fetched with
``apt-get download`` (needs an apt source list) and extracted with ``dpkg-deb -x`` in a temporary folder;
only the images are kept.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
DEFAULT_ROOT = HERE / "corpus"
SEED = 20240605
REAL_PACKAGES = ("lomiri-wallpapers-20.04", "sway-backgrounds", "desktop-base")
REAL_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")

# (megapixels, aspect w/h, portrait, EXIF orientation, JPEG subsampling): the JPEG folder. Sizes span
# phone snapshots to full-frame 24 MP; orientations 6 and 8 are the common camera quarter turns.
JPEG_SPECS = (
    (24.0, 3 / 2, False, 1, "4:2:0"),
    (20.0, 4 / 3, True, 6, "4:2:0"),
    (16.0, 3 / 2, False, 1, "4:4:4"),
    (12.0, 4 / 3, False, 1, "4:2:0"),
    (12.0, 4 / 3, True, 8, "4:2:0"),
    (8.0, 16 / 9, False, 1, "4:2:0"),
    (8.0, 3 / 2, True, 1, "4:4:4"),
    (5.0, 4 / 3, False, 3, "4:2:0"),
    (3.0, 3 / 2, False, 1, "4:2:0"),
    (2.0, 16 / 9, False, 1, "4:2:0"),
    (2.0, 4 / 3, True, 6, "4:2:0"),
    (1.0, 3 / 2, False, 1, "4:4:4"),
    (0.5, 4 / 3, False, 1, "4:2:0"),
    (0.3, 3 / 2, True, 1, "4:2:0"),
)
# (megapixels, aspect, portrait, kind) added to the JPEGs in the mixed folder.
OTHER_SPECS = (
    (12.0, 16 / 9, False, "png-rgb"),
    (8.0, 3 / 2, False, "webp"),
    (6.0, 4 / 3, True, "png-rgba"),
    (4.0, 16 / 9, False, "png-rgb"),
    (3.0, 4 / 3, False, "webp"),
    (2.0, 3 / 2, True, "png-rgba"),
    (1.0, 16 / 9, False, "webp"),
    (0.5, 4 / 3, False, "png-rgb"),
)


def _dimensions(megapixels: float, aspect: float, portrait: bool) -> tuple:
    width = int(round((megapixels * 1e6 * aspect) ** 0.5))
    height = int(round(width / aspect))
    return (height, width) if portrait else (width, height)


def _smooth_field(rng: np.random.Generator, size: tuple, cells: int, channels: int) -> Image.Image:
    """Random values on a coarse grid blown up with bicubic: lighting and soft colour regions."""
    width, height = size
    grid_w = max(2, cells)
    grid_h = max(2, int(round(cells * height / width)))
    coarse = rng.integers(0, 256, (grid_h, grid_w, channels), dtype=np.uint8)
    return Image.fromarray(coarse).resize(size, Image.BICUBIC)


def photo(size: tuple, rng: np.random.Generator, alpha: bool = False) -> Image.Image:
    """A photo-like RGB (or RGBA) image of ``size``: what a resize filter and a codec meet in real photos."""
    width, height = size
    base = np.asarray(_smooth_field(rng, size, 6, 3), dtype=np.int16)
    detail = np.asarray(_smooth_field(rng, size, max(8, width // 48), 3), dtype=np.int16)
    pixels = (base * 3 + detail) // 4
    canvas = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    # Hard-edged objects: rectangles and ellipses of flat colour, a few thin lines (ringing, aliasing).
    for _ in range(24):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(width // 40 + 1, width // 4 + 2)), int(rng.integers(height // 40 + 1, height // 4 + 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = draw.rectangle if rng.random() < 0.5 else draw.ellipse
        shape([x0, y0, x0 + w, y0 + h], fill=colour)
    for _ in range(12):
        points = [int(rng.integers(0, width)), int(rng.integers(0, height)), int(rng.integers(0, width)), int(rng.integers(0, height))]
        draw.line(points, fill=tuple(int(c) for c in rng.integers(0, 256, 3)), width=int(rng.integers(1, 4)))
    canvas = canvas.filter(ImageFilter.GaussianBlur(0.6))  # lens softness: edges a pixel wide, not aliased
    pixels = np.asarray(canvas, dtype=np.int16)
    # Fine texture (foliage, fabric) on a band of periods, then sensor noise.
    yy, xx = np.ogrid[:height, :width]
    texture = (np.sin(xx * 0.9 + yy * 0.35) * np.sin(yy * 0.6) * 10).astype(np.int16)
    noise = rng.normal(0.0, 3.0, (height, width, 1)).astype(np.int16)
    pixels = np.clip(pixels + texture[..., None] + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    if alpha:
        # A soft vignette alpha with every value 0..255, plus a fully transparent corner.
        ny, nx = np.ogrid[-1 : 1 : complex(0, height), -1 : 1 : complex(0, width)]
        mask = np.clip((1.4 - np.sqrt(nx * nx + ny * ny)) * 255, 0, 255).astype(np.uint8)
        mask[: height // 8, : width // 8] = 0
        image.putalpha(Image.fromarray(mask, "L"))
    return image


def _exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def _write_jpeg(image: Image.Image, path: Path, subsampling: str, orientation: int) -> None:
    params = {"quality": 90, "subsampling": subsampling}
    if orientation != 1:
        params["exif"] = _exif_with_orientation(orientation)
    image.save(path, "JPEG", **params)


def build_synthetic(root: Path, *, scale: float = 1.0, quiet: bool = False) -> tuple:
    """Write root/jpeg and root/mixed; ``scale`` multiplies every pixel count (a quick, small corpus)."""
    rng = np.random.default_rng(SEED)
    jpeg_dir, mixed_dir = root / "jpeg", root / "mixed"
    for folder in (jpeg_dir, mixed_dir):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    for index, (mp, aspect, portrait, orientation, subsampling) in enumerate(JPEG_SPECS):
        size = _dimensions(mp * scale, aspect, portrait)
        name = f"j{index:02d}_{size[0]}x{size[1]}_{subsampling.replace(':', '')}_o{orientation}.jpg"
        _write_jpeg(photo(size, rng), jpeg_dir / name, subsampling, orientation)
        shutil.copyfile(jpeg_dir / name, mixed_dir / name)
        if not quiet:
            print(f"  {name}", file=sys.stderr)
    for index, (mp, aspect, portrait, kind) in enumerate(OTHER_SPECS):
        size = _dimensions(mp * scale, aspect, portrait)
        image = photo(size, rng, alpha=kind == "png-rgba")
        suffix = ".webp" if kind == "webp" else ".png"
        name = f"m{index:02d}_{size[0]}x{size[1]}_{kind}{suffix}"
        if kind == "webp":
            image.save(mixed_dir / name, "WEBP", quality=85, method=4)
        else:
            image.save(mixed_dir / name, "PNG", compress_level=6)
        if not quiet:
            print(f"  {name}", file=sys.stderr)
    return jpeg_dir, mixed_dir


def fetch_real(root: Path) -> Path:
    """Debian's wallpaper packages downloaded and unpacked in a temporary folder; root/real keeps the images."""
    target = root / "real"
    with tempfile.TemporaryDirectory(prefix="fastbatch-real-") as temp:
        temp_path = Path(temp)
        subprocess.run(["apt-get", "download", *REAL_PACKAGES], cwd=temp_path, check=True)
        unpacked = temp_path / "unpacked"
        for deb in sorted(temp_path.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        seen = set()
        for path in sorted(unpacked.rglob("*")):
            if path.is_symlink() or not path.is_file() or path.suffix.lower() not in REAL_SUFFIXES:
                continue
            name = path.name
            if name in seen:  # packages reuse names across sizes: keep each, prefixed by its folder
                name = f"{path.parent.name}_{name}"
            seen.add(name)
            shutil.copyfile(path, target / name)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="where the folders go (default bench/corpus)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every image's pixel count (e.g. 0.1 for a quick run)")
    parser.add_argument("--real", action="store_true", help="also fetch the Debian wallpapers into ROOT/real")
    args = parser.parse_args(argv)
    jpeg_dir, mixed_dir = build_synthetic(args.root, scale=args.scale)
    print(f"synthetic: {jpeg_dir} ({len(list(jpeg_dir.iterdir()))} files), {mixed_dir} ({len(list(mixed_dir.iterdir()))} files)")
    if args.real:
        real = fetch_real(args.root)
        print(f"real: {real} ({len(list(real.iterdir()))} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
