"""The `fastbatch` command: argument parsing, progress, summary and exit code around process_batch.

Exit codes: 0 when every file succeeded (or was skipped), 1 when any file failed (the others are still
written), 2 on a usage error (bad option, missing input, outputs that would collide or overwrite an
input, a --dask scheduler that cannot be used), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

from PIL import Image

from . import __version__, ops
from . import io as imageio
from .batch import (
    DEFAULT_EXTENSIONS,
    DEFAULT_PIXELS_IN_FLIGHT,
    BatchConfigError,
    FileOutcome,
    TqdmProgress,
    process_batch,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_SIZE_PATTERN = re.compile(r"^\s*(\d*)\s*(?:[xX]\s*(\d*))?\s*$")
_COUNT_SUFFIXES = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}


def parse_size(text: str) -> Tuple[Optional[int], Optional[int]]:
    """'300x200' -> (300, 200); '300' -> (300, 300); '300x' -> (300, None); 'x200' -> (None, 200)."""
    match = _SIZE_PATTERN.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use WxH, W, Wx or xH")
    width_text, height_text = match.group(1), match.group(2)
    if height_text is None and "x" not in text.lower():
        height_text = width_text  # a bare number is a square box
    width = int(width_text) if width_text else None
    height = int(height_text) if height_text else None
    if width is None and height is None:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: give at least one side")
    if (width is not None and width < 1) or (height is not None and height < 1):
        raise argparse.ArgumentTypeError(f"bad size {text!r}: sides must be at least 1")
    return width, height


def _count(text: str) -> int:
    """A pixel count: digits with an optional k / M / G suffix (powers of 1000)."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"bad pixel count {text!r}: use e.g. 50000000, 50M or 0")
    return int(match.group(1)) * _COUNT_SUFFIXES[match.group(2).lower()]


def _int_in(low: int, high: Optional[int]):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"expected an integer {span}, got {value}")
        return value

    return parse


def _format_choices() -> List[str]:
    names = []
    for fmt in imageio.writable_formats():
        names.append(fmt.lower())
        if fmt == "JPEG":
            names.append("jpg")
        if fmt == "TIFF":
            names.append("tif")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastbatch",
        description="Resize (Lanczos3 by default) and optionally grayscale a folder of images on all cores.",
        epilog="Exit status: 0 all files written or skipped, 1 some failed (the rest are written), 2 usage error.",
    )
    parser.add_argument("input", metavar="INPUT", help="a folder of images, or one image file")
    parser.add_argument("output", metavar="OUTPUT_DIR", help="folder for the results (created when missing)")
    geometry = parser.add_argument_group("geometry")
    geometry.add_argument("--size", required=True, type=parse_size, metavar="WxH",
                          help="box to fit into: WxH, W (square), Wx or xH (one side free)")
    geometry.add_argument("--fit", choices=ops.FITS, default="contain",
                          help="contain: inside the box, aspect kept (default); cover: fill the box, "
                               "centre crop; fill: stretch to the box")
    geometry.add_argument("--no-upscale", action="store_true", help="never make an image larger than it is")
    geometry.add_argument("--filter", choices=ops.FILTERS, default="lanczos3",
                          help="resampling filter (default lanczos3)")
    pixels = parser.add_argument_group("pixels")
    pixels.add_argument("-g", "--grayscale", action="store_true", help="write grey images (alpha kept)")
    pixels.add_argument("--luma", choices=ops.WEIGHTS, default="bt601",
                        help="grey weights: bt601 (default, as Pillow) or bt709")
    pixels.add_argument("--background", default="white", metavar="COLOR",
                        help="colour alpha is flattened onto for formats without alpha, e.g. JPEG (default white)")
    pixels.add_argument("--exact", action="store_true",
                        help="reference order (full decode, resize, then grey) with no shortcuts; "
                             "matches Pillow's resize(LANCZOS).convert('L') within 1")
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=_format_choices(), type=str.lower,
                        help="output format (default: the input's own, PNG when it cannot be written)")
    output.add_argument("--quality", type=_int_in(1, 100), metavar="Q",
                        help="JPEG / WebP / AVIF quality 1-100 (default 90 for JPEG and WebP)")
    output.add_argument("--png-compression", type=_int_in(0, 9), default=1, metavar="N",
                        help="PNG zlib level 0-9 (default 1, fast; 9 for the smallest files)")
    output.add_argument("--name", default="{stem}", metavar="TEMPLATE",
                        help="output name without suffix, from {stem} {ext} {width} {height} (default {stem})")
    output.add_argument("--strip", action="store_true", help="drop EXIF and ICC metadata")
    output.add_argument("--skip-existing", action="store_true",
                        help="leave outputs that already exist (resume a batch)")
    inputs = parser.add_argument_group("input")
    inputs.add_argument("-r", "--recursive", action="store_true",
                        help="walk subfolders, mirroring them under OUTPUT_DIR")
    inputs.add_argument("--ext", default=",".join(DEFAULT_EXTENSIONS), metavar="LIST",
                        help="comma-separated extensions to pick up, any case "
                        f"(default {','.join(DEFAULT_EXTENSIONS)})")
    inputs.add_argument("--max-pixels", type=_count, metavar="N",
                        help="refuse images with more pixels, checked from the header before decoding "
                             "(default Pillow's limit, 2 x Image.MAX_IMAGE_PIXELS; 0 = none)")
    run = parser.add_argument_group("running")
    run.add_argument("--workers", type=_int_in(1, None), metavar="N",
                     help="files processed at once (default: the cores)")
    run.add_argument("--threads", type=_int_in(1, None), metavar="N",
                     help="core threads per file (default: 1 while many files wait, more for the last ones)")
    run.add_argument("--pixels-in-flight", type=_count, metavar="N",
                     help="most decoded source pixels held at once, bounding memory "
                          "(default 100M; with --dask 100M per worker machine)")
    run.add_argument("--dask", metavar="ADDRESS",
                     help="run the files on a Dask cluster (e.g. tcp://host:8786); INPUT and OUTPUT_DIR must be "
                          "on a filesystem the workers share, at the same path; needs fastbatch[dask]")
    run.add_argument("--report", metavar="FILE.json", help="write a JSON report of every file")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="no progress bar and no summary; failures are still listed")
    parser.add_argument("--version", action="version", version=f"fastbatch {__version__}")
    return parser


@contextmanager
def _pillow_limit_lifted() -> Iterator[None]:
    """The command checks --max-pixels itself from the header, so Pillow's own check (a warning past
    MAX_IMAGE_PIXELS, an error past twice that) would only repeat or contradict it."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _write_report(path: str, text: str) -> None:
    target = Path(path)
    if target.parent != Path(""):
        target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.fastbatch-tmp")
    temp.write_text(text + "\n", encoding="ascii")
    os.replace(temp, target)


def _connect_dask(address: str):
    """A distributed.Client for ``address``; ValueError with a one-line reason when that cannot be.

    Imported here so that distributed stays an optional extra: nothing else needs it.
    """
    try:
        from distributed import Client
        from distributed.comm import resolve_address
    except ImportError:
        raise ValueError("--dask needs the distributed package: pip install 'fastbatch[dask]'") from None

    def reason(error: Exception) -> str:
        text = str(error).strip()
        return text.splitlines()[0] if text else type(error).__name__

    try:
        # Parse and look the address up first: a Client whose constructor fails on a malformed address
        # (unknown scheme, no port) hangs in its __del__ at exit for twice the connect timeout.
        resolve_address(address)
    except (ValueError, OSError) as error:
        raise ValueError(f"bad Dask scheduler address {address!r}: {reason(error)}") from None
    try:
        # The connect timeout is Dask's (distributed.comm.timeouts.connect, 30 s by default).
        # set_as_default=False: the command must not change which client dask collections use.
        return Client(address, set_as_default=False)
    except Exception as error:  # OSError, TimeoutError, ... whatever keeps the client from connecting
        raise ValueError(f"cannot connect to the Dask scheduler at {address}: {reason(error)}") from None


def _dask_capacity(client) -> Tuple[Optional[int], int]:
    """(worker threads, worker machines) of the cluster as it is now."""
    from distributed.comm import get_address_host

    nthreads = client.nthreads()  # {worker address: threads}
    hosts = {get_address_host(address) for address in nthreads}
    # No worker yet (they may still be starting): process_batch's default of the local cores.
    return sum(nthreads.values()) or None, max(1, len(hosts))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse exits 2 on errors, 0 for --help / --version
        return int(exit_request.code or 0)

    def usage_error(message: str) -> int:
        print(f"fastbatch: error: {message}", file=sys.stderr)
        return EXIT_USAGE

    if args.pixels_in_flight is not None and args.pixels_in_flight < 1:
        return usage_error("--pixels-in-flight must be at least 1")
    if not Path(args.input).exists():
        return usage_error(f"input {args.input} does not exist")
    # Resolved before Pillow's limit is lifted below, so the default is Pillow's own threshold.
    max_pixels = imageio.default_max_pixels() if args.max_pixels is None else args.max_pixels
    if max_pixels is None:
        max_pixels = 0

    client, executor = None, None
    workers, pixels_in_flight = args.workers, args.pixels_in_flight
    if args.dask is not None:
        try:
            client = _connect_dask(args.dask)
        except ValueError as error:
            return usage_error(str(error))
        # pure=False: writing a file is a side effect, so Dask must run every unit, never hand back a
        # remembered result for an identical one (e.g. the same batch run twice on one scheduler).
        executor = client.get_executor(pure=False)
        threads_total, hosts = _dask_capacity(client)
        # The defaults are sized for one machine: as many files in flight as the cluster has worker
        # threads, and the memory bound per worker machine rather than for the whole cluster.
        if workers is None:
            workers = threads_total
        if pixels_in_flight is None:
            pixels_in_flight = DEFAULT_PIXELS_IN_FLIGHT * hosts

    show_bar = not args.quiet and sys.stderr.isatty()
    bar = TqdmProgress(file=sys.stderr, disable=not show_bar)

    # Outcomes seen so far, so an interrupted run can still say what it did (no report comes back).
    counts = {"succeeded": 0, "failed": 0, "skipped": 0}
    seen_total = [0]
    started = time.perf_counter()

    def on_file(outcome: FileOutcome, done: int, total: int) -> None:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        seen_total[0] = total
        bar(outcome, done, total)
        if outcome.status == "failed":
            bar.write(outcome.line())

    try:
        with _pillow_limit_lifted():
            report = process_batch(
                args.input,
                args.output,
                size=args.size,
                fit=args.fit,
                upscale=not args.no_upscale,
                grayscale=args.grayscale,
                luma=args.luma,
                filter=args.filter,
                recursive=args.recursive,
                extensions=args.ext,
                name=args.name,
                format=args.format,
                quality=args.quality,
                png_compression=args.png_compression,
                background=args.background,
                strip=args.strip,
                max_pixels=max_pixels,
                workers=workers,
                threads=args.threads,
                exact=args.exact,
                skip_existing=args.skip_existing,
                progress=on_file,
                pixels_in_flight=pixels_in_flight,
                executor=executor,
            )
    except BatchConfigError as error:
        return usage_error(str(error))
    except KeyboardInterrupt:
        # process_batch has cancelled the queued files and waited for the running ones (their writes
        # are atomic), so what is counted here is all that was written.
        bar.close()
        print(
            f"fastbatch: interrupted: {counts['succeeded']} written, {counts['failed']} failed, "
            f"{counts['skipped']} skipped of {seen_total[0]} in {time.perf_counter() - started:.2f} s "
            f"-> {args.output}; "
            "finished outputs are complete, no partial files were left",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        bar.close()
        if client is not None:
            client.close()  # the client only: the cluster and its workers belong to whoever started them

    status = EXIT_OK if report.ok else EXIT_FAILED
    if args.report:
        try:
            _write_report(args.report, report.to_json())
        except OSError as error:
            print(f"fastbatch: cannot write the report {args.report}: {error.strerror or error}", file=sys.stderr)
            status = EXIT_FAILED
    if not args.quiet:
        total = len(report.succeeded) + len(report.failed) + len(report.skipped)
        note = f" (no files ending in {args.ext} found)" if total == 0 else ""
        print(f"fastbatch: {report.summary()} -> {args.output}{note}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
