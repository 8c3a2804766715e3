"""Every instruction-set path gives the scalar reference's bytes, tails and odd widths included."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import fastbatch
from fastbatch import _core
from images import PIL_FILTERS, max_abs_diff, photo, pillow_resize

VECTOR_ISAS = [name for name in _core.available_isas() if name != "scalar"]

# (src_w, src_h, dst_w, dst_h): odd widths, 1xN, tails shorter than a vector, every pass combination.
CASES = [
    (5120 // 8, 2880 // 8, 1280 // 8, 720 // 8),
    (301, 203, 77, 51),
    (33, 17, 31, 45),  # rows of 31..33 pixels: one vector plus a tail
    (7, 9, 3, 29),
    (1, 40, 1, 13),
    (40, 1, 13, 1),
    (2, 2, 61, 3),
    (500, 37, 5, 37),  # horizontal only, 100:1
    (37, 500, 37, 5),  # vertical only, 100:1
    (64, 300, 190, 40),  # vertical first
]


@pytest.fixture(params=VECTOR_ISAS or [pytest.param("none", marks=pytest.mark.skip(reason="no vector path here"))])
def isa(request: pytest.FixtureRequest) -> Iterator[str]:
    previous = _core.active_isa()
    yield request.param
    _core.select_isa(previous)


def run(isa_name: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    _core.select_isa(isa_name)
    return fn(*args, **kwargs)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("filter_name", [f for f in PIL_FILTERS if f != "nearest"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "%dx%d-%dx%d" % c)
def test_vector_path_equals_scalar(isa: str, case: tuple[int, int, int, int], filter_name: str, channels: int) -> None:
    src_w, src_h, dst_w, dst_h = case
    src = photo(src_h, src_w, channels, seed=src_w + 3 * src_h)
    reference = run("scalar", fastbatch.resize, src, (dst_w, dst_h), filter=filter_name, threads=1)
    vector = run(isa, fastbatch.resize, src, (dst_w, dst_h), filter=filter_name, threads=1)
    np.testing.assert_array_equal(vector, reference)
    if channels in (1, 3):
        assert max_abs_diff(vector, pillow_resize(src, (dst_w, dst_h), filter_name)) <= 1


def test_vector_path_on_extreme_values(isa: str) -> None:
    # Alternating 0/255 maximises overshoot and the accumulators' range.
    src = np.zeros((64, 97, 4), np.uint8)
    src[::2, ::2] = 255
    src[1::2, 1::2] = 255
    for size in [(300, 200), (13, 7), (97, 31), (40, 64)]:
        np.testing.assert_array_equal(run(isa, fastbatch.resize, src, size), run("scalar", fastbatch.resize, src, size))


@pytest.mark.parametrize("weights", ["bt601", "bt709"])
@pytest.mark.parametrize("channels", [3, 4])
def test_vector_grayscale_equals_scalar(isa: str, weights: str, channels: int) -> None:
    rng = np.random.default_rng(channels)
    for width in [*range(1, 20), 101, 1024]:  # every tail length around the 8-pixel step
        src = rng.integers(0, 256, (3, width, channels), dtype=np.uint8)
        src[0, :, :3] = 255  # the extremes of the weighted sums
        src[1, :, :3] = 0
        np.testing.assert_array_equal(
            run(isa, fastbatch.grayscale, src, weights=weights), run("scalar", fastbatch.grayscale, src, weights=weights)
        )


@pytest.mark.parametrize("channels", [2, 4])
def test_vector_unpremultiply_kernel_on_every_pair(isa: str, channels: int) -> None:
    # Straight at the kernel: every (colour, alpha) pair, colour above alpha included (a filter's
    # overshoot leaves such pixels; Pillow clips 255 * c / a to 255), in every channel slot, with
    # every start offset and tail length of the vector loop.
    colour, alpha = np.meshgrid(np.arange(256), np.arange(256))
    colour, alpha = colour.ravel(), alpha.ravel()
    slots = [(colour + 37 * k) % 256 for k in range(channels - 1)]
    pixels = np.stack(slots + [alpha], axis=-1).astype(np.uint8)
    for offset in range(9):
        part = pixels[offset : len(pixels) - 2 * offset]
        np.testing.assert_array_equal(
            run(isa, _core.unpremultiply_pixels, part), run("scalar", _core.unpremultiply_pixels, part)
        )


def test_scalar_unpremultiply_is_pillows() -> None:
    # The reference itself against Pillow's RGBa -> RGBA on every pair.
    from PIL import Image

    colour, alpha = np.meshgrid(np.arange(256), np.arange(256))
    rgba = np.stack([colour, colour, colour, alpha], axis=-1).astype(np.uint8)
    expected = np.asarray(Image.fromarray(rgba, "RGBa").convert("RGBA"))
    previous = _core.active_isa()
    try:
        got = run("scalar", _core.unpremultiply_pixels, rgba.reshape(-1, 4)).reshape(rgba.shape)
    finally:
        _core.select_isa(previous)
    np.testing.assert_array_equal(got, expected)


def test_vector_unpremultiply_covers_every_colour_and_alpha(isa: str) -> None:
    # Every (colour, alpha) pair through a horizontal-only resize by 1 -> 1 would be a copy, so use
    # an exact 2:1 box reduction of identical pixel pairs: the filtered value equals the input, and
    # the premultiply / unpremultiply round trip is all that acts on it.
    colour, alpha = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8))
    rgba = np.stack([colour, 255 - colour, colour // 2 + 3, alpha], axis=-1)
    src = np.repeat(rgba, 2, axis=1)  # (256, 512, 4): each pixel twice
    np.testing.assert_array_equal(
        run(isa, fastbatch.resize, src, (256, 256), filter="box"),
        run("scalar", fastbatch.resize, src, (256, 256), filter="box"),
    )
    la = np.repeat(np.stack([colour, alpha], axis=-1), 2, axis=1)
    np.testing.assert_array_equal(
        run(isa, fastbatch.resize, la, (256, 256), filter="box"), run("scalar", fastbatch.resize, la, (256, 256), filter="box")
    )
