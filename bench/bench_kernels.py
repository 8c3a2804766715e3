"""Kernel benchmark: fastbatch resize / grayscale against Pillow, cykooz_resizer, pyvips and OpenCV.

Every contender gets the same uint8 pixels already in memory (decoding is not measured), and is
timed round-robin: one call of each contender per round, the start of the round rotating, so a
burst of noise from the (shared) machine lands on everyone instead of on whoever ran at that moment.
The figure that counts is the ratio "contender median / fastbatch's best median" within one case,
measured in the same run. Pixels are compared with Pillow's LANCZOS, the reference users trust.

    python bench/bench_kernels.py              # full run (a few minutes on 2 cores)
    python bench/bench_kernels.py --quick      # small image, 2 rounds: smoke test
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

import fastbatch
from fastbatch import _core

HERE = Path(__file__).resolve().parent
MODES = {1: "L", 3: "RGB", 4: "RGBA"}
N_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------- peers
# Each peer is optional: a missing or broken install must cost its rows, not the whole run.

def _try_import(label: str, loader: Callable[[], object]):
    try:
        return loader()
    except Exception as exc:  # ImportError, or OSError when pyvips cannot load libvips
        print(f"note: {label} unavailable, its rows are skipped ({type(exc).__name__}: {exc})")
        return None


def _load_cv2():
    import cv2

    return cv2


def _load_pyvips():
    import pyvips

    # Without this, libvips would serve a repeated resize from its operation cache and the timing
    # would measure a dictionary lookup.
    pyvips.cache_set_max(0)
    return pyvips


def _load_cykooz():
    # Version 4 renamed the import from cykooz.resizer to cykooz_resizer; accept both.
    try:
        import cykooz_resizer as cr
    except ImportError:
        from cykooz import resizer as cr
    return cr


cv2 = _try_import("OpenCV (opencv-python-headless)", _load_cv2)
pyvips = _try_import("pyvips", _load_pyvips)
cr = _try_import("cykooz_resizer", _load_cykooz)


def _cykooz_best_extension(resizer) -> str:
    """Fastest CPU extension the library accepts here; setting an unsupported one raises or falls back,
    so read it back rather than trusting the request."""
    for name in ("avx2", "sse4_1", "neon", "none"):
        ext = getattr(cr.CpuExtensions, name, None)
        if ext is None:
            continue
        try:
            resizer.cpu_extensions = ext
        except Exception:
            continue
        if resizer.cpu_extensions is ext:
            return name
    return resizer.cpu_extensions.name


# ---------------------------------------------------------------------------------------- the image

def make_photo(width: int, height: int, seed: int = 20240601) -> dict[str, np.ndarray]:
    """A photo-like RGB image (smooth light + shapes with hard edges + texture + sensor noise) and its
    L and RGBA (soft alpha) variants. Pure noise would flatter no one and a flat gradient would hide
    ringing; this has both large smooth areas and detail at every scale, like a real photo."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    aspect = np.float32(width / height)

    planes = []
    base = np.array([0.55, 0.45, 0.35], np.float32)
    tilt = rng.uniform(-0.25, 0.25, (3, 2)).astype(np.float32)
    for c in range(3):
        # smooth "lighting": a tilted gradient and a few broad, soft blobs
        p = base[c] + tilt[c, 0] * x + tilt[c, 1] * y
        planes.append(np.broadcast_to(p, (height, width)).copy())
    for _ in range(6):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.08, 0.3)
        colour = rng.uniform(-0.3, 0.3, 3).astype(np.float32)
        blob = np.exp(-(((x - cx) * aspect) ** 2 + (y - cy) ** 2) / (2 * r * r)).astype(np.float32)
        for c in range(3):
            planes[c] += colour[c] * blob
    # hard-edged shapes: the edges are where Lanczos rings and where filters disagree most
    for _ in range(12):
        x0, y0 = rng.uniform(0, 0.9), rng.uniform(0, 0.9)
        w, h = rng.uniform(0.03, 0.2), rng.uniform(0.03, 0.2)
        ys = slice(int(y0 * height), int(min(1.0, y0 + h) * height))
        xs = slice(int(x0 * width), int(min(1.0, x0 + w) * width))
        colour = rng.uniform(-0.35, 0.35, 3).astype(np.float32)
        for c in range(3):
            planes[c][ys, xs] += colour[c]
    # texture at several frequencies (fine detail is what a downscale must not alias)
    tex = np.zeros((height, width), np.float32)
    for period_px, amp in ((3.1, 0.03), (11.0, 0.04), (47.0, 0.05)):
        angle = rng.uniform(0, np.pi)
        u = (np.cos(angle) * x * width + np.sin(angle) * y * height) / period_px
        tex += amp * np.sin(2 * np.pi * u + rng.uniform(0, 2 * np.pi)).astype(np.float32)
    noise_sigma = 0.025
    rgb = np.empty((height, width, 3), np.uint8)
    for c in range(3):
        p = planes[c] + tex * (0.8 + 0.2 * c) + rng.normal(0, noise_sigma, (height, width)).astype(np.float32)
        rgb[..., c] = np.clip(p * 255.0 + 0.5, 0, 255).astype(np.uint8)
    planes.clear()

    # soft alpha: an ellipse opaque in the middle that fades to fully transparent over a wide band,
    # so every alpha value from 0 to 255 occurs (where premultiplication matters)
    r = np.sqrt(((x - 0.5) / 0.45) ** 2 + ((y - 0.5) / 0.45) ** 2)
    alpha = np.clip((1.1 - r) / 0.35, 0.0, 1.0)
    alpha = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    rgba = np.dstack([rgb, alpha])
    # L as a photo converted to grey would be: Pillow's own conversion of the same RGB
    grey = np.asarray(Image.fromarray(rgb, "RGB").convert("L"))
    return {"RGB": rgb, "RGBA": rgba, "L": np.ascontiguousarray(grey)}


# ---------------------------------------------------------------------------------------- contenders

@dataclass
class Contender:
    name: str
    run: Callable[[], np.ndarray | object]  # the timed call
    to_array: Callable[[object], np.ndarray] = lambda out: out  # untimed: result -> ndarray
    prepare: Callable[[], None] = lambda: None  # untimed, before every call: global thread knobs, ISA
    finish: Callable[[], None] = lambda: None  # untimed, after every call
    threads: str = "1"
    is_fastbatch: bool = False
    note: str = ""
    samples: list[float] = field(default_factory=list)
    output: np.ndarray | None = None
    error: str | None = None


def _as_pil(a: np.ndarray) -> Image.Image:
    return Image.fromarray(a, MODES[1 if a.ndim == 2 else a.shape[2]])


def _fastbatch_contenders(make_call: Callable[[int | None], Callable], nthreads: int | None) -> list[Contender]:
    out = []
    for isa in _core.available_isas():
        def prepare(isa=isa):
            _core.select_isa(isa)

        out.append(Contender(f"fastbatch [{isa}]", make_call(nthreads), prepare=prepare, finish=_restore_isa,
                             threads=str(nthreads or N_CORES), is_fastbatch=True))
    return out


_DEFAULT_ISA = _core.active_isa()


def _restore_isa() -> None:
    _core.select_isa(_DEFAULT_ISA)


def _set_cv2_threads(n: int) -> Callable[[], None]:
    return lambda: cv2.setNumThreads(n)


def _set_vips_threads(n: int) -> Callable[[], None]:
    # concurrency_set takes effect for the next pipeline, so it can be flipped between calls; the
    # VIPS_CONCURRENCY variable only works if set before libvips starts.
    return lambda: pyvips.concurrency_set(n)


def resize_contenders(src: np.ndarray, size: tuple[int, int], nthreads: int | None, *, downscale: bool,
                      cykooz_pools: dict) -> list[Contender]:
    w, h = size
    sh, sw = src.shape[:2]
    ch = 1 if src.ndim == 2 else src.shape[2]
    n = nthreads or N_CORES
    cands = _fastbatch_contenders(lambda t: (lambda: fastbatch.resize(src, size, filter="lanczos3", threads=t)),
                                  nthreads)

    if downscale:
        # The batch tool's default mode: the passes in the faster order (not within 1 of Pillow), on
        # the default instruction set. A peer row, so the ratios stay relative to fastbatch.resize.
        left_top_right_bottom = (0.0, 0.0, float(sw), float(sh))
        cands.append(Contender("fastbatch any order",
                               lambda: _core.resize_box(src, w, h, *left_top_right_bottom, "lanczos3", n, True),
                               threads=str(n), note="batch default mode: faster pass order"))

    pil = _as_pil(src)
    pil.load()
    pil_threads = "1*" if n > 1 else "1"  # Pillow has no threads knob; the star says so in the table
    cands.append(Contender("Pillow LANCZOS", lambda: pil.resize(size, Image.Resampling.LANCZOS),
                           to_array=np.asarray, threads=pil_threads))
    if downscale:
        cands.append(Contender("Pillow LANCZOS gap=2", lambda: pil.resize(size, Image.Resampling.LANCZOS,
                                                                           reducing_gap=2.0),
                               to_array=np.asarray, threads=pil_threads, note="box pre-shrink, then Lanczos"))

    if cr is not None:
        resizer = cr.Resizer()
        ext = _cykooz_best_extension(resizer)
        ptype = {1: cr.PixelType.U8, 3: cr.PixelType.U8x3, 4: cr.PixelType.U8x4}[ch]
        # ImageData accepts only bytes, so the source copy is made once here, outside the timing.
        cy_src = cr.ImageData(sw, sh, ptype, src.tobytes())
        # thread_pool=None runs on the calling thread; a pool must be kept referenced or its threads are
        # not used (seen with 4.0.1), hence the cache held by the caller.
        pool = None if n == 1 else cykooz_pools.setdefault(n, cr.ResizerThreadPool(n))
        # use_alpha defaults to True: U8x4 is multiplied by alpha before and divided after, as Pillow does
        opts = cr.ResizeOptions(resize_alg=cr.ResizeAlg.convolution(cr.FilterType.lanczos3), thread_pool=pool)

        def cy_run():
            dst = cr.ImageData(w, h, ptype)
            resizer.resize(cy_src, dst, opts)
            return dst

        def cy_array(dst):
            a = np.frombuffer(dst.get_buffer(), np.uint8)
            return a.reshape((h, w)) if ch == 1 else a.reshape((h, w, ch))

        cands.append(Contender(f"cykooz_resizer [{ext}]", cy_run, to_array=cy_array, threads=str(n),
                               note="premultiplied alpha" if ch == 4 else ""))

    if pyvips is not None:
        def vips_run(gap: float | None):
            def run():
                im = pyvips.Image.new_from_memory(src, sw, sh, ch, "uchar")
                kw = {"vscale": h / sh, "kernel": "lanczos3"}
                if gap is not None:
                    kw["gap"] = gap
                if ch == 4:
                    # libvips resizes straight alpha unless asked; premultiply as vips thumbnail does
                    out = im.premultiply().resize(w / sw, **kw).unpremultiply().cast("uchar")
                else:
                    out = im.resize(w / sw, **kw)
                buf = out.write_to_memory()
                return np.frombuffer(buf, np.uint8).reshape((out.height, out.width, out.bands)).squeeze()
            return run

        cands.append(Contender("pyvips lanczos3", vips_run(None), prepare=_set_vips_threads(n), threads=str(n),
                               # libvips docs: upsizing goes through vips_affine with the "bicubic"
                               # interpolator for kernels >= cubic, so its "lanczos3" upscale is not Lanczos3
                               note="libvips default gap (box pre-shrink)" if downscale
                               else "upsizes with bicubic affine (libvips docs)"))
        if downscale:
            cands.append(Contender("pyvips lanczos3 gap=0", vips_run(0.0), prepare=_set_vips_threads(n),
                                   threads=str(n), note="exact Lanczos, like fastbatch"))

    if cv2 is not None:
        cands.append(Contender("OpenCV INTER_AREA", lambda: cv2.resize(src, size, interpolation=cv2.INTER_AREA),
                               prepare=_set_cv2_threads(n), threads=str(n),
                               note="straight alpha" if ch == 4 else ""))
        cands.append(Contender("OpenCV INTER_LANCZOS4",
                               lambda: cv2.resize(src, size, interpolation=cv2.INTER_LANCZOS4),
                               prepare=_set_cv2_threads(n), threads=str(n),
                               note="fixed 8x8 kernel" + (", straight alpha" if ch == 4 else "")))
    return cands


def grey_contenders(src: np.ndarray, nthreads: int | None) -> list[Contender]:
    n = nthreads or N_CORES
    cands = _fastbatch_contenders(lambda t: (lambda: fastbatch.grayscale(src, weights="bt601", threads=t)), nthreads)
    pil = _as_pil(src)
    pil.load()
    cands.append(Contender('Pillow convert("L")', lambda: pil.convert("L"), to_array=np.asarray,
                           threads="1*" if n > 1 else "1"))
    if cv2 is not None:
        cands.append(Contender("OpenCV cvtColor RGB2GRAY", lambda: cv2.cvtColor(src, cv2.COLOR_RGB2GRAY),
                               prepare=_set_cv2_threads(n), threads=str(n)))
    return cands


# -------------------------------------------------------------------------------------------- timing

def run_interleaved(cands: list[Contender], rounds: int) -> None:
    """One untimed warm-up call each (it also yields the pixels for the fidelity column), then
    `rounds` rounds with one timed call per contender, the starting contender rotating per round."""
    for c in cands:
        try:
            c.prepare()
            c.output = np.asarray(c.to_array(c.run()))
        except Exception as exc:  # one peer failing on one case must not stop the others
            c.error = f"{type(exc).__name__}: {exc}"
            print(f"note: {c.name} failed, skipped in this case ({c.error})")
        finally:
            c.finish()
    live = [c for c in cands if c.error is None]
    for r in range(rounds):
        gc.collect()  # a collection inside a timed call would be charged to whoever triggered it
        order = live[r % len(live):] + live[:r % len(live)] if live else []
        for c in order:
            c.prepare()
            gc.disable()
            t0 = time.perf_counter()
            result = c.run()
            dt = time.perf_counter() - t0
            gc.enable()
            c.finish()
            del result
            c.samples.append(dt)


def _premultiplied(a: np.ndarray) -> np.ndarray:
    wide = a.astype(np.int32)
    wide[..., :-1] = (wide[..., :-1] * wide[..., -1:] + 127) // 255
    return wide


def max_abs_diff(a: np.ndarray | None, ref: np.ndarray, alpha: bool) -> int | None:
    """None when the shapes differ. With alpha, colour x alpha is compared: the colour of an invisible
    pixel is arbitrary, and dividing by a small alpha magnifies a 1-unit difference up to 255x."""
    if a is None or a.shape != ref.shape:
        return None
    if alpha:
        a, ref = _premultiplied(a), _premultiplied(ref)
    return int(np.abs(a.astype(np.int32) - ref.astype(np.int32)).max())


def summarise(case: dict, cands: list[Contender], ref: np.ndarray, alpha: bool) -> list[dict]:
    rows = []
    fb = [statistics.median(c.samples) for c in cands if c.is_fastbatch and c.samples]
    best = min(fb) if fb else None
    for c in cands:
        med = statistics.median(c.samples) if c.samples else None
        rows.append({
            **case,
            "contender": c.name,
            "threads": c.threads,
            "is_fastbatch": c.is_fastbatch,
            "median_ms": None if med is None else med * 1e3,
            "min_ms": min(c.samples) * 1e3 if c.samples else None,
            "samples_ms": [s * 1e3 for s in c.samples],
            "ratio_vs_fastbatch": None if (med is None or best is None) else med / best,
            "max_abs_diff_vs_pillow": max_abs_diff(c.output, ref, alpha),
            "note": c.note,
            "error": c.error,
        })
    return rows


def print_case(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"  {'contender':<26}{'threads':>8}{'median ms':>11}{'min ms':>8}{'ratio':>8}{'max|diff|':>11}  note")
    for r in rows:
        if r["error"]:
            print(f"  {r['contender']:<26}{r['threads']:>8}{'failed':>11}{'':>16}{'':>11}  {r['error'][:60]}")
            continue
        diff = "shape!" if r["max_abs_diff_vs_pillow"] is None else str(r["max_abs_diff_vs_pillow"])
        print(f"  {r['contender']:<26}{r['threads']:>8}{r['median_ms']:>11.1f}{r['min_ms']:>8.1f}"
              f"{r['ratio_vs_fastbatch']:>8.2f}"
              f"{diff:>11}  {r['note']}")
    sys.stdout.flush()


# ------------------------------------------------------------------------------------------- summary

SUMMARY_PEERS = [  # (column title, contender name); absent peers are shown as "-"
    ("fb any", "fastbatch any order"),
    ("Pillow", "Pillow LANCZOS"),
    ("Pil gap2", "Pillow LANCZOS gap=2"),
    ("cykooz", "cykooz_resizer"),
    ("vips", "pyvips lanczos3"),
    ("vips gap0", "pyvips lanczos3 gap=0"),
    ("cv AREA", "OpenCV INTER_AREA"),
    ("cv LANC4", "OpenCV INTER_LANCZOS4"),
]


GREY_PEERS = ['Pillow convert("L")', "OpenCV cvtColor RGB2GRAY"]


def _find(rows: list[dict], name: str) -> dict | None:
    """The measured row of contender `name`; "cykooz_resizer" also matches "cykooz_resizer [avx2]"."""
    for r in rows:
        if (r["contender"] == name or r["contender"].startswith(name + " [")) and r["ratio_vs_fastbatch"]:
            return r
    return None


def summary_table(rows: list[dict]) -> str:
    """One line per case: fastbatch's best median, then each peer's ratio (peer / fastbatch)."""
    cases: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["op"] == "resize":
            cases.setdefault((r["mode"], r["src"], r["dst"], r["threads_requested"]), []).append(r)
    head = f"| {'case':<30} | {'thr':>3} | {'fastbatch ms':>12} |" + "".join(f" {t:>9} |" for t, _ in SUMMARY_PEERS)
    lines = [head, "|" + "|".join("-" * (len(p)) for p in head.split("|")[1:-1]) + "|"]
    for (mode, src, dst, thr), rs in cases.items():
        fb = [r["median_ms"] for r in rs if r["is_fastbatch"] and r["median_ms"] is not None]
        cells = []
        for _, name in SUMMARY_PEERS:
            hit = _find(rs, name)
            cells.append(f"{hit['ratio_vs_fastbatch']:.2f}" if hit else "-")
        label = f"{mode} {src} -> {dst}"
        lines.append(f"| {label:<30} | {thr:>3} | {min(fb) if fb else float('nan'):>12.1f} |"
                     + "".join(f" {c:>9} |" for c in cells))
    grey = [r for r in rows if r["op"] == "grayscale"]
    if grey:
        lines.append("")
        lines.append(f"| {'grayscale (RGB -> L)':<30} | {'thr':>3} | {'fastbatch ms':>12} | {'Pillow':>9} | {'cv2':>9} |")
        lines.append("|" + "-" * 32 + "|" + "-" * 5 + "|" + "-" * 14 + "|" + "-" * 11 + "|" + "-" * 11 + "|")
        by: dict[tuple, list[dict]] = {}
        for r in grey:
            by.setdefault((r["src"], r["threads_requested"]), []).append(r)
        for (src, thr), rs in by.items():
            fb = [r["median_ms"] for r in rs if r["is_fastbatch"] and r["median_ms"] is not None]
            cells = [_find(rs, name) for name in GREY_PEERS]
            lines.append(f"| {'bt601 ' + src:<30} | {thr:>3} | {min(fb) if fb else float('nan'):>12.1f} |"
                         + "".join(f" {c['ratio_vs_fastbatch']:>9.2f} |" if c else f" {'-':>9} |" for c in cells))
    return "\n".join(lines)


def draw_chart(rows: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display on servers and CI
        import matplotlib.pyplot as plt
    except Exception as exc:
        print(f"note: matplotlib unavailable, no chart ({type(exc).__name__}: {exc})")
        return
    peers = [name for _, name in SUMMARY_PEERS] + GREY_PEERS
    fig, axes = plt.subplots(2, 1, figsize=(15, 9), sharey=True)
    for ax, thr in zip(axes, ["1", "all"]):
        sel = [r for r in rows if r["threads_requested"] == thr]
        cases = []
        for r in sel:
            key = (r["op"], r["mode"], r["src"], r["dst"])
            if key not in cases:
                cases.append(key)
        present = [p for p in peers if _find(sel, p)]
        width = 0.85 / max(1, len(present))
        cmap = plt.get_cmap("tab10")
        for i, peer in enumerate(present):
            xs, ys = [], []
            for j, key in enumerate(cases):
                hit = _find([r for r in sel if (r["op"], r["mode"], r["src"], r["dst"]) == key], peer)
                if hit:
                    xs.append(j - 0.425 + width * (i + 0.5))
                    ys.append(hit["ratio_vs_fastbatch"])
            label = peer
            ax.bar(xs, ys, width, label=label, color=cmap(i % 10))
        ax.axhline(1.0, color="black", lw=1)
        ax.set_yscale("log")
        ax.set_xticks(range(len(cases)))
        ax.set_xticklabels([("gray " if op == "grayscale" else "") + f"{m}\n{s}\n-> {d}" for op, m, s, d in cases],
                           fontsize=8)
        ax.set_ylabel("peer time / fastbatch time\n(> 1: fastbatch faster)")
        ax.set_title(f"threads = {'1' if thr == '1' else f'all ({N_CORES} cores)'}")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))  # outside: never hides a bar
    fig.suptitle(f"fastbatch kernels vs peers ({_dt.date.today().isoformat()}, {platform.node() or 'host'}, "
                 f"{N_CORES} cores, same-run ratios)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"chart: {path}")


# ----------------------------------------------------------------------------------------------- main

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")), "")
        flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), [])
        simd = [f for f in ("sse4_1", "avx2", "fma", "avx512f", "avx512bw") if f in flags]
        return f"{model} ({', '.join(simd)})"
    except OSError:
        return platform.processor()


def _versions() -> dict:
    import PIL

    v = {"python": platform.python_version(), "numpy": np.__version__, "Pillow": PIL.__version__,
         "fastbatch": getattr(fastbatch, "__version__", "?")}
    if cv2 is not None:
        v["opencv"] = cv2.__version__
    if pyvips is not None:
        v["pyvips"] = pyvips.__version__
        v["libvips"] = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    if cr is not None:
        try:
            from importlib.metadata import version

            v["cykooz_resizer"] = version("cykooz-resizer")
        except Exception:
            v["cykooz_resizer"] = "?"
    return v


def _load() -> str:
    """Load average: on a shared machine, other tenants' work competes for the same cores, mostly
    hurting the all-cores rows; printing it lets the reader judge a run."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small image and 2 rounds: a smoke test, not a measurement")
    ap.add_argument("--rounds", type=int, default=None, help="timed rounds per case (default 7, quick 2)")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "kernels.json", help="where to write all samples")
    ap.add_argument("--chart", type=Path, default=HERE / "kernels.png", help="bar chart of the ratios (PNG)")
    args = ap.parse_args(argv)

    rounds = args.rounds or (2 if args.quick else 7)
    width, height = (1280, 720) if args.quick else (5120, 2880)
    # downscale 4:1 and to a thumbnail; upscale a square crop by 1.8 (1000 -> 1800 in the full run)
    crop = 250 if args.quick else 1000
    down_sizes = [(width // 4, height // 4), (300, 169)]
    up_size = (crop * 9 // 5, crop * 9 // 5)

    print(f"fastbatch kernel benchmark: {width}x{height} source, {rounds} rounds after 1 warm-up, "
          f"{N_CORES} cores, fastbatch ISAs {_core.available_isas()} (default {_DEFAULT_ISA})")
    print(f"cpu: {_cpu_model()}; load average at start: {_load()}")
    load_start = _load()
    print("ratio = median / fastbatch's best median in the same case (> 1: fastbatch faster); "
          "max|diff| vs Pillow LANCZOS (RGBA: on colour x alpha); 1* = single-threaded, no knob")
    t_start = time.perf_counter()
    images = make_photo(width, height)
    print(f"image generated in {time.perf_counter() - t_start:.1f} s")

    rows: list[dict] = []
    cykooz_pools: dict = {}
    thread_settings = [(1, "1"), (None, "all")]
    for mode in ("RGB", "RGBA", "L"):
        full = images[mode]
        cropped = np.ascontiguousarray(full[(height - crop) // 2:(height + crop) // 2,
                                            (width - crop) // 2:(width + crop) // 2])
        jobs = [(full, s, True) for s in down_sizes] + [(cropped, up_size, False)]
        for src, size, downscale in jobs:
            ref = np.asarray(_as_pil(src).resize(size, Image.Resampling.LANCZOS))
            for nthreads, label in thread_settings:
                case = {"op": "resize", "mode": mode, "src": f"{src.shape[1]}x{src.shape[0]}",
                        "dst": f"{size[0]}x{size[1]}", "threads_requested": label}
                cands = resize_contenders(src, size, nthreads, downscale=downscale, cykooz_pools=cykooz_pools)
                run_interleaved(cands, rounds)
                case_rows = summarise(case, cands, ref, alpha=(mode == "RGBA"))
                rows += case_rows
                print_case(f"{mode} {case['src']} -> {case['dst']}, threads={label}", case_rows)

    rgb = images["RGB"]
    ref = np.asarray(_as_pil(rgb).convert("L"))
    for nthreads, label in thread_settings:
        case = {"op": "grayscale", "mode": "RGB", "src": f"{width}x{height}", "dst": "L",
                "threads_requested": label}
        cands = grey_contenders(rgb, nthreads)
        run_interleaved(cands, rounds)
        case_rows = summarise(case, cands, ref, alpha=False)
        rows += case_rows
        print_case(f"grayscale bt601 RGB {width}x{height} -> L, threads={label}", case_rows)

    _restore_isa()
    elapsed = time.perf_counter() - t_start
    print("\nSummary: fastbatch best median (ms) and each peer's ratio (peer / fastbatch; > 1: fastbatch faster)\n")
    print(summary_table(rows))
    load_end = _load()
    print(f"\ntotal {elapsed:.0f} s; load average at end: {load_end}")

    meta = {"date": _dt.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
            "cpu": _cpu_model(), "cores": N_CORES, "rounds": rounds, "image": f"{width}x{height}",
            "quick": args.quick, "fastbatch_isas": _core.available_isas(), "versions": _versions(),
            "elapsed_s": elapsed, "loadavg_start": load_start, "loadavg_end": load_end}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"json: {args.json}")
    draw_chart(rows, args.chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
