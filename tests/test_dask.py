"""process_batch on executors that run the files in other processes: a Dask cluster and a process pool.

Each run is compared with a local run of the same batch (the default thread pool): the same bytes in
every output, the same report (paths as the caller gave them, the same failure reasons), progress for
every file on the caller's side, and no temporary file left. The corpus holds good files of every kind
and bad ones; the truncated files pass the header probe (on the caller) and fail while decoding, that
is inside a worker, so they show a failure staying isolated in a remote unit of work.

The Dask tests need the ``distributed`` package (the ``dask`` extra); without it they are skipped, and
only the checks that need no cluster run.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import socket
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import fastbatch
from fastbatch import cli

import batch_corpus as corpus

SIZE = (24, 24)


def _needs_distributed():
    return pytest.importorskip(
        "distributed", reason="distributed is not installed: pip install '.[dask]' to run the Dask tests"
    )


# Warnings (pytest runs with filterwarnings=error): no filter here, on purpose. The one warning these
# tests provoked was distributed's "Port 8787 is already in use" when two clusters ran at once; it is
# removed at its cause (dashboard_address=":0" below), not ignored. The client and the cluster are
# closed by their context managers inside the fixtures, so their shutdown runs while pytest still
# watches for warnings, and none came in repeated runs, three of them at once on two cores
# (distributed 2026.8). Should a distributed release start warning at shutdown, that must show up and
# be looked at: a blanket ignore would also hide warnings from fastbatch, Pillow or numpy raised in
# these tests.


@pytest.fixture(scope="module")
def cluster():
    distributed = _needs_distributed()
    # Two worker processes with one thread each: the units must be pickled and shipped to other
    # interpreters, as on a real cluster. dashboard_address=":0": the scheduler's HTTP server binds a
    # free port. With the default :8787 (and even with None, which still binds it) a second cluster on
    # the machine (another CI job, a parallel run) makes distributed warn "Port 8787 is already in use",
    # which filterwarnings=error turns into "Cluster failed to start".
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as local_cluster:
        yield local_cluster


@pytest.fixture
def client(cluster):
    distributed = _needs_distributed()
    with distributed.Client(cluster, set_as_default=False) as dask_client:
        yield dask_client


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """The corpus under tmp_path, which becomes the working directory: the batch is given relative
    paths, which the workers (started elsewhere, with another working directory) must still find."""
    corpus.good_and_bad_corpus(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _outputs(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _comparable(report: fastbatch.BatchReport, out: str) -> dict:
    """The report with the output folder taken out of the output paths (each run writes elsewhere)."""
    return {
        "succeeded": [(str(src), str(Path(dst).relative_to(out))) for src, dst in report.succeeded],
        "failed": [(str(src), reason) for src, reason in report.failed],
        "skipped": [(str(src), reason) for src, reason in report.skipped],
    }


def _run(out: str, **options):
    seen = []

    def progress(outcome, done, total):
        seen.append((done, total))

    report = fastbatch.process_batch("in", out, size=SIZE, grayscale=True, progress=progress, **options)
    return report, seen


def _check_same_as_local(workdir: Path, out: str, report, seen, local, local_seen) -> None:
    assert _comparable(report, out) == _comparable(local, "local")
    assert _outputs(workdir / out) == _outputs(workdir / "local")  # bytes equal, file by file
    assert seen == local_seen  # progress reached the caller once per file, in order
    assert corpus.leftover_temp_files(workdir / out) == []  # the workers' writes were atomic


def _expectations(report) -> None:
    failed = {Path(src).name: reason for src, reason in report.failed}
    # Failed inside a worker (the header probe passed), while everything else was still written.
    assert failed["cut.jpg"].startswith("truncated or corrupt") and failed["cut.png"].startswith("truncated or corrupt")
    assert len(report.succeeded) == len(corpus.GOOD)
    assert len(report.failed) == len(corpus.BAD)


def test_dask_executor_matches_a_local_run(workdir, client):
    distributed = _needs_distributed()
    local, local_seen = _run("local")
    _expectations(local)

    # pure=False: every unit has a side effect (a file), so Dask must never reuse a remembered result.
    with distributed.get_task_stream(client) as stream:
        report, seen = _run("dask", executor=client.get_executor(pure=False), workers=2)
    _check_same_as_local(workdir, "dask", report, seen, local, local_seen)
    # The units really ran on the cluster's workers: one task per file that passed the probe.
    workers = set(client.nthreads())
    ran_on = [task["worker"] for task in stream.data]
    assert len(ran_on) == len(corpus.GOOD) + 2 and set(ran_on) <= workers


def test_cli_dask_flag_matches_a_local_run(workdir, cluster, capsys):
    common = ["in", "--size", "24x24", "--grayscale", "--quiet"]
    assert cli.main([common[0], "local", *common[1:], "--report", "local.json"]) == cli.EXIT_FAILED
    address = cluster.scheduler_address
    assert cli.main([common[0], "dask", *common[1:], "--report", "dask.json", "--dask", address]) == cli.EXIT_FAILED
    assert _outputs(workdir / "dask") == _outputs(workdir / "local")

    def document(name: str, out: str) -> dict:
        data = json.loads((workdir / name).read_text())
        del data["seconds"]
        for entry in data["succeeded"]:
            entry["dst"] = str(Path(entry["dst"]).relative_to(out))
        return data

    assert document("dask.json", "dask") == document("local.json", "local")
    # Failures are still listed, once each, in the caller's terminal.
    err = capsys.readouterr().err
    assert err.count("failed: in/cut.jpg: truncated or corrupt") == 2  # the local run, then the Dask run


def test_cli_dask_unreachable_scheduler_is_a_usage_error(tmp_path, capsys):
    _needs_distributed()
    import dask

    corpus.save(corpus.photo(8, 8), tmp_path / "a.png")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        status = cli.main([str(tmp_path / "a.png"), str(tmp_path / "out"), "--size", "4", "--dask", f"tcp://127.0.0.1:{port}"])
    assert status == cli.EXIT_USAGE
    expected = f"fastbatch: error: cannot connect to the Dask scheduler at tcp://127.0.0.1:{port}"
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address, reason", [
    ("nowhere://host:8786", "unknown address scheme 'nowhere'"),
    ("tcp://127.0.0.1", "missing port number"),
])
def test_cli_dask_malformed_address_is_a_usage_error(tmp_path, capsys, address, reason):
    # Refused before a Client is made: a Client failing on such an address would hang at exit.
    _needs_distributed()
    corpus.save(corpus.photo(8, 8), tmp_path / "a.png")
    status = cli.main([str(tmp_path / "a.png"), str(tmp_path / "out"), "--size", "4", "--dask", address])
    assert status == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"fastbatch: error: bad Dask scheduler address {address!r}: " in err and reason in err
    assert not (tmp_path / "out").exists()


def test_cli_dask_without_distributed_is_a_usage_error(tmp_path, monkeypatch, capsys):
    # None in sys.modules makes `import distributed` raise ImportError, as when it is not installed.
    monkeypatch.setitem(sys.modules, "distributed", None)
    corpus.save(corpus.photo(8, 8), tmp_path / "a.png")
    status = cli.main([str(tmp_path / "a.png"), str(tmp_path / "out"), "--size", "4", "--dask", "tcp://127.0.0.1:8786"])
    assert status == cli.EXIT_USAGE
    assert "--dask needs the distributed package: pip install 'fastbatch[dask]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_process_pool_matches_a_local_run(workdir):
    local, local_seen = _run("local")
    # spawn, not fork: forking a process that has threads can deadlock (and warns on Python >= 3.12).
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        report, seen = _run("pool", executor=pool)
    _check_same_as_local(workdir, "pool", report, seen, local, local_seen)
