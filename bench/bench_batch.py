"""Whole-folder benchmark: fastbatch's batch tool side by side with its peers, files on disk to files on disk.

    python bench/corpus.py [--real]      # build the folders first (bench/corpus/, git-ignored)
    python bench/bench_batch.py          # jpeg + mixed folders, 3 workloads, 3 rounds
    python bench/bench_batch.py --folders jpeg --workloads gray300 --rounds 1   # a smoke test

Every pipeline runs in a fresh interpreter (so peak RSS is its own) over the same folder with the same
number of worker threads, and reports its own wall time from the first file opened to the last written
(imports excluded). Rounds interleave the pipelines so a noise burst hits all alike; the median round
counts. Fidelity is each pipeline's grey 300 PNG output against fastbatch --exact (Pillow's
resize(LANCZOS).convert("L") within 1), alpha-weighted for images with alpha.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

# name -> (box side, grey, output format)
WORKLOADS = {
    "gray300": (300, True, "png"),
    "gray1280": (1280, True, "jpeg"),
    "colour1280": (1280, False, "jpeg"),
}
PIPELINES = ("fastbatch", "fastbatch-exact", "pillow", "pillow-thumbnail", "pyvips-thumbnail", "opencv-area", "decode-floor")
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
QUALITY = 90
PNG_LEVEL = 1  # fastbatch's default; every pipeline writes PNG at the same zlib level


# ------------------------------------------------------------------------------ one pipeline (child)


def _files(folder: Path):
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)


def _out_path(out: Path, src: Path, fmt: str) -> Path:
    return out / (src.stem + (".png" if fmt == "png" else ".jpg"))


def _fit(size, box):
    from fastbatch import fit_size

    return fit_size(size, (box, box))


def _pillow_save(image: Image.Image, dst: Path, fmt: str) -> None:
    if fmt == "png":
        image.save(dst, "PNG", compress_level=PNG_LEVEL)
    else:
        image.convert("L" if image.mode in ("L", "LA") else "RGB").save(dst, "JPEG", quality=QUALITY)


def _pillow(src: Path, dst: Path, box: int, grey: bool, fmt: str, thumbnail: bool) -> None:
    from PIL import ImageOps

    with Image.open(src) as image:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        orientation = image.getexif().get(0x0112, 1)
        upright_size = image.size[::-1] if orientation in (5, 6, 7, 8) else image.size
        size = _fit(upright_size, box)
        if thumbnail:
            # What Image.thumbnail() does (draft to >= 2x the size, then resize from the draft's exact box
            # with reducing_gap=2), at the same output size as everyone else, orientation applied after.
            stored_size = size[::-1] if orientation in (5, 6, 7, 8) else size
            drafted = image.draft(None, (stored_size[0] * 2, stored_size[1] * 2))
            box_ = drafted[1] if drafted else None
            small = image.resize(stored_size, Image.LANCZOS, box=box_, reducing_gap=2.0)
            small = ImageOps.exif_transpose(small)
        else:
            small = ImageOps.exif_transpose(image).resize(size, Image.LANCZOS)
        if grey:
            small = small.convert("LA" if small.mode in ("RGBA", "LA") else "L")
        if fmt == "jpeg" and small.mode in ("RGBA", "LA"):
            backdrop = Image.new(small.mode, small.size, (255,) * len(small.mode))
            small = Image.alpha_composite(backdrop, small)
        _pillow_save(small, dst, fmt)


def _pyvips(src: Path, dst: Path, box: int, grey: bool, fmt: str) -> None:
    import pyvips

    header = Image.open(src)  # only for the target size, so every pipeline writes the same size
    orientation = header.getexif().get(0x0112, 1)
    size = _fit(header.size[::-1] if orientation in (5, 6, 7, 8) else header.size, box)
    header.close()
    image = pyvips.Image.thumbnail(str(src), size[0], height=size[1], size="force")
    if grey:
        # Rec.601 luma, the same definition as everyone else (colourspace("b-w") would use L*).
        bands = image.bands
        alpha = image[bands - 1] if bands in (2, 4) else None
        luma = image[:3].recomb([[0.299, 0.587, 0.114]]).cast("uchar") if bands >= 3 else image[0]
        image = luma.bandjoin(alpha) if alpha is not None else luma
    if fmt == "png":
        image.pngsave(str(dst), compression=PNG_LEVEL)
    else:
        if image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        image.jpegsave(str(dst), Q=QUALITY)


def _opencv(src: Path, dst: Path, box: int, grey: bool, fmt: str) -> None:
    import cv2

    # imread applies the EXIF orientation; IMREAD_GRAYSCALE decodes a JPEG's luma directly. Alpha is dropped.
    pixels = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    size = _fit((pixels.shape[1], pixels.shape[0]), box)
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    params = [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL] if fmt == "png" else [cv2.IMWRITE_JPEG_QUALITY, QUALITY]
    cv2.imwrite(str(dst), small, params)


def _decode_floor(src: Path, box: int, grey: bool) -> None:
    """Pillow decoding with fastbatch's own drafts and nothing else: the floor for a Pillow-based tool."""
    from fastbatch import batch, io as imageio

    settings = batch._make_settings(
        size=box, fit="contain", upscale=True, grayscale=grey, luma="bt601", filter="lanczos3", exact=False,
        format=None, quality=None, png_compression=1, background="white", strip=False, max_pixels=0,
    )
    with Image.open(src) as image:
        header = imageio._header_of(image)
        imageio._draft(image, header, batch._max_reduction(settings)(header), grey)
        image.load()


def run_pipeline(name: str, folder: Path, out: Path, workload: str, workers: int) -> float:
    box, grey, fmt = WORKLOADS[workload]
    files = _files(folder)
    out.mkdir(parents=True, exist_ok=True)
    if name.startswith("fastbatch"):
        import fastbatch

        started = time.perf_counter()
        report = fastbatch.process_batch(
            folder, out, size=box, grayscale=grey, format=fmt, quality=QUALITY, workers=workers,
            exact=name == "fastbatch-exact", background="white",
        )
        elapsed = time.perf_counter() - started
        if not report.ok:
            raise SystemExit(f"{name}: {report.failed}")
        return elapsed
    if name == "pyvips-thumbnail":
        import pyvips

        pyvips.cache_set_max(0)
        pyvips.concurrency_set(1)  # one libvips thread per worker: same thread count as everyone
    if name == "opencv-area":
        import cv2

        cv2.setNumThreads(1)
    jobs = {
        "pillow": lambda p: _pillow(p, _out_path(out, p, fmt), box, grey, fmt, thumbnail=False),
        "pillow-thumbnail": lambda p: _pillow(p, _out_path(out, p, fmt), box, grey, fmt, thumbnail=True),
        "pyvips-thumbnail": lambda p: _pyvips(p, _out_path(out, p, fmt), box, grey, fmt),
        "opencv-area": lambda p: _opencv(p, _out_path(out, p, fmt), box, grey, fmt),
        "decode-floor": lambda p: _decode_floor(p, box, grey),
    }
    job = jobs[name]
    # Largest first, like fastbatch, so no pipeline loses to a long tail.
    files.sort(key=lambda p: -p.stat().st_size)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(job, files))
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------ driver (parent)


def _spawn(name: str, folder: Path, out: Path, workload: str, workers: int):
    """Run one pipeline in a fresh interpreter; (seconds, peak RSS in MB)."""
    command = [sys.executable, __file__, "--child", name, str(folder), str(out), workload, str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    process.stdout.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{name} on {folder.name}/{workload} failed")
    return json.loads(output)["seconds"], usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def _grey_of(path: Path, with_alpha: bool) -> np.ndarray:
    """The grey plane as float, premultiplied by alpha when the reference has alpha."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("LA"), dtype=np.float64)
    grey, alpha = pixels[..., 0], pixels[..., 1]
    return grey * alpha / 255.0 if with_alpha else grey


def fidelity(reference: Path, candidate: Path):
    """(mean abs diff, 99.9th percentile, files compared) of candidate's outputs against reference's."""
    diffs = []
    for ref_path in sorted(reference.iterdir()):
        other = candidate / ref_path.name
        if not other.exists():
            continue
        with Image.open(ref_path) as ref_image:
            with_alpha = ref_image.mode == "LA"
        a, b = _grey_of(ref_path, with_alpha), _grey_of(other, with_alpha)
        if a.shape != b.shape:
            continue
        diffs.append(np.abs(np.rint(a) - np.rint(b)).ravel())
    if not diffs:
        return None
    joined = np.concatenate(diffs)
    return float(joined.mean()), float(np.percentile(joined, 99.9)), len(diffs)


def _table(rows, headers) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def _available(pipelines):
    usable = []
    for name in pipelines:
        module = {"pyvips-thumbnail": "pyvips", "opencv-area": "cv2"}.get(name)
        if module:
            try:
                __import__(module)
            except Exception as error:  # a missing peer leaves its rows out, it does not stop the run
                print(f"note: {name} left out ({type(error).__name__}: {error})", file=sys.stderr)
                continue
        usable.append(name)
    return usable


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="fastbatch batch benchmark against its peers")
    parser.add_argument("--folders", default="jpeg,mixed", help="comma-separated folders under bench/corpus (add 'real')")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated, from {', '.join(WORKLOADS)}")
    parser.add_argument("--pipelines", default=",".join(PIPELINES))
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "batch.json")
    parser.add_argument("--chart", type=Path, default=HERE / "batch.png")
    args = parser.parse_args(argv)

    pipelines = _available(args.pipelines.split(","))
    results = []
    with tempfile.TemporaryDirectory(prefix="fastbatch-bench-") as temp:
        for folder_name in args.folders.split(","):
            folder = CORPUS / folder_name
            if not folder.is_dir():
                raise SystemExit(f"{folder} is missing: run python bench/corpus.py first")
            files = _files(folder)
            for workload in args.workloads.split(","):
                samples = {name: [] for name in pipelines}
                peaks = {name: 0.0 for name in pipelines}
                for round_index in range(args.rounds):
                    order = pipelines[round_index % len(pipelines):] + pipelines[: round_index % len(pipelines)]
                    for name in order:
                        out = Path(temp) / folder_name / workload / name
                        seconds, peak = _spawn(name, folder, out, workload, args.workers)
                        samples[name].append(seconds)
                        peaks[name] = max(peaks[name], peak)
                reference = Path(temp) / folder_name / workload / "fastbatch-exact"
                for name in pipelines:
                    median = statistics.median(samples[name])
                    fid = None
                    if workload == "gray300" and name != "decode-floor" and reference.is_dir():
                        fid = fidelity(reference, Path(temp) / folder_name / workload / name)
                    results.append({
                        "folder": folder_name, "files": len(files), "workload": workload, "pipeline": name,
                        "seconds": samples[name], "median": median, "files_per_s": len(files) / median,
                        "peak_rss_mb": peaks[name], "fidelity": fid,
                    })
                print(f"done {folder_name}/{workload}", file=sys.stderr)

    print(f"# {len(pipelines)} pipelines, {args.workers} workers, {args.rounds} rounds, median round; "
          f"{platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.2f}")
    for folder_name in args.folders.split(","):
        for workload in args.workloads.split(","):
            rows = [r for r in results if r["folder"] == folder_name and r["workload"] == workload]
            ours = next(r["median"] for r in rows if r["pipeline"] == "fastbatch")
            table_rows = []
            for r in rows:
                fid = r["fidelity"]
                table_rows.append([
                    r["pipeline"], f"{r['files_per_s']:.1f}", f"{r['median']:.2f}", f"{r['median'] / ours:.2f}",
                    f"{r['peak_rss_mb']:.0f}", "-" if not fid else f"{fid[0]:.3f}", "-" if not fid else f"{fid[1]:.0f}",
                ])
            box, grey, fmt = WORKLOADS[workload]
            print(f"\n## {folder_name} ({rows[0]['files']} files): box {box} -> {'grey' if grey else 'colour'} {fmt.upper()}\n")
            print(_table(table_rows, ["pipeline", "files/s", "median s", "time / fastbatch", "peak RSS MB", "mean|d|", "p99.9|d|"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"workers": args.workers, "rounds": args.rounds, "results": results}, indent=1))
    _chart(results, args.chart)
    return 0


def _chart(results, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib missing, no chart", file=sys.stderr)
        return
    cases = sorted({(r["folder"], r["workload"]) for r in results}, key=lambda c: (c[0], list(WORKLOADS).index(c[1])))
    names = [n for n in PIPELINES if any(r["pipeline"] == n for r in results)]
    figure, axis = plt.subplots(figsize=(max(6, 1.8 * len(cases)), 4))
    width = 0.8 / len(names)
    for index, name in enumerate(names):
        values = [next((r["files_per_s"] for r in results if (r["folder"], r["workload"]) == c and r["pipeline"] == name), 0)
                  for c in cases]
        axis.bar([i + index * width for i in range(len(cases))], values, width, label=name)
    axis.set_xticks([i + 0.4 - width / 2 for i in range(len(cases))])
    axis.set_xticklabels([f"{f}\n{w}" for f, w in cases])
    axis.set_ylabel("files / s (higher is better)")
    axis.set_title("fastbatch batch benchmark: same folder, same workers")
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        name, folder, out, workload, workers = sys.argv[2:7]
        seconds = run_pipeline(name, Path(folder), Path(out), workload, int(workers))
        print(json.dumps({"seconds": seconds}))
        raise SystemExit(0)
    raise SystemExit(main())
