"""Resource faults during a batch: file-size limit, full disk, an output folder that turns read-only,
inputs that vanish or change mid-batch, memory exhaustion. Each is a named failure of the files it
hits, the other files are written, and nothing partial or temporary is left in the output.

Tests run as root, so permissions (chmod) stop nothing: the faults come from RLIMIT_FSIZE and
RLIMIT_AS in a child process, a small tmpfs and the immutable attribute (skipped where the
machine does not allow mount / chattr).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import numpy as np
import pytest
from PIL import Image

import fastbatch

import batch_corpus as corpus


def _noise_png(path: Path, side: int, seed: int = 0) -> Path:
    # Noise does not compress: the output's size is about side * side * 3 bytes.
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path)
    return path


def _leftovers(folder: Path) -> List[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.startswith(".") or "fastbatch-tmp" in p.name)


def _cli(args: List[str], preexec=None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fastbatch", *args], capture_output=True, text=True, timeout=timeout, preexec_fn=preexec
    )


@pytest.fixture
def mixed_inputs(tmp_path: Path) -> Path:
    """Two outputs far over 100 kB (big noise) and three far under (small noise), --no-upscale keeping sizes."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i, side in enumerate([400, 380, 40, 30, 20]):
        _noise_png(folder / f"n{side}.png", side, seed=i)
    return folder


def test_file_size_limit_fails_the_big_outputs_only(tmp_path: Path, mixed_inputs: Path) -> None:
    import resource

    limit = 100_000

    def limit_file_size() -> None:  # in the child; Python ignores SIGXFSZ, so writes fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = tmp_path / "out"
    result = _cli([str(mixed_inputs), str(out), "--size", "1000", "--no-upscale", "--workers", "2"], preexec=limit_file_size)
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 2 and all("File too large" in line for line in failed), result.stderr
    assert {p.name for p in out.iterdir()} == {"n40.png", "n30.png", "n20.png"}
    assert _leftovers(out) == []
    assert "3 written, 2 failed" in result.stderr


@pytest.fixture
def small_tmpfs(tmp_path: Path):
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs root and mount for a small tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_is_a_named_failure_and_leaves_nothing_partial(small_tmpfs: Path, mixed_inputs: Path) -> None:
    # 256 kB holds the small outputs but not a 400x400 or 380x380 noise PNG (~450 kB each).
    out = small_tmpfs / "out"
    report = fastbatch.process_batch(mixed_inputs, out, size=1000, upscale=False, workers=1)
    failed = dict(report.failed)
    assert set(failed) == {mixed_inputs / "n400.png", mixed_inputs / "n380.png"}, report.failed
    assert all("No space left on device" in reason for reason in failed.values()), failed
    assert len(report.succeeded) == 3
    assert _leftovers(out) == []
    for _, dst in report.succeeded:
        with Image.open(dst) as written:
            written.load()


def _immutable(folder: Path, on: bool) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", "+i" if on else "-i", str(folder)], capture_output=True).returncode == 0


def test_output_folder_turning_read_only_mid_batch(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(4):
        corpus.save(corpus.photo(60 - 5 * i, 80, seed=i), inputs / f"p{i}.png")  # p0 is largest: runs first
    out = tmp_path / "out"
    out.mkdir()
    if not _immutable(out, True):
        pytest.skip("chattr +i is not available here (file system or capability)")
    _immutable(out, False)

    def freeze_after_first(outcome, done: int, total: int) -> None:
        if done == 1:
            assert _immutable(out, True)  # root cannot create files in an immutable folder either

    try:
        report = fastbatch.process_batch(inputs, out, size=32, workers=1, progress=freeze_after_first)
    finally:
        _immutable(out, False)
    assert [src.name for src, _ in report.succeeded] == ["p0.png"]
    assert len(report.failed) == 3
    assert all("Operation not permitted" in reason for _, reason in report.failed), report.failed
    assert sorted(p.name for p in out.iterdir()) == ["p0.png"]


def test_inputs_deleted_or_changed_mid_batch(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    # Largest first, one worker: a (biggest) runs first, then b, c, d, e.
    for name, height in [("a", 90), ("b", 80), ("c", 70), ("d", 60), ("e", 50)]:
        corpus.save(corpus.photo(height, 100, seed=height), inputs / f"{name}.png")

    def sabotage(outcome, done: int, total: int) -> None:
        if done == 1:  # headers were probed already; now the files change under the batch
            (inputs / "b.png").unlink()
            (inputs / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage, not a PNG any more")
            corpus.save(corpus.photo(2000, 2000, seed=1), inputs / "d.png")  # now over the pixel limit

    out = tmp_path / "out"
    report = fastbatch.process_batch(inputs, out, size=40, workers=1, max_pixels=100 * 100, progress=sabotage)
    failed = {src.name: reason for src, reason in report.failed}
    assert failed["b.png"] == "file not found"
    assert failed["c.png"].startswith(("not an image", "truncated or corrupt", "unreadable header")), failed
    assert failed["d.png"].startswith("too many pixels"), failed  # checked again at decode time
    assert sorted(src.name for src, _ in report.succeeded) == ["a.png", "e.png"]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "e.png"]


# Runs the command with an address-space limit of (what the process already maps) + HEADROOM_MB:
# small files fit, a file whose decode alone needs more does not. Measured after the imports, so
# the limit does not depend on how big numpy, Pillow and the core are on this machine.
OOM_DRIVER = r"""
import resource, sys
import numpy, PIL.Image, fastbatch, fastbatch.cli
from concurrent.futures import ThreadPoolExecutor
with ThreadPoolExecutor(4) as pool:  # let the thread machinery map what it needs first
    list(pool.map(abs, range(8)))
fastbatch.resize(numpy.zeros((64, 64, 3), numpy.uint8), (32, 32))  # and the OpenMP runtime
for line in open("/proc/self/status"):
    if line.startswith("VmSize:"):
        mapped = int(line.split()[1]) * 1024
limit = mapped + int(sys.argv[1]) * (1 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.exit(fastbatch.cli.main(sys.argv[2:]))
"""


def test_out_of_memory_fails_one_file_and_the_batch_goes_on(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    # 12000x12000 grey compresses to almost nothing but needs 144 MB to decode: over the headroom.
    Image.new("L", (12000, 12000), 128).save(inputs / "huge.png")
    for i in range(3):
        corpus.save(corpus.photo(40, 50, seed=i), inputs / f"small{i}.png")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", OOM_DRIVER, "100", str(inputs), str(out), "--size", "6000", "--no-upscale",
         "--workers", "1", "--max-pixels", "0"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "huge.png" in failed[0] and "memory" in failed[0], result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["small0.png", "small1.png", "small2.png"]
    assert _leftovers(out) == []
