"""A folder (or one file) of images in, resized / grey images out: discovery, naming, scheduling, report.

The batch runs in four steps, and nothing is written before the third is done:

1. discover  the input files (extension filter, optional recursion, symlink loops and non-files handled);
2. probe     every header (in parallel): pixel count for the scheduler, displayed size for the names;
3. plan      the output paths; two inputs onto one output, or an output onto an input, stop the batch
             here with BatchConfigError; --skip-existing drops finished outputs;
4. run       the files largest first on a pool, with the decoded pixels in flight bounded, each file
             isolated: its failure becomes one line in the report and the batch goes on.

The pixel work itself (process_image / _render) is: decode -> crop -> resize -> grey -> encode, calling
the core single-threaded while many files wait and with more threads for the tail (see _threads_for).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import string
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import ImageColor

from . import io as imageio
from . import ops

__all__ = [
    "process_image",
    "process_batch",
    "BatchReport",
    "BatchConfigError",
    "FileOutcome",
    "Settings",
    "TqdmProgress",
    "DEFAULT_EXTENSIONS",
    "DEFAULT_PIXELS_IN_FLIGHT",
]

PathLike = Union[str, "os.PathLike[str]"]
Box = Tuple[Optional[int], Optional[int]]

DEFAULT_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
# About 8 bytes per decoded source pixel are alive at the peak of one file (Pillow's buffer, the array,
# a grey copy), so 100 million pixels in flight stay under ~1 GB whatever the worker count.
DEFAULT_PIXELS_IN_FLIGHT = 100_000_000
_TEMPLATE_FIELDS = ("stem", "ext", "width", "height")
_MAX_LISTED_CONFLICTS = 20


class BatchConfigError(ValueError):
    """Bad options, or output paths that would collide or overwrite an input. Raised before any work."""


# ------------------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class Settings:
    """Everything that is the same for every file of a batch. Plain values only, so it pickles."""

    box: Box
    fit: str = "contain"
    upscale: bool = True
    grayscale: bool = False
    luma: str = "bt601"
    filter: str = "lanczos3"
    exact: bool = False
    format: Optional[str] = None  # Pillow format name; None = the input's format (batch) or dst's suffix
    quality: Optional[int] = None
    png_compression: int = 1
    background: Tuple[int, int, int] = (255, 255, 255)
    strip: bool = False
    max_pixels: Optional[int] = None  # already resolved: None here means no limit


def _box_of(size: object) -> Box:
    """size as (width|None, height|None): an int is a square box; at least one side must be given."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    try:
        width, height = size  # type: ignore[misc]
    except (TypeError, ValueError):
        raise BatchConfigError(f"size must be an int or a (width, height) pair, got {size!r}") from None
    sides = []
    for side in (width, height):
        if side is None:
            sides.append(None)
        elif isinstance(side, (int, np.integer)) and not isinstance(side, bool) and side >= 1:
            sides.append(int(side))
        else:
            raise BatchConfigError(f"size sides must be ints >= 1 or None, got {size!r}")
    if sides == [None, None]:
        raise BatchConfigError("size needs at least one side")
    return sides[0], sides[1]


def _format_of(name: Optional[str]) -> Optional[str]:
    if name is None:
        return None
    fmt = imageio.output_format_for_suffix("." + str(name).lower().lstrip("."))
    if fmt is None or not imageio.is_offered_format(fmt):
        offered = ", ".join(f.lower() for f in imageio.writable_formats())
        raise BatchConfigError(f"unknown or unsupported output format {name!r}; expected one of {offered}")
    return fmt


def _background_of(colour: Union[str, Sequence[int]]) -> Tuple[int, int, int]:
    if isinstance(colour, str):
        try:
            rgb = ImageColor.getrgb(colour)
        except ValueError:
            raise BatchConfigError(f"unknown background colour {colour!r}") from None
    else:
        rgb = tuple(colour)
    if len(rgb) not in (3, 4) or not all(isinstance(c, int) and 0 <= c <= 255 for c in rgb):
        raise BatchConfigError(f"background must be a colour name, #rrggbb or an (r, g, b) tuple, got {colour!r}")
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def _resolve_max_pixels(max_pixels: Optional[int]) -> Optional[int]:
    """None -> Pillow's error threshold now; 0 -> no limit; otherwise the int itself."""
    if max_pixels is None:
        return imageio.default_max_pixels()
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels < 0:
        raise BatchConfigError(f"max_pixels must be an int >= 0 (0 = no limit), got {max_pixels!r}")
    return int(max_pixels) or None


def _make_settings(
    *,
    size: object,
    fit: str,
    upscale: bool,
    grayscale: bool,
    luma: str,
    filter: str,
    exact: bool,
    format: Optional[str],
    quality: Optional[int],
    png_compression: int,
    background: Union[str, Sequence[int]],
    strip: bool,
    max_pixels: Optional[int],
) -> Settings:
    if fit not in ops.FITS:
        raise BatchConfigError(f"unknown fit {fit!r}; expected one of {', '.join(ops.FITS)}")
    if filter not in ops.FILTERS:
        raise BatchConfigError(f"unknown filter {filter!r}; expected one of {', '.join(ops.FILTERS)}")
    if luma not in ops.WEIGHTS:
        raise BatchConfigError(f"unknown luma weights {luma!r}; expected one of {', '.join(ops.WEIGHTS)}")
    if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100):
        raise BatchConfigError(f"quality must be an int from 1 to 100, got {quality!r}")
    if isinstance(png_compression, bool) or not isinstance(png_compression, int) or not 0 <= png_compression <= 9:
        raise BatchConfigError(f"png_compression must be an int from 0 to 9, got {png_compression!r}")
    return Settings(
        box=_box_of(size),
        fit=fit,
        upscale=bool(upscale),
        grayscale=bool(grayscale),
        luma=luma,
        filter=filter,
        exact=bool(exact),
        format=_format_of(format),
        quality=quality,
        png_compression=png_compression,
        background=_background_of(background),
        strip=bool(strip),
        max_pixels=_resolve_max_pixels(max_pixels),
    )


# ----------------------------------------------------------------------------------- one image's pixels


def _grey(pixels: np.ndarray, icc: Optional[bytes], settings: Settings, threads: Optional[int]):
    """Grey of RGB(A) pixels in sRGB terms: a non-sRGB source is converted first; grey stays as it is."""
    if pixels.ndim == 2 or pixels.shape[2] < 3:
        return pixels, icc
    pixels, icc = imageio.convert_to_srgb(pixels, icc)
    return ops.grayscale(pixels, weights=settings.luma, threads=threads), icc


def _upright_size(stored_size: Tuple[int, int], orientation: int) -> Tuple[int, int]:
    width, height = stored_size
    return (height, width) if orientation in imageio.TRANSPOSING_ORIENTATIONS else (width, height)


def _source_region(src_size: Tuple[int, int], settings: Settings) -> Tuple[Tuple[int, int], Tuple[int, int, int, int]]:
    """(output size, the upright source rectangle it is made from) for a source of ``src_size``."""
    out_size = ops.fit_size(src_size, settings.box, fit=settings.fit, upscale=settings.upscale)
    if settings.fit == "cover" and None not in settings.box:
        return out_size, ops.cover_crop(src_size, out_size)
    return out_size, (0, 0, src_size[0], src_size[1])


# Shrink-on-load leaves at least this much of the reduction to the resize filter, so the decoder's
# block averaging only ever pre-filters (libvips' rule for JPEG: 1/8 when the shrink is >= 16, 1/4
# when >= 8, 1/2 when >= 4). Nearest is excluded: it must pick source pixels, not averages.
_FILTER_SHARE_OF_SHRINK = 2


def _max_reduction(settings: Settings) -> Callable[[imageio.ImageHeader], int]:
    """The largest shrink-on-load factor for a file, given its header (see imageio.decode)."""

    def allowed(header: imageio.ImageHeader) -> int:
        if settings.exact or settings.filter == "nearest":
            return 1
        out_size, region = _source_region(header.size, settings)
        left, top, right, bottom = region
        shrink = min((right - left) / out_size[0], (bottom - top) / out_size[1])
        limit = max(1, int(shrink // _FILTER_SHARE_OF_SHRINK))
        return next(s for s in imageio.DCT_SCALES if s <= limit)

    return allowed


def _render_reduced(
    decoded: imageio.DecodedImage, src_size: Tuple[int, int], settings: Settings, threads: Optional[int]
) -> Tuple[np.ndarray, Optional[bytes]]:
    """_render for pixels the decoder shrank by decoded.scale: same output size and sampling grid.

    Reduced pixel i covers full pixels [i * scale, (i + 1) * scale) of the stored image, so the full
    image's region is the box region / scale of the reduced one, fractions and all; the last reduced
    pixel of an odd side is partial and only its covered part is sampled. Planned in stored
    orientation; only the small result is turned upright.
    """
    scale, orientation = decoded.scale, decoded.orientation
    out_size, region = _source_region(src_size, settings)
    left, top, right, bottom = imageio.unorient_box(region, src_size, orientation)
    # The decoder rounds the reduced size up, so the box fits; min() only guards against a decoder
    # that rounds down.
    height, width = decoded.pixels.shape[:2]
    box = (left / scale, top / scale, min(right / scale, width), min(bottom / scale, height))
    out_w, out_h = out_size[::-1] if orientation in imageio.TRANSPOSING_ORIENTATIONS else out_size
    stored, icc = decoded.pixels, decoded.icc_profile
    colour = stored.ndim == 3 and stored.shape[2] >= 3
    if settings.grayscale and colour and not imageio.needs_srgb_conversion(stored, icc):
        stored = ops.grayscale(stored, weights=settings.luma, threads=threads)
        colour = False
    pixels = ops._resize_any_order(stored, (out_w, out_h), filter=settings.filter, threads=threads, box=box)
    if settings.grayscale and colour:
        pixels, icc = _grey(pixels, icc, settings, threads)
    return ops.packed(imageio.orient(pixels, orientation)), icc


def _render(
    decoded: imageio.DecodedImage, settings: Settings, threads: Optional[int]
) -> Tuple[np.ndarray, Optional[bytes]]:
    """The output pixels (upright) and the ICC profile that describes them."""
    orientation = decoded.orientation
    upright = imageio.orient(decoded.pixels, orientation)  # a view: the geometry is planned upright
    src_size = _upright_size(decoded.stored_size, orientation) if decoded.stored_size[0] else upright.shape[1::-1]
    if decoded.scale > 1:
        return _render_reduced(decoded, src_size, settings, threads)
    out_size, region = _source_region(src_size, settings)
    left, top, right, bottom = region
    upright = upright[top:bottom, left:right]
    icc = decoded.icc_profile

    if settings.exact:
        # The reference order with no shortcut: the full upright image, resized, then made grey.
        pixels = ops.resize(upright, out_size, filter=settings.filter, threads=threads)
        return _grey(pixels, icc, settings, threads) if settings.grayscale else (pixels, icc)

    # Work on the stored pixels (the crop is a plain sub-rectangle of them, still no copy) and turn only
    # the small result upright; a rotation is lossless, so only the order of roundings changes.
    stored = imageio.unorient(upright, orientation)
    stored_size = out_size[::-1] if orientation in imageio.TRANSPOSING_ORIENTATIONS else out_size
    colour = stored.ndim == 3 and stored.shape[2] >= 3
    if settings.grayscale and colour and not imageio.needs_srgb_conversion(stored, icc):
        # Grey first: one channel to resize instead of three. Differs from --exact by rounding only.
        stored = ops.grayscale(stored, weights=settings.luma, threads=threads)
        colour = False
    if (stored.shape[1], stored.shape[0]) != tuple(stored_size):
        pixels = ops._resize_any_order(stored, tuple(stored_size), filter=settings.filter, threads=threads)
    else:
        pixels = stored  # Lanczos at scale 1 is the identity
    if settings.grayscale and colour:
        pixels, icc = _grey(pixels, icc, settings, threads)
    return ops.packed(imageio.orient(pixels, orientation)), icc


# Below this many decoded pixels the core runs on the calling thread unless threads were forced: a
# single-threaded pass then takes a few milliseconds, and waking OpenMP threads costs more than it
# saves, above all on a busy machine (14 shrunk-on-load JPEG thumbnails: 0.035 s of core time on one
# thread, 0.40 s on two, with another process keeping both cores busy).
_PARALLEL_MIN_PIXELS = 4_000_000


def _render_file(
    src: Path, dst: Path, settings: Settings, out_format: str, threads: Optional[int], *, threads_forced: bool = False
) -> Tuple[int, int]:
    decoded = imageio.decode(
        src,
        max_pixels=settings.max_pixels,
        max_reduction=_max_reduction(settings),
        # The codec's own luma is bt601 grey; bt709 and --exact compute grey themselves.
        grey=settings.grayscale and settings.luma == "bt601" and not settings.exact,
    )
    if not threads_forced and decoded.pixels.shape[0] * decoded.pixels.shape[1] < _PARALLEL_MIN_PIXELS:
        threads = 1
    pixels, icc = _render(decoded, settings, threads)
    exif = None if settings.strip else decoded.exif
    del decoded  # the full-size pixels need not stay alive while encoding
    options = imageio.EncodeOptions(
        format=out_format,
        quality=settings.quality,
        png_compression=settings.png_compression,
        background=settings.background,
        strip=settings.strip,
    )
    imageio.encode(pixels, dst, options, icc_profile=icc, exif=exif)
    return pixels.shape[1], pixels.shape[0]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def process_image(
    src: PathLike,
    dst: PathLike,
    *,
    size: object,
    fit: str = "contain",
    upscale: bool = True,
    grayscale: bool = False,
    luma: str = "bt601",
    filter: str = "lanczos3",
    exact: bool = False,
    format: Optional[str] = None,
    quality: Optional[int] = None,
    png_compression: int = 1,
    background: Union[str, Sequence[int]] = "white",
    strip: bool = False,
    max_pixels: Optional[int] = None,
    threads: Optional[int] = None,
) -> Tuple[int, int]:
    """Resize (and optionally grey) one image file into ``dst``; returns the output (width, height).

    size: an int (square box) or (width, height) with None for a free side. The format comes from
    ``format`` or else from dst's suffix. max_pixels: None = Pillow's error threshold, 0 = no limit.
    Raises fastbatch.io.ImageReadError / ImageWriteError (str() is the reason) or BatchConfigError.
    """
    settings = _make_settings(
        size=size, fit=fit, upscale=upscale, grayscale=grayscale, luma=luma, filter=filter, exact=exact,
        format=format, quality=quality, png_compression=png_compression, background=background, strip=strip,
        max_pixels=max_pixels,
    )
    src, dst = Path(src), Path(dst)
    out_format = settings.format or imageio.output_format_for_suffix(dst.suffix)
    if out_format is None:
        raise BatchConfigError(f"cannot tell the output format from {dst.name!r}; pass format=")
    if _same_file(src, dst):
        raise BatchConfigError(f"refusing to overwrite the input {src}")
    return _render_file(src, dst, settings, out_format, threads, threads_forced=threads is not None)


# --------------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input: status is "succeeded", "failed" or "skipped"."""

    src: Path
    status: str
    dst: Optional[Path] = None
    reason: Optional[str] = None

    def line(self) -> str:
        """One line naming the file, for logs."""
        if self.status == "succeeded":
            return f"{self.src} -> {self.dst}"
        return f"{self.status}: {self.src}: {self.reason}"


@dataclass
class BatchReport:
    """The result of process_batch. Lists are sorted by source path."""

    succeeded: List[Tuple[Path, Path]] = field(default_factory=list)
    failed: List[Tuple[Path, str]] = field(default_factory=list)
    skipped: List[Tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no file failed (skipped files are fine)."""
        return not self.failed

    def to_dict(self) -> dict:
        return {
            "succeeded": [{"src": str(src), "dst": str(dst)} for src, dst in self.succeeded],
            "failed": [{"src": str(src), "error": reason} for src, reason in self.failed],
            "skipped": [{"src": str(src), "reason": reason} for src, reason in self.skipped],
            "seconds": round(self.seconds, 3),
        }

    def to_json(self, indent: Optional[int] = 2) -> str:
        # ASCII escapes keep the JSON valid even for file names that are not valid UTF-8.
        return json.dumps(self.to_dict(), indent=indent)

    def summary(self) -> str:
        total = len(self.succeeded) + len(self.failed) + len(self.skipped)
        rate = f", {len(self.succeeded) / self.seconds:.1f} files/s" if self.seconds > 0 and self.succeeded else ""
        return (
            f"{len(self.succeeded)} written, {len(self.failed)} failed, {len(self.skipped)} skipped "
            f"of {total} in {self.seconds:.2f} s{rate}"
        )

    def _add(self, outcome: FileOutcome) -> None:
        if outcome.status == "succeeded":
            self.succeeded.append((outcome.src, outcome.dst))  # type: ignore[arg-type]
        elif outcome.status == "failed":
            self.failed.append((outcome.src, outcome.reason or "unknown error"))
        else:
            self.skipped.append((outcome.src, outcome.reason or ""))

    def _sort(self) -> None:
        for items in (self.succeeded, self.failed, self.skipped):
            items.sort(key=lambda item: str(item[0]))


# ------------------------------------------------------------------------------------------ discovery


@dataclass(frozen=True)
class _Input:
    src: Path  # the path as found (a symlink stays a symlink: its name is what the user sees)
    rel: Path  # relative to the input folder; its parent is mirrored under the output folder
    identity: Tuple[int, int]  # (st_dev, st_ino) of the file it leads to


def _normalise_extensions(extensions: Iterable[str]) -> frozenset:
    if isinstance(extensions, str):
        extensions = extensions.split(",")
    normalised = frozenset(e.strip().lower().lstrip(".") for e in extensions if e.strip().strip("."))
    if not normalised:
        raise BatchConfigError("extensions must name at least one file extension")
    return normalised


def _classify(path: Path, is_link: bool) -> Tuple[Optional[os.stat_result], Optional[FileOutcome]]:
    """stat through symlinks; a dangling link, a loop or a non-file becomes an outcome instead."""
    try:
        info = path.stat()
    except FileNotFoundError:
        reason = "dangling symbolic link" if is_link else "file not found"
        return None, FileOutcome(path, "failed", reason=reason)
    except OSError as error:
        if is_link and error.errno == errno.ELOOP:
            return None, FileOutcome(path, "failed", reason="symbolic link loop")
        return None, FileOutcome(path, "failed", reason=f"cannot stat: {error.strerror or error}")
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO or a device would block or read forever; a folder named x.jpg is not an image.
        return None, FileOutcome(path, "skipped", reason="not a regular file")
    return info, None


def _discover(
    root: Path, *, recursive: bool, extensions: frozenset, exclude: Optional[Path]
) -> Tuple[List[_Input], List[FileOutcome]]:
    """The image files under ``root`` (or ``root`` itself when it is a file) and the entries refused."""
    found: List[_Input] = []
    refused: List[FileOutcome] = []
    if not root.is_dir():
        info, outcome = _classify(root, root.is_symlink())
        if outcome is not None:
            refused.append(outcome)
        else:
            found.append(_Input(root, Path(root.name), (info.st_dev, info.st_ino)))  # type: ignore[union-attr]
        return found, refused

    excluded = os.path.realpath(exclude) if exclude is not None else None
    root_info = root.stat()
    seen_dirs = {(root_info.st_dev, root_info.st_ino)}  # followed folder symlinks cannot loop
    pending = [(root, Path())]
    while pending:
        folder, rel_folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError as error:
            refused.append(FileOutcome(folder, "failed", reason=f"cannot list folder: {error.strerror or error}"))
            continue
        for entry in listed:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows symlinks; False for dangling ones and loops
            except OSError:
                is_dir = False
            if is_dir:
                if not recursive or os.path.realpath(path) == excluded:
                    continue
                try:
                    info = path.stat()
                except OSError:
                    continue
                if (info.st_dev, info.st_ino) not in seen_dirs:
                    seen_dirs.add((info.st_dev, info.st_ino))
                    pending.append((path, rel_folder / entry.name))
                continue
            if Path(entry.name).suffix.lower().lstrip(".") not in extensions:
                continue
            info, outcome = _classify(path, entry.is_symlink())
            if outcome is not None:
                refused.append(outcome)
            else:
                found.append(_Input(path, rel_folder / entry.name, (info.st_dev, info.st_ino)))  # type: ignore[union-attr]
    found.sort(key=lambda item: str(item.rel))
    return found, refused


# --------------------------------------------------------------------------------------------- naming


def _check_template(template: str) -> None:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise BatchConfigError(f"bad name template {template!r}: {error}") from None
    for _, field_name, _, _ in parsed:
        if field_name is not None and field_name not in _TEMPLATE_FIELDS:
            allowed = ", ".join("{" + f + "}" for f in _TEMPLATE_FIELDS)
            raise BatchConfigError(f"bad name template {template!r}: unknown field {{{field_name}}}; use {allowed}")
    try:
        sample = template.format(stem="a", ext="jpg", width=1, height=1)
    except (ValueError, KeyError, IndexError) as error:
        raise BatchConfigError(f"bad name template {template!r}: {error}") from None
    if "/" in template or "\\" in template or "\0" in template:
        raise BatchConfigError(f"bad name template {template!r}: names cannot contain path separators")
    if sample in ("", ".", ".."):
        raise BatchConfigError(f"bad name template {template!r}: it yields an empty name")


@dataclass(frozen=True)
class _Job:
    """One unit of work: module-level data only, so any Executor (threads, processes, Dask) can run it."""

    src: Path
    dst: Path
    out_format: str
    settings: Settings
    threads: Optional[int]
    threads_forced: bool = False  # the caller's --threads, kept even for small work


def _plan_output(item: _Input, header: imageio.ImageHeader, settings: Settings, template: str, output_dir: Path):
    """(dst, format) for one input: the template names the file, the format gives the suffix."""
    out_width, out_height = ops.fit_size(header.size, settings.box, fit=settings.fit, upscale=settings.upscale)
    name = item.rel.name
    suffix = Path(name).suffix
    stem = name[: len(name) - len(suffix)] if suffix else name
    if settings.format is not None:
        out_format, out_suffix = settings.format, imageio.suffix_for_format(settings.format)
    else:
        # The input's own format (by extension, kept as spelled); PNG when Pillow cannot write it.
        out_format = imageio.output_format_for_suffix(suffix) if suffix else None
        out_suffix = suffix
        if out_format is None:
            out_format, out_suffix = "PNG", ".png"
    stem_out = template.format(stem=stem, ext=suffix.lstrip("."), width=out_width, height=out_height)
    return output_dir / item.rel.parent / (stem_out + out_suffix), out_format


def _conflicts(planned: List[Tuple[_Input, Path, str]], inputs: List[_Input]) -> List[str]:
    """Problems that must stop the batch before any work: collisions and outputs onto inputs."""
    problems: List[str] = []
    by_output: Dict[str, List[_Input]] = {}
    for item, dst, _ in planned:
        by_output.setdefault(os.path.normcase(os.path.abspath(dst)), []).append(item)
    for dst_key, items in by_output.items():
        if len(items) > 1:
            sources = ", ".join(str(i.src) for i in items)
            problems.append(f"{len(items)} inputs would be written to {dst_key}: {sources}")

    identities = {item.identity for item in inputs}
    real_inputs = {os.path.realpath(item.src) for item in inputs}
    for item, dst, _ in planned:
        overwrites = os.path.realpath(dst) in real_inputs
        if not overwrites and os.path.lexists(dst):
            try:
                info = dst.stat()
                overwrites = (info.st_dev, info.st_ino) in identities
            except OSError:
                pass
        if overwrites:
            problems.append(f"output {dst} would overwrite an input (from {item.src})")
    return problems


# ------------------------------------------------------------------------------------------- running


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _run_job(job: _Job) -> FileOutcome:
    """Process one file; every failure becomes an outcome with a one-line reason, never an exception."""
    try:
        _render_file(job.src, job.dst, job.settings, job.out_format, job.threads, threads_forced=job.threads_forced)
    except imageio.ImageReadError as error:
        return FileOutcome(job.src, "failed", reason=str(error))
    except imageio.ImageWriteError as error:
        return FileOutcome(job.src, "failed", job.dst, reason=str(error))
    except MemoryError:
        return FileOutcome(job.src, "failed", reason="out of memory")
    except Exception as error:  # isolation: an unexpected error still only fails this file
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        reason = f"{type(error).__name__}: {text}" if text else type(error).__name__
        return FileOutcome(job.src, "failed", reason=reason)
    return FileOutcome(job.src, "succeeded", job.dst)


def _probe(item: _Input, max_pixels: Optional[int]):
    try:
        return imageio.read_header(item.src, max_pixels=max_pixels), None
    except imageio.ImageReadError as error:
        return None, str(error)
    except Exception as error:  # a header parser bug must not stop the batch either
        return None, f"{type(error).__name__}: {error}"


def _threads_for(pixels: int, budget: int, unfinished: int, workers: int, cores: int) -> Optional[int]:
    """Core threads for a job being submitted now, keeping the running total at or below the cores.

    The expected concurrency min(workers, unfinished files) never grows during a batch and is never
    below the number of jobs running, so giving each new job cores // expected keeps the sum within
    the cores: 1 thread each while many files wait, all cores for a lone file or the last one. A file
    larger than the whole pixel budget always runs alone, so it gets every core as well.
    """
    expected = 1 if pixels > budget else max(1, min(workers, unfinished))
    share = max(1, cores // expected)
    return None if share >= cores else share


class TqdmProgress:
    """process_batch's progress callback drawing a tqdm bar: files, files/s and failures.

    disable=None shows the bar only when ``file`` is a terminal (tqdm's rule).
    """

    def __init__(self, *, file=None, disable: Optional[bool] = None) -> None:
        self._file = file if file is not None else sys.stderr
        self._disable = disable
        self._bar = None
        self._failed = 0

    def __call__(self, outcome: FileOutcome, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="file", file=self._file, disable=self._disable, dynamic_ncols=True)
        if outcome.status == "failed":
            self._failed += 1
            self._bar.set_postfix(failed=self._failed, refresh=False)
        self._bar.update(1)

    def write(self, line: str) -> None:
        """Print a line above the bar (or plainly when there is none)."""
        if self._bar is not None and not self._bar.disable:
            self._bar.write(line, file=self._file)
        else:
            print(line, file=self._file)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


ProgressCallback = Callable[[FileOutcome, int, int], None]


def process_batch(
    input_dir: PathLike,
    output_dir: PathLike,
    *,
    size: object,
    fit: str = "contain",
    upscale: bool = True,
    grayscale: bool = False,
    luma: str = "bt601",
    filter: str = "lanczos3",
    recursive: bool = False,
    extensions: Iterable[str] = DEFAULT_EXTENSIONS,
    name: str = "{stem}",
    format: Optional[str] = None,
    quality: Optional[int] = None,
    png_compression: int = 1,
    background: Union[str, Sequence[int]] = "white",
    strip: bool = False,
    max_pixels: Optional[int] = None,
    workers: Optional[int] = None,
    threads: Optional[int] = None,
    exact: bool = False,
    skip_existing: bool = False,
    progress: Union[bool, ProgressCallback, None] = False,
    executor: Optional[Executor] = None,
    pixels_in_flight: Optional[int] = None,
) -> BatchReport:
    """Resize (and optionally grey) every image of ``input_dir`` (or the single file it names).

    Outputs go to ``output_dir`` (subfolders mirrored with recursive=True), named by the ``name``
    template ({stem}, {ext}, {width}, {height}) plus the suffix of ``format`` (default: the input's
    format, PNG when Pillow cannot write that). Files run largest first on ``executor`` (default a
    thread pool of ``workers`` = the cores) with at most ``pixels_in_flight`` decoded source pixels
    at once (one larger file runs alone). threads=None lets the core use 1 thread per file while
    many wait and more for the tail; an int forces it. progress: True for a tqdm bar on a terminal,
    or a callable(outcome, done, total). Bad options, colliding outputs and outputs that would
    overwrite an input raise BatchConfigError before anything is written; everything else that goes
    wrong with a file is recorded in the report and the batch goes on.
    """
    started = time.perf_counter()
    settings = _make_settings(
        size=size, fit=fit, upscale=upscale, grayscale=grayscale, luma=luma, filter=filter, exact=exact,
        format=format, quality=quality, png_compression=png_compression, background=background, strip=strip,
        max_pixels=max_pixels,
    )
    _check_template(name)
    exts = _normalise_extensions(extensions)
    cores = _cpu_count()
    if workers is None:
        workers = getattr(executor, "_max_workers", None) or cores
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BatchConfigError(f"workers must be an int >= 1, got {workers!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise BatchConfigError(f"threads must be None or an int >= 1, got {threads!r}")
    budget = DEFAULT_PIXELS_IN_FLIGHT if pixels_in_flight is None else pixels_in_flight
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise BatchConfigError(f"pixels_in_flight must be an int >= 1, got {pixels_in_flight!r}")

    input_path, output_path = Path(input_dir), Path(output_dir)
    if not input_path.exists():
        raise BatchConfigError(f"input {input_path} does not exist")

    report = BatchReport()
    if progress is True:
        bar = TqdmProgress()
        callback: Optional[ProgressCallback] = bar
    else:
        bar = None
        callback = progress or None
    try:
        _run_batch(
            input_path, output_path, settings, name, exts, recursive, skip_existing,
            workers, threads, cores, budget, executor, callback, report,
        )
    finally:
        if bar is not None:
            bar.close()
    report._sort()
    report.seconds = time.perf_counter() - started
    return report


def _run_batch(
    input_path: Path,
    output_path: Path,
    settings: Settings,
    template: str,
    exts: frozenset,
    recursive: bool,
    skip_existing: bool,
    workers: int,
    threads: Optional[int],
    cores: int,
    budget: int,
    executor: Optional[Executor],
    callback: Optional[ProgressCallback],
    report: BatchReport,
) -> None:
    inputs, refused = _discover(input_path, recursive=recursive, extensions=exts, exclude=output_path)
    total = len(inputs) + len(refused)
    done = 0

    def record(outcome: FileOutcome) -> None:
        nonlocal done
        done += 1
        report._add(outcome)
        if callback is not None:
            callback(outcome, done, total)

    # Probe headers in parallel: cheap reads that give sizes for naming and pixel counts for scheduling.
    with ThreadPoolExecutor(max_workers=max(1, min(32, 2 * workers)), thread_name_prefix="fastbatch-probe") as pool:
        headers = list(pool.map(lambda item: _probe(item, settings.max_pixels), inputs))

    planned: List[Tuple[_Input, Path, str]] = []
    pixels_of: Dict[Path, int] = {}  # decoded pixels: what the budget counts
    stored_of: Dict[Path, int] = {}  # stored pixels: the order (decode time grows with them at any scale)
    reduction = _max_reduction(settings)
    early: List[FileOutcome] = list(refused)
    for item, (header, error) in zip(inputs, headers):
        if header is None:
            early.append(FileOutcome(item.src, "failed", reason=error))
            continue
        dst, out_format = _plan_output(item, header, settings, template, output_path)
        planned.append((item, dst, out_format))
        # What the decoder will hold: a JPEG shrunk on load holds 1/scale^2 of its stored pixels.
        scale = imageio.decode_scale(header, reduction(header))
        pixels_of[item.src] = max(1, header.pixels // (scale * scale))
        stored_of[item.src] = header.pixels

    problems = _conflicts(planned, inputs)
    if problems:
        shown = problems[:_MAX_LISTED_CONFLICTS]
        more = len(problems) - len(shown)
        raise BatchConfigError(
            "nothing was written:\n  " + "\n  ".join(shown) + (f"\n  ... and {more} more" if more else "")
        )

    jobs: List[Tuple[int, _Job]] = []
    for item, dst, out_format in planned:
        if skip_existing and os.path.lexists(dst):
            early.append(FileOutcome(item.src, "skipped", dst, reason="output exists"))
            continue
        jobs.append((pixels_of[item.src], _Job(item.src, dst, out_format, settings, threads, threads is not None)))
    for outcome in early:
        record(outcome)

    # Largest first, so the last files to finish are small and the tail is short.
    jobs.sort(key=lambda entry: (-stored_of[entry[1].src], str(entry[1].src)))
    own_executor = executor is None
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fastbatch") if own_executor else executor
    try:
        # A caller's executor may run the units in other processes or on other machines, whose working
        # directory is not ours: they get absolute paths (see _portable).
        _schedule(jobs, pool, workers, threads, cores, budget, record, portable=not own_executor)  # type: ignore[arg-type]
    except BaseException:
        if own_executor:
            pool.shutdown(wait=True, cancel_futures=True)  # type: ignore[union-attr]
        raise
    if own_executor:
        pool.shutdown(wait=True)  # type: ignore[union-attr]


def _schedule(
    jobs: List[Tuple[int, _Job]],
    pool: Executor,
    workers: int,
    threads: Optional[int],
    cores: int,
    budget: int,
    record: Callable[[FileOutcome], None],
    *,
    portable: bool = False,
) -> None:
    """Submit in order while a worker is free and the pixels fit the budget; record as they finish."""
    next_index = 0
    unfinished = len(jobs)
    in_flight: Dict[Future, Tuple[int, _Job]] = {}
    pixels_in_flight = 0
    try:
        while next_index < len(jobs) or in_flight:
            while next_index < len(jobs) and len(in_flight) < workers:
                pixels, job = jobs[next_index]
                if in_flight and pixels_in_flight + pixels > budget:
                    break  # wait for memory; a file bigger than the budget waits until it can run alone
                if threads is None:
                    job = _Job(job.src, job.dst, job.out_format, job.settings,
                               _threads_for(pixels, budget, unfinished, workers, cores))
                in_flight[pool.submit(_run_job, _portable(job) if portable else job)] = (pixels, job)
                pixels_in_flight += pixels
                next_index += 1
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in finished:
                pixels, job = in_flight.pop(future)
                pixels_in_flight -= pixels
                unfinished -= 1
                try:
                    outcome = future.result()
                except BaseException as error:  # the executor itself failed (e.g. a worker process died)
                    if isinstance(error, (KeyboardInterrupt, SystemExit)):
                        raise
                    outcome = FileOutcome(job.src, "failed", reason=f"worker failed: {type(error).__name__}: {error}")
                record(_as_submitted(outcome, job))
    except BaseException:
        for future in in_flight:
            future.cancel()
        # Files already running still finish (their writes are atomic); record them, so that the
        # progress callback (the command's Ctrl-C summary) counts every output that was written.
        for future in in_flight:
            if not future.cancelled():
                try:
                    record(_as_submitted(future.result(), in_flight[future][1]))
                except Exception:
                    pass
        raise


def _portable(job: _Job) -> _Job:
    """The job with absolute paths, for a worker whose working directory may differ from ours.

    Path.cwd() / path rather than os.path.abspath or resolve(): no ".." folding and no symlink
    resolution, so the worker opens exactly what the caller named. Across machines this assumes the
    shared filesystem is mounted at the same path everywhere.
    """
    cwd = Path.cwd()
    return _Job(cwd / job.src, cwd / job.dst, job.out_format, job.settings, job.threads, job.threads_forced)


def _as_submitted(outcome: FileOutcome, job: _Job) -> FileOutcome:
    """The outcome with the paths as the caller spelled them, whatever paths the worker was given."""
    if outcome.src == job.src and outcome.dst in (None, job.dst):
        return outcome
    return FileOutcome(job.src, outcome.status, job.dst if outcome.dst is not None else None, outcome.reason)
