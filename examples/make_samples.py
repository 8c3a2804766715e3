"""Make the sample images in examples/images/ (the README's run command uses them).

    python examples/make_samples.py

Everything is drawn from numpy arithmetic with fixed seeds, so the pictures are the project's own and
the same on every run (byte-identical for a given Pillow / libjpeg / libwebp). Each sample shows one
thing the batch tool handles: a plain JPEG photo, a JPEG whose EXIF orientation says "rotate", a PNG
with transparency, a WebP, and a small grey PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent / "images"
ORIENTATION_TAG = 0x0112


def _grid(height: int, width: int):
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    return y / (height - 1), x / (width - 1)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(array), 0, 255).astype(np.uint8)


def landscape(height: int = 427, width: int = 640, seed: int = 1) -> np.ndarray:
    """Sky gradient, a sun, two ranges of hills, grain: smooth areas plus hard edges, like a photo."""
    rng = np.random.default_rng(seed)
    y, x = _grid(height, width)
    sky = np.stack([90 + 120 * y, 140 + 90 * y, 235 - 40 * y], axis=-1)
    image = sky
    sun = (x - 0.75) ** 2 + ((y - 0.25) * height / width) ** 2 < 0.004
    image[sun] = (255, 236, 170)
    far_hills = y > 0.55 + 0.08 * np.sin(7 * x + 1.0) + 0.03 * np.sin(23 * x)
    image[far_hills] = np.stack([70 + 30 * y, 110 + 20 * y, 90 + 10 * y], axis=-1)[far_hills]
    near_hills = y > 0.72 + 0.06 * np.sin(4 * x + 2.5) + 0.02 * np.sin(31 * x + 0.3)
    image[near_hills] = np.stack([40 + 60 * y, 90 + 40 * y, 30 + 10 * y], axis=-1)[near_hills]
    image += rng.normal(0, 4, image.shape)
    return _to_uint8(image)


def street(height: int = 360, width: int = 480, seed: int = 2) -> np.ndarray:
    """Houses with windows against an evening sky; stored sideways, displayed upright via EXIF."""
    rng = np.random.default_rng(seed)
    y, x = _grid(height, width)
    image = np.stack([250 - 120 * y, 150 - 60 * y, 120 + 40 * y], axis=-1)
    for index, (left, right, roof) in enumerate([(0.05, 0.3, 0.35), (0.32, 0.55, 0.5), (0.58, 0.95, 0.28)]):
        house = (x > left) & (x < right) & (y > roof)
        image[house] = (60 + 30 * index, 50 + 20 * index, 70)
        windows = house & (np.sin(x * 90) > 0.6) & (np.sin(y * 70) > 0.5)
        image[windows] = (255, 210, 120)
    image += rng.normal(0, 5, image.shape)
    upright = _to_uint8(image)
    return np.ascontiguousarray(np.rot90(upright, k=1))  # stored a quarter turn anticlockwise


def logo(side: int = 320) -> np.ndarray:
    """Rings and a bar on a transparent background, with soft (partially transparent) edges."""
    y, x = _grid(side, side)
    radius = np.hypot(x - 0.5, y - 0.5)
    ring = np.clip(1 - np.abs(radius - 0.32) / 0.06, 0, 1)
    dot = np.clip(1 - radius / 0.12, 0, 1) * 1.5
    bar = ((np.abs(y - 0.5) < 0.05) & (np.abs(x - 0.5) < 0.45)).astype(np.float64) * 0.8
    alpha = np.clip(np.maximum.reduce([ring, dot, bar]), 0, 1)
    colour = np.stack([40 + 200 * x, 90 + 100 * (1 - y), 220 - 150 * x], axis=-1)
    return np.dstack([_to_uint8(colour), _to_uint8(255 * alpha)])


def texture(height: int = 384, width: int = 512, seed: int = 3) -> np.ndarray:
    """Wood-like rings with fine grain: lots of detail for the resampling filter to keep or lose."""
    rng = np.random.default_rng(seed)
    y, x = _grid(height, width)
    rings = np.sin(60 * np.hypot(x - 0.2, (y - 1.3) * 0.6) + 4 * np.sin(5 * x))
    base = 0.5 + 0.5 * rings
    image = np.stack([120 + 90 * base, 70 + 60 * base, 30 + 30 * base], axis=-1)
    image += rng.normal(0, 8, image.shape)
    return _to_uint8(image)


def moire(side: int = 256) -> np.ndarray:
    """Concentric rings growing finer outwards: shows aliasing when a filter is too sharp."""
    y, x = _grid(side, side)
    radius = np.hypot(x - 0.5, y - 0.5)
    return _to_uint8(127.5 + 127.5 * np.cos(300 * radius**2))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    Image.fromarray(landscape()).save(OUT / "landscape.jpg", quality=85, optimize=True)

    sideways = Image.fromarray(street())
    exif = sideways.getexif()
    exif[ORIENTATION_TAG] = 6  # "rotate 90 degrees clockwise to display"
    sideways.save(OUT / "street_exif_rotated.jpg", quality=85, optimize=True, exif=exif.tobytes())

    Image.fromarray(logo()).save(OUT / "logo_alpha.png", optimize=True)
    Image.fromarray(texture()).save(OUT / "wood.webp", quality=80, method=6)
    Image.fromarray(moire()).save(OUT / "rings_gray.png", optimize=True)
    total = sum(path.stat().st_size for path in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} images to {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
