"""Types for fastbatch._core, the compiled module built from csrc/bindings/module.cpp.

Written by hand to follow the bindings one for one (names, order, keyword-capable parameters, no
defaults) and checked against the built module by ``python -m mypy.stubtest fastbatch._core`` plus the
docstring-signature check in .ci/typecheck.sh. When a binding changes, change this file with it.

Integer parameters are ``SupportsIndex`` rather than the ``SupportsInt | SupportsIndex`` pybind11
writes in its docstrings: pybind11 refuses floats (which have ``__int__``), so ``SupportsIndex``
(int, bool, numpy integers) is what the module really accepts and lets a checker catch ``width=2.5``.

``image`` is typed as the uint8 array the core accepts without raising. At run time any object is
taken and checked there: a non-array or another dtype raises TypeError, a bad shape ValueError.
"""

from typing import Sequence, SupportsIndex

import numpy as np
import numpy.typing as npt

def resize(
    image: npt.NDArray[np.uint8],
    width: SupportsIndex,
    height: SupportsIndex,
    filter: str,
    threads: SupportsIndex,
) -> npt.NDArray[np.uint8]:
    """Resize a uint8 (H, W) or (H, W, C) array to width x height. threads=0 uses every core."""

def resize_box(
    image: npt.NDArray[np.uint8],
    width: SupportsIndex,
    height: SupportsIndex,
    left: float,
    top: float,
    right: float,
    bottom: float,
    filter: str,
    threads: SupportsIndex,
    any_order: bool,
) -> npt.NDArray[np.uint8]:
    """Resize the source rectangle (left, top, right, bottom) to width x height, like Pillow's resize(box=...).

    any_order=True lets the passes run in the faster order (no longer within 1 of Pillow)."""

def grayscale(image: npt.NDArray[np.uint8], weights: str, threads: SupportsIndex) -> npt.NDArray[np.uint8]:
    """RGB -> L, RGBA -> LA (alpha kept); 1- and 2-channel images are copied. threads=0 uses every core."""

def copy(image: npt.NDArray[np.uint8], threads: SupportsIndex) -> npt.NDArray[np.uint8]:
    """A C-contiguous copy of a uint8 (H, W) or (H, W, C) array of any strides. threads=0 uses every core."""

def flatten(
    image: npt.NDArray[np.uint8], background: Sequence[SupportsIndex], threads: SupportsIndex
) -> npt.NDArray[np.uint8]:
    """LA -> L or RGBA -> RGB over an opaque background (1 or 3 values): (c*a + b*(255-a) + 127) // 255."""

def available_isas() -> list[str]:
    """Kernel tables this build has and this CPU runs, best last."""

def active_isa() -> str:
    """The kernel table in use."""

def select_isa(name: str) -> None:
    """Force a kernel table (tests and benchmarks). Not safe while other calls run."""

def pillow_pixels(image: object, width: SupportsIndex, height: SupportsIndex) -> npt.NDArray[np.uint8] | None:
    """A read-only view of a PIL image's pixels through its Arrow export, or None when unsupported."""

def unpremultiply_pixels(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The active kernel table's un-premultiply of (n, 2) or (n, 4) uint8 pixels (tests)."""
