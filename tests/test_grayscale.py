"""Grayscale: bt601 bit-exact with Pillow convert("L"); bt709 as the Rust image crate computes it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import fastbatch
from images import photo


def every_rgb_triple_once() -> np.ndarray:
    rng = np.random.default_rng(3)
    # A random sample plus the extremes: enough to catch any rounding difference.
    return np.concatenate([rng.integers(0, 256, (200_000, 3)), [[0, 0, 0], [255, 255, 255], [255, 0, 0]]]).astype(
        np.uint8
    )[None]


def test_bt601_is_bit_exact_with_pillow_rgb() -> None:
    src = every_rgb_triple_once()
    ref = np.asarray(Image.fromarray(src, "RGB").convert("L"))
    np.testing.assert_array_equal(fastbatch.grayscale(src), ref)


def test_bt601_rgba_keeps_alpha_and_matches_pillow_la() -> None:
    src = photo(120, 130, 4)
    ref = np.asarray(Image.fromarray(src, "RGBA").convert("LA"))
    out = fastbatch.grayscale(src)
    assert out.shape == (120, 130, 2)
    np.testing.assert_array_equal(out, ref)


def test_bt709_matches_the_image_crates_integer_formula() -> None:
    src = every_rgb_triple_once()
    wide = src.astype(np.uint32)
    expected = ((2126 * wide[..., 0] + 7152 * wide[..., 1] + 722 * wide[..., 2]) // 10000).astype(np.uint8)
    np.testing.assert_array_equal(fastbatch.grayscale(src, weights="bt709"), expected)


def test_bt709_rgba_keeps_alpha() -> None:
    src = photo(30, 40, 4)
    out = fastbatch.grayscale(src, weights="bt709")
    np.testing.assert_array_equal(out[..., 1], src[..., 3])


@pytest.mark.parametrize("channels", [1, 2])
def test_grey_input_comes_back_as_a_copy(channels: int) -> None:
    src = photo(10, 12, channels)
    out = fastbatch.grayscale(src)
    np.testing.assert_array_equal(out, src)
    assert not np.shares_memory(out, src)


def test_strided_input() -> None:
    src = photo(100, 100, 3)[::-2, 10:90]
    np.testing.assert_array_equal(fastbatch.grayscale(src), fastbatch.grayscale(np.ascontiguousarray(src)))


def test_pil_in_pil_out() -> None:
    img = Image.fromarray(photo(20, 30, 3), "RGB")
    out = fastbatch.grayscale(img)
    assert isinstance(out, Image.Image) and out.mode == "L"
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.convert("L")))
    rgba = Image.fromarray(photo(20, 30, 4), "RGBA")
    assert fastbatch.grayscale(rgba).mode == "LA"
