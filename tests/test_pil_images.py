"""PIL images in, PIL images out; other modes converted as documented."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import fastbatch
from images import MODES, max_abs_diff, photo


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_native_modes_round_trip(channels: int) -> None:
    img = Image.fromarray(photo(60, 80, channels), MODES[channels])
    out = fastbatch.resize(img, (31, 17))
    assert isinstance(out, Image.Image) and out.mode == img.mode and out.size == (31, 17)
    ref = img.resize((31, 17), Image.Resampling.LANCZOS)
    assert max_abs_diff(np.asarray(out)[..., -1] if channels in (2, 4) else np.asarray(out),
                        np.asarray(ref)[..., -1] if channels in (2, 4) else np.asarray(ref)) <= 1


def test_palette_with_transparency_becomes_rgba() -> None:
    img = Image.fromarray(photo(40, 40, 3)).convert("P")
    img.info["transparency"] = 0
    assert fastbatch.resize(img, (10, 10)).mode == "RGBA"


def test_palette_without_transparency_becomes_rgb() -> None:
    img = Image.fromarray(photo(40, 40, 3)).convert("P")
    assert fastbatch.resize(img, (10, 10)).mode == "RGB"


@pytest.mark.parametrize(("mode", "expected"), [("1", "L"), ("CMYK", "RGB"), ("YCbCr", "RGB"), ("PA", "RGBA"), ("La", "LA")])
def test_other_modes(mode: str, expected: str) -> None:
    img = Image.fromarray(photo(20, 30, 3)).convert(mode) if mode != "La" else Image.new("La", (30, 20))
    out = fastbatch.resize(img, (15, 10))
    assert out.mode == expected and out.size == (15, 10)


def test_sixteen_bit_is_scaled_to_eight_bits_with_rounding() -> None:
    values = np.array([[0, 128, 129, 257, 32896, 65535, 65278]], np.uint16)
    img = Image.frombytes("I;16", (7, 1), values.astype("<u2").tobytes())
    out = fastbatch.resize(img, (7, 1))
    assert out.mode == "L"
    np.testing.assert_array_equal(np.asarray(out), [[0, 0, 1, 1, 128, 255, 254]])
