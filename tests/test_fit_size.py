"""fit_size: the geometry of contain / cover / fill, with and without upscaling."""

from __future__ import annotations

import pytest

from fastbatch import fit_size
from fastbatch.ops import cover_crop


@pytest.mark.parametrize(
    ("src", "box", "fit", "upscale", "expected"),
    [
        ((4000, 3000), (300, 300), "contain", True, (300, 225)),
        ((3000, 4000), (300, 300), "contain", True, (225, 300)),
        ((100, 50), (300, 300), "contain", True, (300, 150)),
        ((100, 50), (300, 300), "contain", False, (100, 50)),
        ((5000, 1), (300, 300), "contain", True, (300, 1)),  # never below 1x1
        ((1, 5000), (300, 300), "contain", True, (1, 300)),
        ((4000, 3000), (300, None), "contain", True, (300, 225)),
        ((4000, 3000), (None, 300), "contain", True, (400, 300)),
        ((4000, 3000), (300, 300), "cover", True, (300, 300)),
        ((200, 100), (300, 300), "cover", False, (200, 100)),
        ((400, 150), (300, 200), "cover", False, (300, 150)),
        ((4000, 3000), (300, 200), "fill", True, (300, 200)),
        ((100, 500), (300, 200), "fill", False, (100, 200)),
        ((1920, 1080), (1280, 1280), "contain", True, (1280, 720)),
    ],
)
def test_fit_size(src, box, fit, upscale, expected) -> None:  # type: ignore[no-untyped-def]
    assert fit_size(src, box, fit=fit, upscale=upscale) == expected


def test_cover_crop_is_centred_with_the_output_aspect() -> None:
    assert cover_crop((400, 300), (300, 300)) == (50, 0, 350, 300)
    assert cover_crop((300, 400), (300, 300)) == (0, 50, 300, 350)
    assert cover_crop((400, 300), (400, 300)) == (0, 0, 400, 300)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (((100, 100), (0, 5)), {}, "box width must be an int >= 1 or None, got 0"),
        (((100, 100), (None, None)), {}, "box needs at least one side"),
        (((100, 100), (5, 5)), {"fit": "stretch"}, "unknown fit 'stretch'; expected one of contain, cover, fill"),
        (((0, 100), (5, 5)), {}, "src_size must be positive, got (0, 100)"),
    ],
)
def test_fit_size_errors(args, kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_size(*args, **kwargs)
