"""Threads: same bytes whatever the thread count, safe from many Python threads, GIL released."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastbatch
from fastbatch import _core
from images import photo

BIG = photo(1100, 1500, 3, seed=5)  # large enough that the core really splits rows across threads


@pytest.mark.parametrize("filter_name", ["nearest", "bilinear", "lanczos3"])
@pytest.mark.parametrize("size", [(400, 300), (2000, 1500), (1500, 200), (300, 1100)])
def test_thread_count_does_not_change_the_bytes(size: tuple[int, int], filter_name: str) -> None:
    one = fastbatch.resize(BIG, size, filter=filter_name, threads=1)
    for threads in (2, 3, None):
        np.testing.assert_array_equal(fastbatch.resize(BIG, size, filter=filter_name, threads=threads), one)


def test_thread_count_does_not_change_alpha_or_grayscale() -> None:
    src = photo(900, 1000, 4, seed=2)
    np.testing.assert_array_equal(fastbatch.resize(src, (333, 555), threads=1), fastbatch.resize(src, (333, 555)))
    np.testing.assert_array_equal(fastbatch.grayscale(src, threads=1), fastbatch.grayscale(src, threads=4))


def test_concurrent_calls_give_the_serial_results() -> None:
    jobs = [(photo(300 + 17 * i, 400 - 13 * i, 1 + i % 4, seed=i), (50 + 9 * i, 70 + 5 * i)) for i in range(12)]
    serial = [fastbatch.resize(img, size) for img, size in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        parallel = list(pool.map(lambda job: fastbatch.resize(job[0], job[1]), jobs * 3))
    for i, out in enumerate(parallel):
        np.testing.assert_array_equal(out, serial[i % len(jobs)])


def _other_thread_progresses_during(call) -> bool:  # type: ignore[no-untyped-def]
    """True if a Python thread ran while `call` executed.

    With the switch interval set huge, the interpreter never takes the GIL from the calling thread
    by force, and the caller does nothing else that releases it between reading the counter and
    reading it again: the other thread can only run while the call itself has released the GIL.
    So the counter moves during the call if and only if the GIL was released; no time is measured.
    """
    counter = [0]
    stop = threading.Event()
    started = threading.Event()

    def spin() -> None:
        started.set()
        while not stop.is_set():
            counter[0] += 1
            time.sleep(1e-4)  # blocks with the GIL released, so the caller gets it back promptly

    old = sys.getswitchinterval()
    worker = threading.Thread(target=spin)
    worker.start()
    started.wait()
    sys.setswitchinterval(1000.0)
    try:
        for _ in range(50):  # the other thread may need a few calls to be scheduled at all
            before = counter[0]
            call()
            if counter[0] != before:
                return True
        return False
    finally:
        sys.setswitchinterval(old)
        stop.set()
        worker.join()


def test_resize_releases_the_gil() -> None:
    assert _other_thread_progresses_during(lambda: fastbatch.resize(BIG, (700, 500), threads=1))


def test_grayscale_releases_the_gil() -> None:
    assert _other_thread_progresses_during(lambda: fastbatch.grayscale(BIG, threads=1))


def test_the_gil_probe_detects_a_call_that_holds_the_gil() -> None:
    # The probe must be able to fail: a pure-Python loop never releases the GIL.
    assert not _other_thread_progresses_during(lambda: sum(range(200_000)))


def test_isa_introspection() -> None:
    assert _core.available_isas()[0] == "scalar"
    assert _core.active_isa() in _core.available_isas()
