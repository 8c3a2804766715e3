"""Crash safety of the `fastbatch` command: SIGKILL mid-run and Ctrl-C (SIGINT).

The command runs in a child process. A SIGKILL gives the process no chance to clean up, so what it
leaves is exactly what the write path guarantees: every output either complete or absent, and no
temporary file. A run with --skip-existing afterwards must complete the set with the same bytes as an
uninterrupted run. Ctrl-C must stop the batch early, print the summary and exit with 130.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from PIL import Image

import batch_corpus as corpus

N_FILES = 24
ARGS = ["--size", "64x64", "--workers", "2", "--quiet"]

# Runs the command in the child; FASTBATCH_TEST_* variables inject the fault at a chosen point:
#   KILL_AT_FSYNC=n    SIGKILL itself at the n-th os.fsync, i.e. with the n-th output fully written
#                      to its temporary file but not yet renamed into place (the worst moment);
#   DELAY=seconds      sleep before each file, so a signal sent from outside lands mid-batch.
DRIVER = r"""
import os, signal, sys, threading, time
kill_at = int(os.environ.get("FASTBATCH_TEST_KILL_AT_FSYNC", "0"))
delay = float(os.environ.get("FASTBATCH_TEST_DELAY", "0"))
if kill_at:
    real_fsync, calls, lock = os.fsync, [0], threading.Lock()
    def fsync(fd):
        real_fsync(fd)
        with lock:
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
    os.fsync = fsync
if delay:
    from fastbatch import batch
    real_render = batch._render_file
    def slow_render(*args, **kwargs):
        time.sleep(delay)
        return real_render(*args, **kwargs)
    batch._render_file = slow_render
from fastbatch.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _make_inputs(folder: Path) -> Path:
    folder.mkdir()
    for i in range(N_FILES):
        corpus.save(corpus.photo(96 + 4 * i, 128, seed=i), folder / f"img{i:02d}.png")
    return folder


def _run(inputs: Path, out: Path, *extra: str, env: Dict[str, str] = {}, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(inputs), str(out), *ARGS, *extra],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _digests(folder: Path) -> Dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _leftovers(folder: Path) -> List[str]:
    """Anything in the output that is not a finished output: temporary or hidden files."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or "fastbatch-tmp" in p.name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    """The inputs and the outputs of one uninterrupted run."""
    root = tmp_path_factory.mktemp("crash")
    inputs = _make_inputs(root / "in")
    out = root / "reference"
    proc = _run(inputs, out)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    digests = _digests(out)
    assert len(digests) == N_FILES
    return inputs, digests


def _assert_complete_subset(out: Path, reference: Dict[str, str]) -> Dict[str, str]:
    assert _leftovers(out) == []
    found = _digests(out)
    for name, digest in found.items():
        assert digest == reference[name], f"{name} differs from an uninterrupted run (partial write?)"
        with Image.open(out / name) as image:
            image.load()  # decodes in full: a truncated file would raise
    return found


def _resume_completes(inputs: Path, out: Path, reference: Dict[str, str], finished: Dict[str, str]) -> None:
    proc = _run(inputs, out, "--skip-existing")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert _leftovers(out) == []
    assert _digests(out) == reference
    # The outputs that survived the kill were kept (skipped), not rewritten.
    for name in finished:
        assert (out / name).stat().st_size > 0


@pytest.mark.parametrize("kill_at", [1, 5, 17])
def test_sigkill_between_write_and_rename_leaves_no_temporary_file(tmp_path: Path, reference, kill_at: int) -> None:
    inputs, ref = reference
    out = tmp_path / "out"
    proc = _run(inputs, out, env={"FASTBATCH_TEST_KILL_AT_FSYNC": str(kill_at)})
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    finished = _assert_complete_subset(out, ref)
    assert len(finished) < N_FILES
    _resume_completes(inputs, out, ref, finished)


def _wait_for_outputs(out: Path, count: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the batch ended before it could be interrupted: {proc.communicate()}")
        if out.is_dir() and sum(1 for p in out.iterdir() if p.suffix == ".png" and not p.name.startswith(".")) >= count:
            return
        time.sleep(0.005)
    raise AssertionError("no outputs appeared")


def test_sigkill_at_a_random_moment(tmp_path: Path, reference) -> None:
    # An outside kill at whatever point the batch has reached (a short delay per file keeps it mid-run).
    inputs, ref = reference
    out = tmp_path / "out"
    proc = _run(inputs, out, env={"FASTBATCH_TEST_DELAY": "0.02"})
    _wait_for_outputs(out, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    finished = _assert_complete_subset(out, ref)
    _resume_completes(inputs, out, ref, finished)


def test_ctrl_c_stops_cleanly_with_a_summary_and_130(tmp_path: Path, reference) -> None:
    inputs, ref = reference
    out = tmp_path / "out"
    # --quiet would hide the summary; without a terminal there is no bar anyway.
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(inputs), str(out), "--size", "64x64", "--workers", "2"],
        env={**os.environ, "FASTBATCH_TEST_DELAY": "0.1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_outputs(out, 2, proc)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    stopped_in = time.monotonic() - started
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted" in err
    finished = _assert_complete_subset(out, ref)
    assert 2 <= len(finished) < N_FILES  # it stopped early instead of finishing the batch
    # The summary counts what was really written before the stop.
    assert f"{len(finished)} written" in err, err
    assert stopped_in < 10  # running files finish; queued ones are dropped
    _resume_completes(inputs, out, ref, finished)
