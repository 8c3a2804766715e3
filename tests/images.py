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


def premultiplied(a: np.ndarray) -> np.ndarray:
    """Colour times alpha / 255 (rounded), alpha kept: how Pillow filters 2- and 4-channel images."""
    wide = a.astype(np.int32)
    wide[..., :-1] = (wide[..., :-1] * wide[..., -1:] + 127) // 255
    return wide


def assert_within_one_of_pillow(ours: np.ndarray, ref: np.ndarray, channels: int) -> None:
    """Max abs diff <= 1; for alpha images, the measure that definition allows.

    Alpha images are filtered premultiplied, then divided by alpha as Pillow does. A 1-unit
    difference in the premultiplied domain becomes up to 255/alpha after the division, so the colour
    is compared where it is opaque and, elsewhere, premultiplied (where the division's truncation
    can add one more unit).
    """
    assert ours.shape == ref.shape and ours.dtype == np.uint8
    if channels in (1, 3):
        assert max_abs_diff(ours, ref) <= 1
        return
    assert max_abs_diff(ours[..., -1], ref[..., -1]) <= 1
    opaque = (ours[..., -1] == 255) & (ref[..., -1] == 255)
    if opaque.any():
        assert max_abs_diff(ours[opaque], ref[opaque]) <= 1
    assert max_abs_diff(premultiplied(ours), premultiplied(ref)) <= 2
