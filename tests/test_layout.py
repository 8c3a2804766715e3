"""The core's layout helpers: strided copies (ops.packed, oriented outputs) and alpha flattening."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fastbatch import _core, ops
from fastbatch import io as imageio

SHAPES = [(1, 1), (1, 9), (9, 1), (7, 5), (33, 65, 3), (70, 41, 4), (100, 37, 2), (64, 64, 1), (5, 3, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("orientation", range(1, 9))
def test_copy_of_every_orientation_view(shape, orientation):
    pixels = np.random.default_rng(orientation).integers(0, 256, shape, dtype=np.uint8)
    view = imageio.orient(pixels, orientation)
    for threads in (1, 0):
        copy = _core.copy(view, threads)
        assert copy.flags.c_contiguous and copy.shape == view.shape
        assert np.array_equal(copy, view)
        assert not np.shares_memory(copy, pixels)


def test_copy_of_steps_padding_and_broadcasts():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (97, 131, 4), dtype=np.uint8)
    views = [
        image[::3, ::-2],  # steps both ways
        image[10:50, 7:100, :3],  # Pillow's padded RGB layout
        image[::-1, :, 1:3],  # two channels out of four
        np.broadcast_to(image[:1, :1], (20, 30, 4)),  # zero strides
        image[..., 0].T,  # one channel, transposed
        image.transpose(1, 0, 2)[::-5],
    ]
    for view in views:
        copy = _core.copy(view, 1)
        assert copy.flags.c_contiguous and np.array_equal(copy, view)


def test_copy_with_strided_channels_falls_back_to_a_plain_copy():
    image = np.random.default_rng(4).integers(0, 256, (20, 30, 4), dtype=np.uint8)
    view = image[..., ::-1]  # channels reversed: the core's pixels need consecutive channel bytes
    assert np.array_equal(_core.copy(view, 1), view)


def test_copy_refuses_what_is_not_an_image():
    with pytest.raises(TypeError, match="dtype uint8"):
        _core.copy(np.zeros((3, 3), np.uint16), 1)
    with pytest.raises(ValueError, match=r"shape \(H, W\) or \(H, W, C\)"):
        _core.copy(np.zeros((3, 3, 5), np.uint8), 1)
    with pytest.raises(ValueError, match="at least 1x1"):
        _core.copy(np.zeros((0, 3), np.uint8), 1)


def test_packed_is_the_input_when_already_contiguous_and_a_copy_otherwise():
    image = np.random.default_rng(5).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    assert ops.packed(image) is image
    rotated = imageio.orient(image, 6)
    assert np.array_equal(ops.packed(rotated), rotated)
    other = np.zeros((4, 5), np.float32)[::-1]
    assert ops.packed(other).flags.c_contiguous and ops.packed(other).dtype == np.float32


def _reference_flatten(pixels: np.ndarray, background) -> np.ndarray:
    colour = pixels[..., :-1].astype(np.int64)
    alpha = pixels[..., -1:].astype(np.int64)
    mixed = (colour * alpha + np.array(background, np.int64) * (255 - alpha) + 127) // 255
    return mixed.astype(np.uint8)


@pytest.mark.parametrize("background", [0, 1, 127, 128, 254, 255])
def test_flatten_is_exact_on_every_colour_and_alpha(background):
    colour, alpha = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8), indexing="ij")
    grey_alpha = np.stack([colour, alpha], axis=-1)  # 256 x 256: every (colour, alpha) pair once
    expected = _reference_flatten(grey_alpha, [background])[..., 0]
    assert np.array_equal(_core.flatten(grey_alpha, [background], 1), expected)
    rgba = np.concatenate([grey_alpha[..., :1]] * 3 + [grey_alpha[..., 1:]], axis=-1)
    triple = [background, 255 - background, background // 2]
    assert np.array_equal(_core.flatten(rgba, triple, 0), _reference_flatten(rgba, triple))


def test_flatten_reads_strided_views():
    image = np.random.default_rng(6).integers(0, 256, (50, 60, 4), dtype=np.uint8)
    view = imageio.orient(image, 8)
    assert np.array_equal(_core.flatten(view, [10, 20, 30], 1), _reference_flatten(view, [10, 20, 30]))


@pytest.mark.parametrize(
    ("shape", "background", "message"),
    [
        ((4, 4, 3), [1, 2, 3], "must have an alpha channel"),
        ((4, 4), [1], "must have an alpha channel"),
        ((4, 4, 4), [1], "3 values in 0..255"),
        ((4, 4, 2), [1, 2, 3], "1 value in 0..255"),
        ((4, 4, 4), [0, 256, 0], "3 values in 0..255"),
        ((4, 4, 2), [-1], "1 value in 0..255"),
    ],
)
def test_flatten_refuses_bad_arguments(shape, background, message):
    with pytest.raises(ValueError, match=message):
        _core.flatten(np.zeros(shape, np.uint8), background, 1)


def test_encode_flattens_through_the_core_with_the_documented_rounding():
    rng = np.random.default_rng(7)
    for channels, background in itertools.product((2, 4), [(255, 255, 255), (0, 64, 200)]):
        pixels = rng.integers(0, 256, (31, 17, channels), dtype=np.uint8)
        flat = imageio._flatten(pixels, background)
        if channels == 2:
            red, green, blue = background
            grey = (red * 19595 + green * 38470 + blue * 7471 + 0x8000) >> 16
            assert np.array_equal(flat, _reference_flatten(pixels, [grey])[..., 0])
        else:
            assert np.array_equal(flat, _reference_flatten(pixels, background))
