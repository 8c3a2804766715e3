"""Every error path, with its message pinned: what was wrong and what is allowed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

import fastbatch
from fastbatch import _core

RGB = np.zeros((8, 10, 3), np.uint8)


@pytest.mark.parametrize(
    ("image", "error", "message"),
    [
        (np.zeros((8, 10, 3), np.float32), TypeError, "image must have dtype uint8, got float32"),
        (np.zeros((8, 10), np.uint16), TypeError, "image must have dtype uint8, got uint16"),
        (np.zeros((8, 10), bool), TypeError, "image must have dtype uint8, got bool"),
        (np.zeros((8, 10), np.int8), TypeError, "image must have dtype uint8, got int8"),
        ([[1, 2], [3, 4]], TypeError, "image must be a numpy.ndarray of uint8 or a PIL.Image.Image, got list"),
        (np.zeros(10, np.uint8), ValueError, "image must have shape (H, W) or (H, W, C) with C in 1..4, got shape (10,)"),
        (
            np.zeros((2, 3, 4, 1), np.uint8),
            ValueError,
            "image must have shape (H, W) or (H, W, C) with C in 1..4, got shape (2, 3, 4, 1)",
        ),
        (
            np.zeros((4, 4, 5), np.uint8),
            ValueError,
            "image must have shape (H, W) or (H, W, C) with C in 1..4, got shape (4, 4, 5)",
        ),
        (
            np.zeros((4, 4, 0), np.uint8),
            ValueError,
            "image must have shape (H, W) or (H, W, C) with C in 1..4, got shape (4, 4, 0)",
        ),
        (np.zeros((0, 4, 3), np.uint8), ValueError, "image must be at least 1x1, got shape (0, 4, 3)"),
        (np.zeros((4, 0), np.uint8), ValueError, "image must be at least 1x1, got shape (4, 0)"),
    ],
)
def test_bad_images(image: object, error: type, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        fastbatch.resize(image, (4, 4))  # type: ignore[call-overload]
    with pytest.raises(error, match=re.escape(message)):
        fastbatch.grayscale(image)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("size", "error", "message"),
    [
        ((0, 5), ValueError, "size must be positive, got (0, 5)"),
        ((5, -1), ValueError, "size must be positive, got (5, -1)"),
        ((1 << 24 + 1, 5), ValueError, "size (33554432, 5) is too large: each side must be at most 16777216"),
        ((1 << 40, 1 << 40), ValueError, "size (1099511627776, 1099511627776) is too large"),
        ((5.0, 5), TypeError, "size must be a (width, height) pair of ints, got (5.0, 5)"),
        ((True, 5), TypeError, "size must be a (width, height) pair of ints, got (True, 5)"),
        ((5,), TypeError, "size must be a (width, height) pair of ints, got (5,)"),
        (5, TypeError, "size must be a (width, height) pair of ints, got 5"),
    ],
)
def test_bad_sizes(size: object, error: type, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        fastbatch.resize(RGB, size)  # type: ignore[arg-type]


def test_output_too_large_is_refused_before_allocating() -> None:
    with pytest.raises(ValueError, match=re.escape("target of 16777216x16777216x3 bytes is too large")):
        fastbatch.resize(RGB, (1 << 24, 1 << 24))
    # 16 GiB from a 1x1 source: refused at the 4 GiB output limit, not handed to the allocator.
    with pytest.raises(
        ValueError, match=re.escape("target of 16777216x1024x1 bytes is too large (limit 4294967296 bytes)")
    ):
        fastbatch.resize(np.zeros((1, 1), np.uint8), (1 << 24, 1024))


def test_unknown_filter() -> None:
    with pytest.raises(
        ValueError,
        match=re.escape("unknown filter 'lanczos5'; expected one of nearest, box, bilinear, hamming, bicubic, lanczos3"),
    ):
        fastbatch.resize(RGB, (4, 4), filter="lanczos5")


def test_unknown_weights() -> None:
    with pytest.raises(ValueError, match=re.escape("unknown weights 'bt2020'; expected one of bt601, bt709")):
        fastbatch.grayscale(RGB, weights="bt2020")


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_threads(threads: object) -> None:
    message = f"threads must be None (all cores) or an int >= 1, got {threads!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        fastbatch.resize(RGB, (4, 4), threads=threads)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape(message)):
        fastbatch.grayscale(RGB, threads=threads)  # type: ignore[arg-type]


def test_core_rejects_negative_threads_too() -> None:
    with pytest.raises(ValueError, match=re.escape("threads must be 0 (all cores) or a positive int, got -3")):
        _core.resize(RGB, 4, 4, "box", -3)


def test_unknown_isa() -> None:
    available = ", ".join(_core.available_isas())
    with pytest.raises(ValueError, match=re.escape(f"instruction set 'sse9' is not available; available: {available}")):
        _core.select_isa("sse9")


def test_unsupported_pil_mode() -> None:
    with pytest.raises(ValueError, match=re.escape("unsupported PIL image mode 'F'")):
        fastbatch.resize(Image.new("F", (4, 4)), (2, 2))
