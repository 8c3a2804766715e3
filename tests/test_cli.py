"""The `fastbatch` command: options, exit codes, messages, report file, --exact parity."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastbatch import cli

import batch_corpus as corpus


def _photos(folder: Path, names, shape=(30, 40)):
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        corpus.save(corpus.photo(*shape, seed=index), folder / name)
    return folder


@pytest.mark.parametrize(
    "text, expected",
    [("300x200", (300, 200)), ("300X200", (300, 200)), ("300", (300, 300)), ("300x", (300, None)), ("x200", (None, 200))],
)
def test_parse_size(text, expected):
    assert cli.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "x", "0x10", "10x0", "axb", "10x10x10", "-5"])
def test_parse_size_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError):
        cli.parse_size(text)


def test_corpus_run_exit_1_names_failures_and_writes_report(tmp_path, capsys):
    files = corpus.good_and_bad_corpus(tmp_path / "in")
    out, report_path = tmp_path / "out", tmp_path / "reports" / "run.json"
    status = cli.main([str(tmp_path / "in"), str(out), "--size", "16x16", "--grayscale", "--report", str(report_path)])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    lines = captured.err.splitlines()
    failure_lines = [line for line in lines if line.startswith("failed: ")]
    assert len(failure_lines) == len(corpus.BAD)
    for key in corpus.BAD:
        assert any(str(files[key]) in line for line in failure_lines), key
    assert lines[-1].startswith(f"fastbatch: {len(corpus.GOOD)} written, {len(corpus.BAD)} failed, 0 skipped")
    assert "\r" not in captured.err  # no progress bar off a terminal

    report = json.loads(report_path.read_text(encoding="ascii"))
    assert {item["src"] for item in report["failed"]} == {str(files[key]) for key in corpus.BAD}
    assert {item["src"] for item in report["succeeded"]} == {str(files[key]) for key in corpus.GOOD}
    for item in report["succeeded"]:
        mode, size, pixels = corpus.open_pixels(Path(item["dst"]))
        assert max(size) == 16
        if item["dst"].endswith(".webp"):  # WebP has no grey mode: grey comes back as R = G = B, +-1 from YUV
            assert np.ptp(pixels[..., :3].astype(int), axis=-1).max() <= 2
        else:
            assert mode in ("L", "LA")
    assert corpus.leftover_temp_files(out) == [] and corpus.leftover_temp_files(report_path.parent) == []


def test_all_good_exit_0_and_quiet_is_silent(tmp_path, capsys):
    folder = _photos(tmp_path / "in", ["a.jpg", "b.png"])
    assert cli.main([str(folder), str(tmp_path / "out"), "--size", "10", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.jpg", "b.png"]


def test_quiet_still_lists_failures(tmp_path, capsys):
    folder = _photos(tmp_path / "in", ["a.png"])
    (folder / "b.png").write_bytes(b"")
    assert cli.main([str(folder), str(tmp_path / "out"), "--size", "10", "-q"]) == 1
    assert capsys.readouterr().err.splitlines() == [f"failed: {folder / 'b.png'}: empty file"]


@pytest.mark.parametrize(
    "extra",
    [
        ["--size", "0x5"], ["--size", "big"], [], ["--size", "5", "--fit", "squash"], ["--size", "5", "--quality", "101"],
        ["--size", "5", "--png-compression", "12"], ["--size", "5", "--format", "psd"], ["--size", "5", "--workers", "0"],
        ["--size", "5", "--name", "{nope}"], ["--size", "5", "--background", "plaid"], ["--size", "5", "--max-pixels", "lots"],
    ],
)
def test_usage_errors_exit_2_and_write_nothing(tmp_path, capsys, extra):
    folder = _photos(tmp_path / "in", ["a.png"])
    assert cli.main([str(folder), str(tmp_path / "out"), *extra]) == 2
    assert "error" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_input_collision_and_overwrite_exit_2(tmp_path, capsys):
    assert cli.main([str(tmp_path / "nope"), str(tmp_path / "out"), "--size", "5"]) == 2
    folder = _photos(tmp_path / "in", ["a.jpg", "a.png"])
    assert cli.main([str(folder), str(tmp_path / "out"), "--size", "5", "--format", "png"]) == 2
    assert cli.main([str(folder), str(folder), "--size", "5"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "would be written to" in err and "would overwrite an input" in err
    assert not (tmp_path / "out").exists()


def test_single_file_input_and_reference_naming(tmp_path):
    src = _photos(tmp_path / "in", ["photo.jpg"], shape=(60, 90)) / "photo.jpg"
    assert cli.main([str(src), str(tmp_path / "out"), "--size", "30x30", "--name", "{stem}_thumb", "--format", "png", "-q"]) == 0
    mode, size, _ = corpus.open_pixels(tmp_path / "out" / "photo_thumb.png")
    assert (mode, size) == ("RGB", (30, 20))


def test_options_reach_the_pixels(tmp_path):
    folder = _photos(tmp_path / "in", ["a.png"], shape=(40, 80))
    out = tmp_path / "out"
    args = [str(folder), str(out), "-q"]
    assert cli.main(args + ["--size", "20x20", "--fit", "cover", "--format", "jpeg", "--quality", "50", "--name", "cover"]) == 0
    assert corpus.open_pixels(out / "cover.jpg")[1] == (20, 20)
    assert cli.main(args + ["--size", "200x", "--no-upscale", "--name", "small"]) == 0
    assert corpus.open_pixels(out / "small.png")[1] == (80, 40)
    assert cli.main(args + ["--size", "x10", "--fit", "fill", "--filter", "box", "--name", "box"]) == 0
    assert corpus.open_pixels(out / "box.png")[1] == (20, 10)
    assert cli.main(args + ["--size", "16", "--png-compression", "9", "--name", "z9", "--workers", "1", "--threads", "1"]) == 0
    assert cli.main(args + ["--size", "16", "--max-pixels", "1k", "--name", "limit"]) == 1
    assert not (out / "limit.png").exists()


def test_skip_existing_resumes(tmp_path, capsys):
    folder = _photos(tmp_path / "in", ["a.png", "b.png"])
    out = tmp_path / "out"
    assert cli.main([str(folder), str(out), "--size", "8", "-q"]) == 0
    (out / "a.png").unlink()
    stamp = (out / "b.png").stat().st_mtime_ns
    assert cli.main([str(folder), str(out), "--size", "8", "--skip-existing"]) == 0
    assert "1 written, 0 failed, 1 skipped" in capsys.readouterr().err
    assert (out / "a.png").exists() and (out / "b.png").stat().st_mtime_ns == stamp


def test_exact_matches_pillow_resize_then_convert(tmp_path):
    src = _photos(tmp_path / "in", ["p.png"], shape=(97, 131)) / "p.png"
    assert cli.main([str(src), str(tmp_path / "out"), "--size", "50x50", "--grayscale", "--exact", "-q"]) == 0
    actual = corpus.open_pixels(tmp_path / "out" / "p.png")[2].astype(int)
    with Image.open(src) as image:
        expected = np.asarray(image.resize((50, 37), Image.LANCZOS).convert("L")).astype(int)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() <= 1


def test_pillow_limit_is_restored_and_max_pixels_checked_by_fastbatch(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    corpus.png_bomb(folder / "claims-100M.png", width=10_000, height=10_000)  # between Pillow's two thresholds
    corpus.save(corpus.photo(10, 10), folder / "ok.png")
    saved = Image.MAX_IMAGE_PIXELS
    assert cli.main([str(folder), str(tmp_path / "out"), "--size", "5", "--max-pixels", "50M"]) == 1
    assert Image.MAX_IMAGE_PIXELS == saved
    err = capsys.readouterr().err
    assert "too many pixels: 10000x10000 = 100000000 > limit 50000000" in err
    # Allowed by the limit, the header passes and the missing pixel data is reported instead:
    assert cli.main([str(folder), str(tmp_path / "out2"), "--size", "5", "--max-pixels", "0", "-q"]) == 1
    assert "truncated or corrupt" in capsys.readouterr().err


def test_unwritable_output_exit_1(tmp_path, capsys):
    folder = _photos(tmp_path / "in", ["a.png", "b.png"])
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    assert cli.main([str(folder), str(blocker / "out"), "--size", "5"]) == 1
    err = capsys.readouterr().err
    assert err.count("cannot create folder") == 2


def test_python_dash_m_runs_the_command(tmp_path):
    folder = _photos(tmp_path / "in", ["a.png"])
    (folder / "broken.png").write_bytes(b"not a png")
    result = subprocess.run(
        [sys.executable, "-m", "fastbatch", str(folder), str(tmp_path / "out"), "--size", "5", "-g"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert result.returncode == 1, result.stderr
    assert "broken.png" in result.stderr and "1 written, 1 failed" in result.stderr
    version = subprocess.run([sys.executable, "-m", "fastbatch", "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("fastbatch ")
