"""Image files in and out through Pillow, for the batch tool.

Reading: the header is checked (pixel limit) before any pixel is decoded; only the first frame is
used; every mode becomes 8-bit L, LA, RGB or RGBA as a numpy array in the file's stored orientation,
with the EXIF orientation, the ICC profile and the EXIF block kept beside the pixels. The orientation
is applied later through numpy views (see ``orient``), so the crop and the resize can run on the
stored pixels without a full-size rotated copy.

Writing: atomic (a temporary file in the target folder, fsync, then os.replace), so a failed or
interrupted write never leaves a partial output; format options; alpha flattened for formats
without alpha; metadata written only while it still describes the pixels.

Every failure is raised as ImageReadError / ImageWriteError whose str() is a one-line reason.
"""

from __future__ import annotations

import importlib
import io as _bytes_io
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Tuple, Union

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError, features

from . import _core, ops

__all__ = [
    "ImageReadError",
    "TooManyPixelsError",
    "ImageWriteError",
    "ImageHeader",
    "DecodedImage",
    "EncodeOptions",
    "default_max_pixels",
    "read_header",
    "decode",
    "DCT_SCALES",
    "decode_scale",
    "needs_srgb_conversion",
    "convert_to_srgb",
    "encode",
    "orient",
    "unorient",
    "unorient_box",
    "output_format_for_suffix",
    "writable_formats",
    "is_offered_format",
    "suffix_for_format",
    "FORMATS_WITH_ALPHA",
]

PathLike = Union[str, "os.PathLike[str]"]

_ORIENTATION_TAG = 0x0112
_EXIF_IFD_TAG = 0x8769
_PIXEL_X_DIMENSION = 0xA002
_PIXEL_Y_DIMENSION = 0xA003
# IFD0 tags that describe how the *source's* pixels are stored: a TIFF's getexif() is its own image
# IFD, so they come along, and a TIFF written with them takes the source's size and strip offsets
# (an unreadable file). EXIF forbids them for compressed images anyway. Subfile type, width, length,
# bits per sample, compression, photometric, fill order, strip offsets, samples per pixel, rows per
# strip, strip byte counts, planar configuration, predictor, colour map, tile width/length/offsets/
# byte counts, extra samples, sample format, JPEG tables, JPEG thumbnail offset/length, YCbCr
# subsampling.
_STORAGE_TAGS = (0x00FE, 0x00FF, 0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x010A, 0x0111, 0x0115, 0x0116, 0x0117,
                 0x011C, 0x013D, 0x0140, 0x0142, 0x0143, 0x0144, 0x0145, 0x0152, 0x0153, 0x015B, 0x0201, 0x0202,
                 0x0212)
# EXIF orientations 5..8 swap width and height.
TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)
# 6 and 8 are quarter turns in opposite directions; every other orientation undoes itself.
_INVERSE_ORIENTATION = {6: 8, 8: 6}

# Formats that store an alpha channel; any other output is flattened onto the background colour.
FORMATS_WITH_ALPHA = frozenset({"PNG", "WEBP", "AVIF", "TIFF"})
# A JPEG APP1 segment holds at most 65533 bytes, "Exif\0\0" included; a bigger block cannot be written.
_JPEG_MAX_EXIF = 65533 - 6
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_DEFAULT_QUALITY = {"JPEG": 90, "WEBP": 90}
# Canonical suffixes for the formats a user names with --format; others use Pillow's first extension.
_PREFERRED_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "AVIF": ".avif", "TIFF": ".tif", "BMP": ".bmp"}

# Read once at import: mkstemp creates 0600 files, and outputs should get the usual 0666 & ~umask.
_UMASK = os.umask(0)
os.umask(_UMASK)


class ImageReadError(Exception):
    """A file could not be read as an image. str() is a one-line reason without the path."""


class TooManyPixelsError(ImageReadError):
    """The header announces more pixels than the limit allows; nothing was decoded."""


class ImageWriteError(Exception):
    """An output could not be written; no partial file was left. str() is a one-line reason."""


def default_max_pixels() -> Optional[int]:
    """Pillow's error threshold (twice Image.MAX_IMAGE_PIXELS), read now so a changed limit counts."""
    limit = Image.MAX_IMAGE_PIXELS
    return None if limit is None else 2 * int(limit)


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ImageHeader:
    """What a file says about itself before any pixel is decoded."""

    format: Optional[str]
    mode: str
    stored_size: Tuple[int, int]  # (width, height) as stored in the file
    orientation: int  # EXIF orientation 1..8; 1 when absent or invalid
    frames: int

    @property
    def size(self) -> Tuple[int, int]:
        """(width, height) as displayed, i.e. after the EXIF orientation."""
        width, height = self.stored_size
        return (height, width) if self.orientation in TRANSPOSING_ORIENTATIONS else (width, height)

    @property
    def pixels(self) -> int:
        return self.stored_size[0] * self.stored_size[1]


@dataclass
class DecodedImage:
    """Decoded pixels plus the metadata needed to place and describe them."""

    pixels: np.ndarray  # uint8 (H, W) or (H, W, 2|3|4), stored orientation
    orientation: int
    icc_profile: Optional[bytes]  # describes `pixels`; None means sRGB is assumed
    exif: Optional[Image.Exif]
    format: Optional[str]
    # The file's own (width, height) as stored. When the decoder shrank on load, ``pixels`` is smaller:
    # ceil(stored / scale) per side, each pixel the average of a scale x scale block of the original.
    stored_size: Tuple[int, int] = (0, 0)
    scale: int = 1


# The reductions a JPEG decoder can apply for free while decoding (libjpeg's scaled inverse DCT).
DCT_SCALES = (8, 4, 2, 1)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return text or type(error).__name__


@contextmanager
def _open_image(path: PathLike) -> Iterator[Image.Image]:
    """Image.open with every way a header can fail turned into an ImageReadError."""
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as error:
        raise TooManyPixelsError(f"too many pixels ({_describe(error)})") from None
    except Image.DecompressionBombWarning as error:  # only reaches here when warnings are errors
        raise TooManyPixelsError(f"too many pixels ({_describe(error)})") from None
    except UnidentifiedImageError:
        reason = "empty file" if _file_size(path) == 0 else "not an image or an unsupported format"
        raise ImageReadError(reason) from None
    except FileNotFoundError:
        raise ImageReadError("file not found") from None
    except IsADirectoryError:
        raise ImageReadError("not a regular file") from None
    except PermissionError:
        raise ImageReadError("permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageReadError(f"unreadable header: {_describe(error)}") from None
    with image:
        yield image


def _file_size(path: PathLike) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


def _orientation_of(image: Image.Image) -> int:
    """The EXIF orientation, read without decoding pixels.

    PNG keeps EXIF in a chunk Pillow only finds by decoding when it follows the pixel data, so for PNG
    only an EXIF block seen in the header counts; other formats parse theirs on open.
    """
    try:
        if image.format == "PNG":
            raw = image.info.get("exif")
            if not raw:
                return 1
            exif = Image.Exif()
            exif.load(raw)
        else:
            exif = image.getexif()
        value = exif.get(_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not make the pixels unreadable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _check_pixels(image: Image.Image, max_pixels: Optional[int]) -> None:
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        raise TooManyPixelsError(f"too many pixels: {width}x{height} = {width * height} > limit {max_pixels}")


def _header_of(image: Image.Image) -> ImageHeader:
    return ImageHeader(
        format=image.format,
        mode=image.mode,
        stored_size=image.size,
        orientation=_orientation_of(image),
        frames=_frame_count(image),
    )


def _frame_count(image: Image.Image) -> int:
    # n_frames walks every frame's header: a broken later frame (fuzzing found a TIFF whose second
    # IFD has no dimensions: TypeError) must not fail the first, the only one used.
    try:
        return int(getattr(image, "n_frames", 1))
    except Exception:
        return 1


def read_header(path: PathLike, *, max_pixels: Optional[int]) -> ImageHeader:
    """Open ``path``, read its header, check the pixel limit (None = no limit of ours), close."""
    with _open_image(path) as image:
        _check_pixels(image, max_pixels)
        return _header_of(image)


def _profile(icc_profile: bytes) -> Optional[ImageCms.ImageCmsProfile]:
    try:
        return ImageCms.ImageCmsProfile(_bytes_io.BytesIO(icc_profile))
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return None


def _colour_space(icc_profile: Optional[bytes]) -> Optional[str]:
    """'RGB', 'GRAY', 'CMYK', ... from the profile header; None when absent or unreadable."""
    if not icc_profile:
        return None
    profile = _profile(icc_profile)
    return None if profile is None else profile.profile.xcolor_space.strip()


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    # Every sRGB profile in the wild names itself so ("sRGB IEC61966-2.1", "sRGB built-in", ...).
    try:
        description = ImageCms.getProfileDescription(profile)
    except ImageCms.PyCMSError:
        return False
    return "srgb" in description.lower()


def _cmyk_to_rgb(image: Image.Image, icc_profile: Optional[bytes]) -> Image.Image:
    """CMYK through its own profile when it has one (Pillow's formula ignores ink behaviour)."""
    profile = _profile(icc_profile) if icc_profile else None
    if profile is not None and profile.profile.xcolor_space.strip() == "CMYK":
        try:
            converted = ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return converted
        except ImageCms.PyCMSError:
            pass
    return image.convert("RGB")


def _to_array(image: Image.Image, icc_profile: Optional[bytes]) -> Tuple[np.ndarray, Optional[bytes]]:
    """8-bit L/LA/RGB/RGBA pixels of a loaded image, and the profile that still describes them."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return ops.pil_pixels(image), icc_profile  # in place where Pillow allows, else a copy
    if mode in _SIXTEEN_BIT_MODES:
        # 16-bit grey scaled to 8 bits with rounding (v * 255 / 65535) like fastbatch.ops; Pillow clips.
        wide = np.clip(np.asarray(image).astype(np.int64), 0, 65535)
        return ((wide + 128) // 257).astype(np.uint8), icc_profile
    if mode == "CMYK":
        return np.asarray(_cmyk_to_rgb(image, icc_profile)), None
    if mode == "P":
        # "transparency" covers both a tRNS chunk and GIF's transparent index.
        has_alpha = "transparency" in image.info or (image.palette is not None and image.palette.mode == "RGBA")
        return np.asarray(image.convert("RGBA" if has_alpha else "RGB")), icc_profile
    conversions = {"1": "L", "La": "LA", "PA": "RGBA", "RGBa": "RGBA", "RGBX": "RGB", "YCbCr": "RGB", "HSV": "RGB"}
    if mode in conversions:
        return np.asarray(image.convert(conversions[mode])), icc_profile
    raise ImageReadError(f"unsupported mode {mode}")


def _is_non_srgb_rgb(icc_profile: Optional[bytes]) -> bool:
    """True when the profile describes RGB other than sRGB (its pixels need converting before grey)."""
    if not icc_profile:
        return False
    profile = _profile(icc_profile)
    return profile is not None and profile.profile.xcolor_space.strip() == "RGB" and not _is_srgb(profile)


def decode_scale(header: ImageHeader, max_reduction: int) -> int:
    """The factor by which decode() will shrink this file when allowed ``max_reduction``: a JPEG DCT
    scale (8, 4, 2) when the file is a single-frame JPEG, else 1."""
    if header.format != "JPEG" or header.frames != 1:
        return 1
    return next(s for s in DCT_SCALES if s <= max(1, max_reduction))


def _draft(image: Image.Image, header: ImageHeader, max_reduction: int, grey: bool) -> int:
    """Let a JPEG decoder shrink by a DCT scale <= max_reduction and/or emit luma only; the scale used.

    Only JPEG can do either for free. Luma is taken only when it is what grey would compute anyway:
    a YCbCr (Pillow mode RGB) file whose profile, if any, is sRGB; the Y plane then is Rec.601 luma
    of the stored RGB, which is Pillow's convert("L") up to rounding.
    """
    if image.format != "JPEG" or header.frames != 1:
        return 1
    scale = decode_scale(header, max_reduction)
    want_luma = grey and image.mode == "RGB" and not _is_non_srgb_rgb(image.info.get("icc_profile"))
    if scale == 1 and not want_luma:
        return 1
    width, height = image.size
    # draft() picks the largest DCT scale s with min(width // w, height // h) >= s, so asking for
    # (width // scale, height // scale) yields exactly ``scale``: (width // scale) * scale <= width.
    request = (max(1, width // scale), max(1, height // scale)) if scale > 1 else None
    image.draft("L" if want_luma else None, request)
    used = image.decoderconfig[0] if getattr(image, "decoderconfig", None) else 1
    return int(used) if used in DCT_SCALES else 1


def _webp_first_frame(image: Image.Image) -> Optional[np.ndarray]:
    """A WebP file's first frame as a read-only view of the bytes its decoder returns, or None to load
    the usual way.

    Pillow's load() copies those bytes into a new image while its decoder still holds its own canvas:
    three full-size copies at once (an 8 MP WebP peaked at 140 MB). The view keeps two and skips the
    copy. It uses Pillow's private WebPImageFile._get_next, checked for the shape it returns; anything
    else loads normally. RGB comes as 4-byte pixels, which the core reads in place.
    """
    get_next = getattr(image, "_get_next", None)
    rawmode = getattr(image, "rawmode", None)
    if image.format != "WEBP" or get_next is None or rawmode not in ("RGBX", "RGBA") or image.tell() != 0:
        return None
    width, height = image.size
    result = get_next()
    data = result[0] if isinstance(result, tuple) and result else None
    if not isinstance(data, bytes) or len(data) != width * height * 4:
        return None  # load() sees the decoder one frame on and rewinds it
    pixels = np.frombuffer(data, np.uint8).reshape(height, width, 4)
    return pixels[..., :3] if rawmode == "RGBX" else pixels


def decode(
    path: PathLike,
    *,
    max_pixels: Optional[int],
    max_reduction: Union[int, Callable[[ImageHeader], int]] = 1,
    grey: bool = False,
) -> DecodedImage:
    """Decode the first frame of ``path`` after checking the pixel limit from its header.

    max_pixels: None = no limit of ours (Pillow's own Image.MAX_IMAGE_PIXELS check still runs on open).
    max_reduction: the largest integer factor by which the caller allows the decoder to shrink the
    stored image (or a function of the header giving it); JPEG then decodes at 1/2, 1/4 or 1/8 scale,
    no more than allowed. grey=True says only bt601 grey is wanted, so a JPEG may decode its luma
    plane alone. Both are hints: ``result.scale`` and the mode of ``result.pixels`` say what was done.
    The pixels stay in the stored orientation; ``orient(pixels, result.orientation)`` displays them.
    """
    ops.allow_in_place_pixels()  # decoded pixels then go to the core without a copy
    with _open_image(path) as image:
        _check_pixels(image, max_pixels)
        header = _header_of(image)
        allowed = max_reduction(header) if callable(max_reduction) else max_reduction
        scale = _draft(image, header, int(allowed), grey) if allowed > 1 or grey else 1
        try:
            frame = _webp_first_frame(image)
            if frame is None:
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise TooManyPixelsError(f"too many pixels ({_describe(error)})") from None
        except MemoryError:
            raise ImageReadError("out of memory while decoding") from None
        except Exception as error:  # Pillow's decoders raise OSError, SyntaxError, ValueError, zlib/struct errors
            raise ImageReadError(f"truncated or corrupt: {_describe(error)}") from None
        icc_profile = image.info.get("icc_profile") or None
        if image.mode == "L" and header.mode != "L":
            icc_profile = None  # luma decoded from colour: an RGB profile no longer describes the pixels
        try:
            exif = image.getexif()
        except Exception:  # a broken EXIF block is dropped, the pixels are still good
            exif = None
        pixels, icc_profile = (frame, icc_profile) if frame is not None else _to_array(image, icc_profile)
        return DecodedImage(
            pixels=pixels,
            orientation=header.orientation,
            icc_profile=icc_profile,
            exif=exif if exif is not None and len(exif) else None,
            format=image.format,
            stored_size=header.stored_size,
            scale=scale,
        )


def needs_srgb_conversion(pixels: np.ndarray, icc_profile: Optional[bytes]) -> bool:
    """True when RGB(A) pixels carry an RGB profile other than sRGB (so grey needs a conversion first)."""
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        return False
    return _is_non_srgb_rgb(icc_profile)


def convert_to_srgb(pixels: np.ndarray, icc_profile: Optional[bytes]) -> Tuple[np.ndarray, Optional[bytes]]:
    """RGB(A) pixels described by a non-sRGB RGB profile, converted to sRGB (alpha untouched).

    Returns the pixels and the profile that now describes them: unchanged when there is nothing to
    convert, None (sRGB assumed) after a conversion or when the profile cannot be used.
    """
    if not icc_profile or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        return pixels, icc_profile
    profile = _profile(icc_profile)
    if profile is None or profile.profile.xcolor_space.strip() != "RGB":
        return pixels, None  # a profile that does not describe RGB pixels says nothing useful about them
    if _is_srgb(profile):
        return pixels, icc_profile
    mode = "RGB" if pixels.shape[2] == 3 else "RGBA"
    image = Image.fromarray(ops.packed(pixels), mode)
    try:
        converted = ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"), outputMode=mode)
    except ImageCms.PyCMSError as error:
        raise ImageReadError(f"cannot apply the ICC profile: {_describe(error)}") from None
    assert converted is not None  # inPlace=False always returns an image
    return np.asarray(converted), None


# --------------------------------------------------------------------------------------- orientation


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """A view of stored pixels as displayed under EXIF ``orientation`` (no copy; strides change)."""
    swapped = array.swapaxes(0, 1)
    views = {
        2: lambda: array[:, ::-1],
        3: lambda: array[::-1, ::-1],
        4: lambda: array[::-1],
        5: lambda: swapped,
        6: lambda: swapped[:, ::-1],
        7: lambda: swapped[::-1, ::-1],
        8: lambda: swapped[::-1],
    }
    view = views.get(orientation)
    return array if view is None else view()


def unorient(array: np.ndarray, orientation: int) -> np.ndarray:
    """The inverse of ``orient``: displayed pixels back in stored orientation (a view)."""
    return orient(array, _INVERSE_ORIENTATION.get(orientation, orientation))


# (transposed, rows flipped, columns flipped) of each view ``orient`` builds: transpose first, then flips.
_ORIENTATION_STEPS = {
    1: (False, False, False), 2: (False, False, True), 3: (False, True, True), 4: (False, True, False),
    5: (True, False, False), 6: (True, False, True), 7: (True, True, True), 8: (True, True, False),
}


def unorient_box(box: Tuple[int, int, int, int], size: Tuple[int, int], orientation: int) -> Tuple[int, int, int, int]:
    """A (left, top, right, bottom) box of the displayed image of ``size`` as the same pixels' box in
    the stored image: ``orient(stored, o)[t:b, l:r]`` is ``orient(stored[T:B, L:R], o)``."""
    left, top, right, bottom = box
    width, height = size
    transposed, rows_flipped, columns_flipped = _ORIENTATION_STEPS.get(orientation, (False, False, False))
    if columns_flipped:
        left, right = width - right, width - left
    if rows_flipped:
        top, bottom = height - bottom, height - top
    return (top, left, bottom, right) if transposed else (left, top, right, bottom)


# -------------------------------------------------------------------------------------------- writing


# The plugins of the formats fastbatch offers, imported on demand. Image.init() imports all of
# Pillow's ~40 plugins: 38 ms on top of the 32 ms of the common ones every Image.open loads, about a
# tenth of a 14-JPEG batch, which never needs them.
_OFFERED_PLUGINS = ("JpegImagePlugin", "PngImagePlugin", "WebPImagePlugin", "TiffImagePlugin", "BmpImagePlugin",
                    "AvifImagePlugin")


def _load_offered_plugins() -> None:
    Image.preinit()
    for name in _OFFERED_PLUGINS:
        try:
            importlib.import_module("PIL." + name)
        except ImportError:  # AVIF: Pillow < 11.3 has no such plugin
            pass


_OFFERED_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "TIFF", "BMP")


def writable_formats() -> Tuple[str, ...]:
    """Pillow format names this build can save that fastbatch offers (AVIF only when compiled in)."""
    _load_offered_plugins()
    avif = features.check("avif")
    return tuple(name for name in _OFFERED_FORMATS if name in Image.SAVE and (name != "AVIF" or avif))


def is_offered_format(format_name: str) -> bool:
    """Whether ``format_name`` (as output_format_for_suffix returns it) is one fastbatch offers."""
    return format_name in _OFFERED_FORMATS


def output_format_for_suffix(suffix: str) -> Optional[str]:
    """The Pillow format that saves files ending in ``suffix`` (".JPG" -> "JPEG"); None when none can."""
    Image.preinit()  # JPEG and PNG, which every Image.open loads anyway
    name = Image.EXTENSION.get(suffix.lower())
    if name is None:
        _load_offered_plugins()
        name = Image.EXTENSION.get(suffix.lower())
    if name is None:  # another format: only now every plugin
        name = Image.registered_extensions().get(suffix.lower())
    if name is None or name not in Image.SAVE:
        return None
    if name == "AVIF" and not features.check("avif"):
        return None
    return name


def suffix_for_format(format_name: str) -> str:
    preferred = _PREFERRED_SUFFIX.get(format_name)
    if preferred:
        return preferred
    for suffix, name in Image.registered_extensions().items():
        if name == format_name:
            return suffix
    raise ValueError(f"no file suffix known for format {format_name!r}")


@dataclass(frozen=True)
class EncodeOptions:
    """How to write one output. ``format`` is a Pillow format name ("JPEG", "PNG", ...)."""

    format: str
    quality: Optional[int] = None  # JPEG / WebP / AVIF; None = 90 for JPEG and WebP, Pillow's default otherwise
    png_compression: int = 1  # zlib level 0-9; 1 is several times faster than Pillow's 6 for a few % more bytes
    background: Tuple[int, int, int] = (255, 255, 255)  # alpha is flattened onto this where it cannot be kept
    strip: bool = False  # drop EXIF and ICC


def _flatten(pixels: np.ndarray, background: Tuple[int, int, int]) -> np.ndarray:
    """Composite LA / RGBA (straight alpha) over an opaque background colour, in the core:
    (c * a + b * (255 - a) + 127) // 255 per channel."""
    if pixels.shape[2] == 2:
        red, green, blue = background
        # Pillow's convert("L") weights, so a grey output gets the grey of the colour asked for.
        backdrop = [(red * 19595 + green * 38470 + blue * 7471 + 0x8000) >> 16]
    else:
        backdrop = list(background)
    return _core.flatten(pixels, backdrop, 1)


def _exif_for_output(exif: Image.Exif, size: Tuple[int, int]) -> Optional[bytes]:
    """The source EXIF with the orientation and the source's storage tags removed (the pixels are new
    and upright) and the sizes updated."""
    try:
        updated = Image.Exif()
        updated.load(exif.tobytes())
        for tag in (_ORIENTATION_TAG, *_STORAGE_TAGS):
            updated.pop(tag, None)
        sub_ifd = updated.get_ifd(_EXIF_IFD_TAG)
        if _PIXEL_X_DIMENSION in sub_ifd:
            sub_ifd[_PIXEL_X_DIMENSION] = size[0]
        if _PIXEL_Y_DIMENSION in sub_ifd:
            sub_ifd[_PIXEL_Y_DIMENSION] = size[1]
        return updated.tobytes()
    except Exception:  # EXIF that Pillow cannot round-trip is dropped rather than failing the image
        return None


def _save_parameters(
    options: EncodeOptions, mode: str, size: Tuple[int, int], icc_profile: Optional[bytes], exif: Optional[Image.Exif]
) -> dict:
    fmt = options.format
    params: dict = {}
    if fmt == "PNG":
        params["compress_level"] = options.png_compression
    elif fmt in ("JPEG", "WEBP", "AVIF"):
        quality = options.quality if options.quality is not None else _DEFAULT_QUALITY.get(fmt)
        if quality is not None:
            params["quality"] = quality
    if options.strip or fmt not in ("JPEG", "PNG", "WEBP", "AVIF", "TIFF"):
        return params
    # A profile is written only when it describes the written pixels: never an RGB profile on grey.
    wanted_space = "GRAY" if mode in ("L", "LA") else "RGB"
    if icc_profile and _colour_space(icc_profile) == wanted_space:
        params["icc_profile"] = icc_profile
    if exif is not None:
        exif_bytes = _exif_for_output(exif, size)
        if exif_bytes and not (fmt == "JPEG" and len(exif_bytes) > _JPEG_MAX_EXIF):
            params["exif"] = exif_bytes
    return params


def _open_unnamed(folder: Path) -> Optional[int]:
    """An O_TMPFILE descriptor in ``folder``, or None where the OS or file system has none."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, flag | os.O_WRONLY, 0o666)
    except OSError:
        return None  # EOPNOTSUPP / EISDIR / EINVAL: no O_TMPFILE here; real errors recur with mkstemp


def _link_into_place(fd: int, dst: Path) -> Optional[str]:
    """Give the complete unnamed file ``fd`` a name: ``dst`` itself when it is free (atomic, nothing
    visible before), else a hidden temporary name (returned) for the caller to rename over ``dst``."""
    # A dir_fd makes Python call linkat(AT_SYMLINK_FOLLOW); plain link() would link the /proc
    # symlink itself (EXDEV) instead of the file it points to.
    proc_fds = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            os.link(str(fd), dst, src_dir_fd=proc_fds, follow_symlinks=True)
            return None
        except FileExistsError:
            pass
        for _ in range(100):
            temp_name = os.path.join(dst.parent, f".{dst.name}.{os.urandom(6).hex()}.fastbatch-tmp")
            try:
                os.link(str(fd), temp_name, src_dir_fd=proc_fds, follow_symlinks=True)
                return temp_name
            except FileExistsError:
                continue
        raise FileExistsError(f"no free temporary name for {dst}")
    finally:
        os.close(proc_fds)


def encode(
    pixels: np.ndarray,
    dst: PathLike,
    options: EncodeOptions,
    *,
    icc_profile: Optional[bytes] = None,
    exif: Optional[Image.Exif] = None,
) -> None:
    """Write uint8 (H, W) / (H, W, 2|3|4) pixels to ``dst`` atomically.

    The bytes go to an unnamed file in ``dst``'s folder (or, without O_TMPFILE, a hidden temporary
    file), are flushed to disk and only then get ``dst``'s name; on any error nothing is left behind
    and ImageWriteError is raised.
    """
    dst = Path(dst)
    if pixels.ndim == 3 and pixels.shape[2] in (2, 4) and options.format not in FORMATS_WITH_ALPHA:
        pixels = _flatten(pixels, options.background)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
    image = Image.fromarray(np.ascontiguousarray(pixels.reshape(pixels.shape[:2]) if channels == 1 else pixels), mode)
    params = _save_parameters(options, mode, image.size, icc_profile, exif)

    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImageWriteError(f"cannot create folder {dst.parent}: {error.strerror or _describe(error)}") from None
    # Linux: an unnamed file (O_TMPFILE) that gets a name only once complete, so even a SIGKILL
    # mid-write leaves nothing behind (a named temporary file would stay). Elsewhere, or on a file
    # system without O_TMPFILE, a hidden named temporary file renamed into place.
    anonymous = _open_unnamed(dst.parent)
    temp_name: Optional[str] = None
    try:
        if anonymous is not None:
            fd = anonymous
        else:
            fd, temp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".fastbatch-tmp", dir=dst.parent)
    except OSError as error:
        raise ImageWriteError(f"cannot write in {dst.parent}: {error.strerror or _describe(error)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format=options.format, **params)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), 0o666 & ~_UMASK)
            if anonymous is not None:
                temp_name = _link_into_place(handle.fileno(), dst)
        if temp_name is not None:
            os.replace(temp_name, dst)
    except BaseException as error:
        try:
            if temp_name is not None:
                os.unlink(temp_name)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise ImageWriteError(f"cannot write {dst}: {error.strerror or _describe(error)}") from None
        if isinstance(error, (ValueError, KeyError, TypeError)):  # Pillow's "cannot write mode X as Y" and co.
            raise ImageWriteError(f"cannot encode {options.format}: {_describe(error)}") from None
        raise
