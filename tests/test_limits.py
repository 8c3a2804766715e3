"""Limits: pixel counts checked from the header before decoding (bombs), --max-pixels, target sizes
that would overflow refused before anything is allocated, and memory bounded over a batch of 24 MP
photos (peak RSS measured; the numbers are printed with -s and written in the issue's note).
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fastbatch
from fastbatch import io as imageio

import batch_corpus as corpus


def _jpeg_claiming(path: Path, width: int, height: int) -> Path:
    """A small real JPEG whose SOF header is patched to announce width x height."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_bomb_headers_are_refused_before_decoding(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture) -> None:
    src = corpus.png_bomb(tmp_path / "bomb.png", 60000, 60000) if kind == "png" else _jpeg_claiming(
        tmp_path / "bomb.jpg", 60000, 60000
    )
    started = time.perf_counter()
    # As a library, Pillow's own header check (on open) or ours refuses it; either way nothing is decoded.
    with pytest.raises(imageio.TooManyPixelsError, match=r"too many pixels"):
        imageio.decode(src, max_pixels=imageio.default_max_pixels())
    with pytest.raises(imageio.TooManyPixelsError, match=r"too many pixels"):
        imageio.read_header(src, max_pixels=10**6)
    # The command lifts Pillow's own check and applies --max-pixels from the header: still refused,
    # not decoded (a decode would have to allocate 10.8 GB before noticing the missing data).
    from fastbatch import cli

    assert cli.main([str(tmp_path), str(tmp_path / "out"), "--size", "100", "--ext", "png" if kind == "png" else "jpg", "--quiet"]) == 1
    failures = [line for line in capsys.readouterr().err.splitlines() if line.startswith("failed:")]
    assert len(failures) == 1
    assert failures[0].endswith("too many pixels: 60000x60000 = 3600000000 > limit %d" % imageio.default_max_pixels())
    assert time.perf_counter() - started < 5


def test_max_pixels_option_is_respected(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    corpus.save(corpus.photo(40, 40), inputs / "small.png")  # 1600 pixels
    corpus.save(corpus.photo(60, 60), inputs / "large.png")  # 3600 pixels

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "fastbatch", str(inputs), str(tmp_path / "out"), "--size", "16",
                               *extra], capture_output=True, text=True, timeout=60)

    limited = run("--max-pixels", "2k")
    assert limited.returncode == 1
    assert "large.png: too many pixels: 60x60 = 3600 > limit 2000" in limited.stderr
    assert "small.png" not in limited.stderr
    unlimited = run("--max-pixels", "0", "--report", str(tmp_path / "r.json"))
    assert unlimited.returncode == 0, unlimited.stderr
    exact = run("--max-pixels", "3600")  # the limit itself is allowed
    assert exact.returncode == 0, exact.stderr


# Runs a resize with an address-space limit barely above what the process maps: an oversized target
# must be refused by validation (ValueError), which proves nothing was allocated for it first.
REFUSE_DRIVER = r"""
import resource, sys
import numpy as np, fastbatch
src = np.zeros((4, 4, 4), np.uint8)
fastbatch.resize(src, (8, 8))
for line in open("/proc/self/status"):
    if line.startswith("VmSize:"):
        limit = int(line.split()[1]) * 1024 + (64 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
for size in [(2**24 + 1, 1), (1, 2**31 - 1), (2**24, 2**24), (2**24, 2**13), (2**63 - 1, 2**63 - 1)]:
    try:
        fastbatch.resize(src, size)
    except ValueError as error:
        print("refused", size, error)
    else:
        raise SystemExit("accepted %r" % (size,))
try:
    fastbatch.resize(src, (2**24, 2**10))  # 64 GiB: above the 4 GiB output limit
except ValueError as error:
    print("refused", error)
try:
    fastbatch.resize(src, (2**15, 2**14))  # 2 GiB: allowed, but cannot be allocated here
except MemoryError:
    print("memory error")
"""


def test_oversized_targets_are_refused_before_allocating() -> None:
    result = subprocess.run([sys.executable, "-c", REFUSE_DRIVER], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("refused") == 6
    assert "too large" in result.stdout
    assert "memory error" in result.stdout


def test_memory_stays_bounded_over_fifty_24mp_images(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    # One 6000x4000 JPEG, hard-linked under 50 names: 50 full decodes, one encode to set up.
    first = inputs / "photo00.jpg"
    pixels = np.zeros((4000, 6000, 3), np.uint8)
    pixels[..., 0] = np.arange(6000, dtype=np.uint32)[None, :] * 255 // 6000
    pixels[..., 1] = np.arange(4000, dtype=np.uint32)[:, None] * 255 // 4000
    Image.fromarray(pixels).save(first, quality=80)
    del pixels
    for i in range(1, 50):
        os.link(first, inputs / f"photo{i:02d}.jpg")
    budget = 50_000_000  # about two 24 MP photos decoded at once
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastbatch", str(inputs), str(tmp_path / "out"), "--size", "256", "--quiet",
         "--pixels-in-flight", str(budget)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    started = time.perf_counter()
    errors = proc.stderr.read().decode()
    # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would be the max over every child so far).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, errors
    assert len(list((tmp_path / "out").iterdir())) == 50
    peak_mb = usage.ru_maxrss / 1024
    print(f"\n50 x 24 MP JPEG -> 256 px: peak RSS {peak_mb:.0f} MB, {seconds:.1f} s")
    # 24 MP RGB decoded is 72 MB (96 MB in Pillow's 4-byte layout); two in flight plus the numpy
    # copies and the interpreter stay well under 1 GB. Unbounded scheduling of 50 would need ~5 GB.
    assert peak_mb < 1000
