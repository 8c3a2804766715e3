"""resize / grayscale / fit_size on numpy arrays and PIL images.

This module only adapts inputs (PIL modes, threads=None) and hands the pixels to the compiled core,
which validates shapes, dtypes, sizes and names and does all the pixel work with the GIL released.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional, Tuple, Union, cast, overload

import numpy as np
from PIL import Image

from . import _core

__all__ = ["resize", "grayscale", "fit_size", "cover_crop", "FILTERS", "FITS", "WEIGHTS"]

FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos3")
WEIGHTS = ("bt601", "bt709")
FITS = ("contain", "cover", "fill")

Size = Tuple[int, int]
ArrayOrImage = Union[np.ndarray, Image.Image]

# PIL modes the core takes as they are, and the mode a result of each channel count comes back in.
_NATIVE_MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
_MODE_OF_CHANNELS = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


def _threads_arg(threads: Optional[int]) -> int:
    """0 tells the core to use every core; anything else must be a positive int."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be None (all cores) or an int >= 1, got {threads!r}")
    return int(threads)


def _size_side(side: object, size: object) -> int:
    """One side of a size pair as an int; bools and non-integers are refused (the message names the pair)."""
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)):
        raise TypeError(f"size must be a (width, height) pair of ints, got {size!r}")
    return int(side)


def _size_arg(size: object) -> Size:
    try:
        # Unpacking, not tuple(): an endless iterable fails after three items instead of hanging. The
        # cast only tells the checker that a non-iterable is handled by the except below.
        width, height = cast("Iterable[object]", size)
    except (TypeError, ValueError):
        raise TypeError(f"size must be a (width, height) pair of ints, got {size!r}") from None
    return _size_side(width, size), _size_side(height, size)


# Pillow allocates big images in blocks of 16 MiB rows, and only a one-block image can be exported
# (viewed in place); a larger block size makes every image below it one block. Raised once, for the
# whole process: it changes how Pillow groups its allocations, not what any image holds.
_SINGLE_BLOCK_BYTES = 1 << 30


def allow_in_place_pixels() -> None:
    """Let Pillow images up to 1 GiB be viewed in place by pil_pixels (raises Pillow's block size)."""
    core = getattr(Image, "core", None)
    get_size, set_size = getattr(core, "get_block_size", None), getattr(core, "set_block_size", None)
    if get_size is not None and set_size is not None and get_size() < _SINGLE_BLOCK_BYTES:
        set_size(_SINGLE_BLOCK_BYTES)


def pil_pixels(image: Image.Image) -> np.ndarray:
    """The pixels of a loaded L, RGB or RGBA image, read-only: viewed in place through Pillow's Arrow
    export when it has one (RGB is then a [..., :3] view of its 4-byte pixels, which the core reads
    without packing), else copied by np.asarray.

    Saves a copy of the whole image: about 60 ms and 36 MB for a 12-megapixel RGB photo.
    """
    if image.mode in ("L", "RGB", "RGBA"):
        try:
            view = _core.pillow_pixels(image, *image.size)
        except (AttributeError, ValueError):  # Pillow < 11.2 has no export; a multi-block image refuses it
            view = None
        if view is not None:
            return view[:, :, :3] if image.mode == "RGB" else view
    return np.asarray(image)


def packed(pixels: np.ndarray) -> np.ndarray:
    """uint8 (H, W) or (H, W, C) pixels as a C-contiguous array: themselves when they already are, else
    a copy made by the core, on the calling thread. numpy copies a strided view element by element:
    a transposed or flipped 1280x960 RGB (EXIF orientation) took it 11-13 ms against 2-4, and RGB seen
    in Pillow's 4-byte layout (pil_pixels) 43 ms for 6 megapixels against 9."""
    if pixels.flags.c_contiguous:
        return pixels
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    if pixels.dtype == np.uint8 and pixels.ndim in (2, 3) and channels <= 4 and pixels.size:
        return _core.copy(pixels, 1)
    return np.ascontiguousarray(pixels)


def _pil_to_array(image: Image.Image) -> np.ndarray:
    """The pixels of a PIL image as uint8 (H, W) or (H, W, C); other modes converted as documented."""
    mode = image.mode
    if mode not in _NATIVE_MODES:
        if mode == "P":
            has_alpha = "transparency" in image.info or image.palette is not None and image.palette.mode == "RGBA"
            image = image.convert("RGBA" if has_alpha else "RGB")
        elif mode in ("PA", "RGBa", "RGBX"):
            image = image.convert("RGBA" if mode != "RGBX" else "RGB")
        elif mode == "La":
            image = image.convert("LA")
        elif mode == "1":
            image = image.convert("L")
        elif mode in _SIXTEEN_BIT_MODES:
            # 16-bit grey scaled to 8 bits with rounding (v * 255 / 65535); Pillow's convert("L") clips instead.
            wide = np.asarray(image).astype(np.uint32)
            return ((wide + 128) // 257).astype(np.uint8)
        elif mode in ("CMYK", "YCbCr", "HSV", "LAB"):
            image = image.convert("RGB")
        else:
            raise ValueError(
                f"unsupported PIL image mode {mode!r}: fastbatch works on 8-bit L, LA, RGB, RGBA "
                "(and converts P, PA, 1, La, RGBa, CMYK, YCbCr, HSV, LAB and 16-bit I;16)"
            )
    return pil_pixels(image)


def _array_to_pil(array: np.ndarray) -> Image.Image:
    channels = 1 if array.ndim == 2 else array.shape[2]
    if array.ndim == 3 and channels == 1:
        array = array[:, :, 0]
    return Image.fromarray(array, _MODE_OF_CHANNELS[channels])


Box = Tuple[float, float, float, float]


@overload
def resize(
    image: np.ndarray, size: Size, *, filter: str = ..., threads: Optional[int] = ..., box: Optional[Box] = ...
) -> np.ndarray: ...
@overload
def resize(
    image: Image.Image, size: Size, *, filter: str = ..., threads: Optional[int] = ..., box: Optional[Box] = ...
) -> Image.Image: ...


def resize(
    image: ArrayOrImage,
    size: Size,
    *,
    filter: str = "lanczos3",
    threads: Optional[int] = None,
    box: Optional[Box] = None,
) -> ArrayOrImage:
    """Resize to exactly ``size`` = (width, height) with one of Pillow's filters.

    2- and 4-channel images are filtered premultiplied by alpha, as Pillow does. ``box`` = (left, top,
    right, bottom) in source pixels, fractions allowed, resizes that rectangle instead of the whole
    image (Pillow's ``Image.resize(box=...)``: pixels just outside it still weigh in at its edges).
    Returns a new C-contiguous uint8 array, or a PIL image when given one.
    """
    pixels = _pil_to_array(image) if isinstance(image, Image.Image) else image
    result = _core_resize(pixels, size, filter, threads, box, any_order=False)
    return _array_to_pil(result) if isinstance(image, Image.Image) else result


def _resize_any_order(
    pixels: np.ndarray, size: Size, *, filter: str, threads: Optional[int], box: Optional[Box] = None
) -> np.ndarray:
    """resize() of an array with the two passes in whichever order the core runs faster (the batch's
    default mode): the 8-bit intermediate is rounded at another stage, so pixels may differ from
    Pillow's by a few levels where resize() stays within 1."""
    return _core_resize(pixels, size, filter, threads, box, any_order=True)


def _core_resize(
    pixels: np.ndarray, size: Size, filter: str, threads: Optional[int], box: Optional[Box], *, any_order: bool
) -> np.ndarray:
    """The core call behind resize() and _resize_any_order(): a whole-image box when none is given
    and the order is free (the core's plain resize always takes Pillow's)."""
    width, height = _size_arg(size)
    nthreads = _threads_arg(threads)
    if box is None and not any_order:
        return _core.resize(pixels, width, height, filter, nthreads)
    if box is None:
        box = (0.0, 0.0, float(pixels.shape[1]), float(pixels.shape[0]))
    left, top, right, bottom = _box_arg(box)
    return _core.resize_box(pixels, width, height, left, top, right, bottom, filter, nthreads, any_order)


def _box_arg(box: object) -> Box:
    try:
        left, top, right, bottom = cast("Iterable[object]", box)
        return float(left), float(top), float(right), float(bottom)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"box must be (left, top, right, bottom) numbers, got {box!r}") from None


@overload
def grayscale(image: np.ndarray, *, weights: str = ..., threads: Optional[int] = ...) -> np.ndarray: ...
@overload
def grayscale(image: Image.Image, *, weights: str = ..., threads: Optional[int] = ...) -> Image.Image: ...


def grayscale(image: ArrayOrImage, *, weights: str = "bt601", threads: Optional[int] = None) -> ArrayOrImage:
    """(H, W, 3) -> (H, W); (H, W, 4) -> (H, W, 2) keeping alpha. Grey inputs come back as a copy.

    "bt601" is bit-exact with Pillow's convert("L"); "bt709" matches the Rust image crate's grayscale().
    """
    nthreads = _threads_arg(threads)
    if isinstance(image, Image.Image):
        return _array_to_pil(_core.grayscale(_pil_to_array(image), weights, nthreads))
    return _core.grayscale(image, weights, nthreads)


def _positive_box_side(value: object, name: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"box {name} must be an int >= 1 or None, got {value!r}")
    return int(value)


def fit_size(
    src_size: Size, box: Tuple[Optional[int], Optional[int]], *, fit: str = "contain", upscale: bool = True
) -> Size:
    """The output (width, height) for a source of ``src_size`` placed in ``box``.

    contain: the largest size with the source's aspect ratio inside the box (a None side is free).
    cover:   the box itself (the source is centre-cropped to its aspect, see cover_crop).
    fill:    the box itself, stretched.
    With upscale=False no side grows beyond the source. Every result is at least 1x1.
    """
    src_w, src_h = _size_arg(src_size)
    if src_w < 1 or src_h < 1:
        raise ValueError(f"src_size must be positive, got {src_size!r}")
    try:
        box_w_raw, box_h_raw = box
    except (TypeError, ValueError):
        raise TypeError(f"box must be a (width, height) pair, got {box!r}") from None
    box_w = _positive_box_side(box_w_raw, "width")
    box_h = _positive_box_side(box_h_raw, "height")
    if box_w is None and box_h is None:
        raise ValueError("box needs at least one side")
    if fit not in FITS:
        raise ValueError(f"unknown fit {fit!r}; expected one of {', '.join(FITS)}")

    if fit == "fill" and box_w is not None and box_h is not None:
        return (box_w, box_h) if upscale else (min(box_w, src_w), min(box_h, src_h))
    ratios = [r for r in (box_w / src_w if box_w else None, box_h / src_h if box_h else None) if r is not None]
    # contain: the binding (smaller) ratio; cover: the larger one, then the box clips the overflow.
    scale = max(ratios) if fit == "cover" and len(ratios) == 2 else min(ratios)
    if not upscale:
        scale = min(scale, 1.0)
    # A side whose ratio is the scale is exactly the box side; the other follows the aspect ratio.
    width = box_w if box_w is not None and scale == box_w / src_w else max(1, round(src_w * scale))
    height = box_h if box_h is not None and scale == box_h / src_h else max(1, round(src_h * scale))
    if fit == "cover" and box_w is not None and box_h is not None:
        width, height = min(width, box_w), min(height, box_h)
    return width, height


def cover_crop(src_size: Size, out_size: Size) -> Tuple[int, int, int, int]:
    """The centred (left, top, right, bottom) region of the source with the aspect ratio of out_size."""
    src_w, src_h = _size_arg(src_size)
    out_w, out_h = _size_arg(out_size)
    if src_w * out_h > out_w * src_h:  # source is wider: crop the sides
        crop_w = max(1, min(src_w, round(src_h * out_w / out_h)))
        left = (src_w - crop_w) // 2
        return left, 0, left + crop_w, src_h
    crop_h = max(1, min(src_h, round(src_w * out_h / out_w)))
    top = (src_h - crop_h) // 2
    return 0, top, src_w, top + crop_h
