"""any_order=True (the batch's default mode): the faster pass order, a rounding away from Pillow's."""

from __future__ import annotations

import numpy as np
import pytest

import fastbatch
from fastbatch import _core, ops
from images import PIL_FILTERS, photo


def _both(pixels: np.ndarray, size: tuple[int, int], filter_name: str = "lanczos3", threads: int = 1):
    height, width = pixels.shape[:2]
    pillow = _core.resize_box(pixels, *size, 0, 0, width, height, filter_name, threads, False)
    fastest = _core.resize_box(pixels, *size, 0, 0, width, height, filter_name, threads, True)
    return pillow, fastest


@pytest.mark.parametrize("filter_name", [f for f in PIL_FILTERS if f != "nearest"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("shape, size", [((300, 400), (90, 120)), ((301, 203), (51, 77)), ((90, 1000), (100, 30))])
def test_shrinking_in_any_order_is_a_rounding_away(shape, size, channels, filter_name) -> None:
    pixels = photo(*shape, channels, seed=shape[0])
    pillow, fastest = _both(pixels, size, filter_name)
    diff = np.abs(pillow.astype(int) - fastest.astype(int))
    assert diff.max() <= 2 and diff.mean() <= 0.25
    # The same order and bytes on every thread count.
    assert np.array_equal(fastest, _both(pixels, size, filter_name, threads=2)[1])


def test_padded_rgb_in_any_order_equals_packed() -> None:
    rgbx = np.random.default_rng(1).integers(0, 256, (400, 600, 4), dtype=np.uint8)
    packed = np.ascontiguousarray(rgbx[..., :3])
    assert np.array_equal(_both(rgbx[..., :3], (200, 130))[1], _both(packed, (200, 130))[1])


@pytest.mark.parametrize(
    "shape, size, channels",
    [
        ((300, 400, 4), (90, 120), 4),  # alpha keeps Pillow's order (no premultiplied copy of the source)
        ((30, 40), (90, 120), 1),  # growing keeps Pillow's order
        ((300, 40), (90, 120), 1),  # one side grows
        # 10x down: 64 rows of 16000 RGB pixels (3 MB) per output row outgrow any L2: Pillow's order
        ((640, 16000, 3), (1600, 64), 3),
    ],
)
def test_where_the_orders_are_the_same(shape, size, channels) -> None:
    pixels = photo(shape[0], shape[1], channels, seed=2)
    pillow, fastest = _both(pixels, size)
    assert np.array_equal(pillow, fastest)


def test_solid_colour_stays_exact_in_any_order() -> None:
    solid = np.full((301, 457, 3), (12, 200, 99), np.uint8)
    assert (_both(solid, (100, 71))[1] == (12, 200, 99)).all()


def test_resize_keeps_pillows_order_and_the_batch_helper_does_not() -> None:
    pixels = photo(300, 400, 1, seed=3)
    pillow, fastest = _both(pixels, (90, 120))
    assert not np.array_equal(pillow, fastest)  # this case does change order
    via_ops = ops._resize_any_order(pixels, (90, 120), filter="lanczos3", threads=1)
    assert np.array_equal(via_ops, fastest) and via_ops.flags.c_contiguous
    assert np.array_equal(fastbatch.resize(pixels, (90, 120), threads=1), pillow)


def test_a_box_that_grows_keeps_pillows_order() -> None:
    # The source shrinks overall, but the sampled 30x20 region grows to 90x60: not a shrink.
    pixels = photo(300, 400, 1, seed=4)
    pillow = _core.resize_box(pixels, 90, 60, 100, 100, 130, 120, "lanczos3", 1, False)
    fastest = _core.resize_box(pixels, 90, 60, 100, 100, 130, 120, "lanczos3", 1, True)
    assert np.array_equal(pillow, fastest)
