"""Reproducible photo-like test images (smooth structure + texture + noise), shared by the tests."""

from __future__ import annotations

import numpy as np
from PIL import Image

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
PIL_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos3": Image.Resampling.LANCZOS,
}


def photo(height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    """uint8 (H, W) for 1 channel, else (H, W, C); alpha (last channel of 2 and 4) is a soft-edged shape."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(channels):
        phase = c * 1.3
        plane = 128 + 70 * np.sin(x / (5.0 + 3 * c) + phase) * np.cos(y / (7.0 + 2 * c)) + 40 * np.sin((x + y) / 23.0)
        plane += rng.normal(0, 18, (height, width))
        planes.append(plane)
    img = np.clip(np.stack(planes, axis=-1), 0, 255).round().astype(np.uint8)
    if channels in (2, 4):
        cy, cx = height / 2, width / 2
        r = np.hypot((y - cy) / max(height, 1), (x - cx) / max(width, 1))
        img[..., -1] = np.clip((0.45 - r) * 900, 0, 255).astype(np.uint8)
    return img[..., 0] if channels == 1 else img


def to_pil(array: np.ndarray) -> Image.Image:
    channels = 1 if array.ndim == 2 else array.shape[2]
    return Image.fromarray(array, MODES[channels])


def pillow_resize(array: np.ndarray, size: tuple[int, int], filter_name: str) -> np.ndarray:
    return np.asarray(to_pil(array).resize(size, PIL_FILTERS[filter_name]))


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape, (a.shape, b.shape)
    return int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max())
