"""Pixels against Pillow, the reference users trust: max abs diff <= 1.

Alpha images are compared as images.assert_within_one_of_pillow explains.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastbatch
from images import PIL_FILTERS, assert_within_one_of_pillow, max_abs_diff, photo, pillow_resize

# (src_w, src_h, dst_w, dst_h)
CASES = [
    (200, 150, 64, 48),  # downscale
    (37, 23, 101, 77),  # upscale
    (300, 40, 50, 120),  # mixed: down in x, up in y
    (40, 300, 120, 50),  # mixed: up in x, down in y
    (1, 1, 1, 1),
    (1, 1, 5, 7),
    (1, 50, 3, 9),  # 1xN
    (50, 1, 7, 3),  # Nx1
    (500, 300, 5, 3),  # 100:1
    (7, 400, 7, 4),  # 100:1, vertical only
    (13, 17, 13, 5),  # vertical pass only
    (13, 17, 4, 17),  # horizontal pass only
    (301, 203, 299, 201),  # near-identity, odd sizes
]


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("filter_name", list(PIL_FILTERS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: "%dx%d-%dx%d" % c)
def test_matches_pillow(case: tuple[int, int, int, int], filter_name: str, channels: int) -> None:
    src_w, src_h, dst_w, dst_h = case
    src = photo(src_h, src_w, channels, seed=src_w * 7 + src_h)
    ours = fastbatch.resize(src, (dst_w, dst_h), filter=filter_name)
    ref = pillow_resize(src, (dst_w, dst_h), filter_name)
    assert_within_one_of_pillow(ours, ref, channels)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("filter_name", list(PIL_FILTERS))
def test_solid_colour_stays_exact(filter_name: str, channels: int) -> None:
    colour = [17, 200, 99, 255][:channels] if channels != 2 else [201, 255]
    src = np.empty((97, 131, channels), np.uint8)
    src[...] = colour
    for size in [(40, 30), (300, 211), (131, 5), (7, 97), (1, 1)]:
        out = fastbatch.resize(src, size, filter=filter_name)
        assert (out == np.array(colour, np.uint8)).all(), (size, np.unique(out))


def test_lanczos3_is_the_default_filter() -> None:
    src = photo(80, 90, 3)
    np.testing.assert_array_equal(fastbatch.resize(src, (33, 21)), fastbatch.resize(src, (33, 21), filter="lanczos3"))


def test_same_size_returns_an_equal_copy() -> None:
    src = photo(20, 30, 4)
    out = fastbatch.resize(src, (30, 20))
    np.testing.assert_array_equal(out, src)
    assert not np.shares_memory(out, src)


def test_output_is_new_c_contiguous_uint8() -> None:
    src = photo(64, 48, 3)
    out = fastbatch.resize(src, (20, 10))
    assert out.flags.c_contiguous and out.flags.writeable and out.dtype == np.uint8 and out.shape == (10, 20, 3)


def test_single_channel_3d_keeps_its_shape() -> None:
    src = photo(40, 50, 1)[:, :, None]
    out = fastbatch.resize(src, (10, 12))
    assert out.shape == (12, 10, 1)
    assert max_abs_diff(out[:, :, 0], pillow_resize(src[:, :, 0], (10, 12), "lanczos3")) <= 1


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[10:70, 5:77],  # crop: strided rows
        lambda a: a[::-1],  # negative row stride
        lambda a: a[:, ::-1],  # negative pixel stride: copied
        lambda a: a[::2, ::3],  # stepped
        lambda a: np.ascontiguousarray(a.transpose(1, 0, 2)).transpose(1, 0, 2),  # transposed memory
        lambda a: np.asfortranarray(a),
    ],
)
def test_any_strides_give_the_same_pixels_as_a_contiguous_copy(view) -> None:  # type: ignore[no-untyped-def]
    src = view(photo(90, 100, 3))
    expected = fastbatch.resize(np.ascontiguousarray(src), (23, 31))
    np.testing.assert_array_equal(fastbatch.resize(src, (23, 31)), expected)


def test_read_only_input_is_accepted_and_not_modified() -> None:
    src = photo(50, 60, 4)
    before = src.copy()
    src.flags.writeable = False
    fastbatch.resize(src, (20, 20))
    np.testing.assert_array_equal(src, before)
