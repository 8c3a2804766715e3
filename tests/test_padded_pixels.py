"""RGB pixels padded to 4 bytes (Pillow's own layout, seen through a [..., :3] view) are read in place
by the core, and fastbatch.ops.pil_pixels hands Pillow's memory over without a copy."""

from __future__ import annotations

import gc

import fastbatch
import numpy as np
import pytest
from fastbatch import _core, ops
from images import photo
from PIL import Image

SIZES = [
    ((37, 53), (20, 70)),  # grow one axis, shrink the other
    ((300, 400), (120, 90)),  # shrink both, horizontal first
    ((300, 400), (400, 100)),  # vertical only
    ((300, 400), (150, 300)),  # horizontal only
    ((120, 400), (100, 30)),  # vertical first
    ((300, 400), (400, 300)),  # same size: a copy
    ((1, 1), (3, 3)),
    ((5, 1), (2, 2)),
    ((40, 7), (3, 20)),  # narrower than the kernel: the single-row kernel with guarded loads
    ((9, 517), (101, 5)),  # blocks of four rows plus a leftover row, an odd width
    ((600, 900), (299, 600)),  # horizontal only, big enough for two threads
]


@pytest.fixture(params=_core.available_isas())
def isa(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    previous = _core.active_isa()
    _core.select_isa(request.param)
    yield request.param
    _core.select_isa(previous)


@pytest.mark.parametrize("filter_name", ["lanczos3", "bilinear", "box", "nearest"])
@pytest.mark.parametrize("shape,size", SIZES)
def test_padded_rgb_resizes_like_packed(isa: str, shape: tuple[int, int], size: tuple[int, int], filter_name: str) -> None:
    rng = np.random.default_rng(shape[0] * 1000 + size[0])
    rgbx = rng.integers(0, 256, shape + (4,), dtype=np.uint8)
    padded = rgbx[:, :, :3]
    assert padded.strides[1] == 4
    expected = fastbatch.resize(np.ascontiguousarray(padded), size, filter=filter_name)
    for threads in (1, 2):
        got = fastbatch.resize(padded, size, filter=filter_name, threads=threads)
        np.testing.assert_array_equal(got, expected)
    assert got.flags.c_contiguous and got.shape == (size[1], size[0], 3)


@pytest.mark.parametrize("weights", ["bt601", "bt709"])
@pytest.mark.parametrize("width", [1, 15, 16, 17, 18, 33, 517])
def test_padded_rgb_greys_like_packed(isa: str, width: int, weights: str) -> None:
    rgbx = np.random.default_rng(width).integers(0, 256, (5, width, 4), dtype=np.uint8)
    rgbx[0, :, :3] = 255  # the extremes of the weighted sums
    rgbx[1, :, :3] = 0
    padded = rgbx[:, :, :3]
    got = fastbatch.grayscale(padded, weights=weights)
    np.testing.assert_array_equal(got, fastbatch.grayscale(np.ascontiguousarray(padded), weights=weights))
    assert got.shape == (5, width)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_pil_pixels_is_the_image_in_place(mode: str) -> None:
    ops.allow_in_place_pixels()
    channels = len(mode)
    image = Image.fromarray(photo(301, 517, channels), mode)
    expected = np.asarray(image)
    view = ops.pil_pixels(image)
    np.testing.assert_array_equal(view, expected)
    assert not view.flags.writeable
    if mode == "RGB":
        assert view.strides == (517 * 4, 4, 1)  # Pillow's 4-byte pixels, not a packed copy
    # The view keeps Pillow's memory alive after the image is gone and the memory could be reused.
    del image
    gc.collect()
    _others = [Image.new(mode, (517, 301)) for _ in range(4)]
    np.testing.assert_array_equal(view, expected)


def test_pil_pixels_copies_what_it_cannot_view() -> None:
    image = Image.fromarray(photo(40, 30, 2), "LA")
    got = ops.pil_pixels(image)
    np.testing.assert_array_equal(got, np.asarray(image))
    assert got.shape == (40, 30, 2)


def test_resize_of_a_pil_rgb_image_matches_its_array() -> None:
    ops.allow_in_place_pixels()
    pixels = photo(600, 800, 3)
    image = Image.fromarray(pixels, "RGB")
    got = fastbatch.resize(image, (200, 150))
    np.testing.assert_array_equal(np.asarray(got), fastbatch.resize(pixels, (200, 150)))


def test_packed_copies_padded_views_through_the_core() -> None:
    rgbx = np.random.default_rng(3).integers(0, 256, (33, 47, 4), dtype=np.uint8)
    for view in (rgbx[:, :, :3], rgbx[3:20, 5:40, :3], rgbx[::-1, :, :3], rgbx[:, ::2, :3]):
        got = ops.packed(view)
        assert got.flags.c_contiguous
        np.testing.assert_array_equal(got, view)
    contiguous = np.ascontiguousarray(rgbx[:, :, :3])
    assert ops.packed(contiguous) is contiguous
