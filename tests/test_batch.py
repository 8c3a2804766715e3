"""process_batch / process_image: discovery, naming, geometry, pixels, isolation, scheduling, report."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fastbatch
from fastbatch import batch, ops
from fastbatch import io as imageio

import batch_corpus as corpus


def _tree_digest(folder: Path) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture
def batch_corpus_dir(tmp_path):
    files = corpus.good_and_bad_corpus(tmp_path / "in")
    return tmp_path / "in", files


# ----------------------------------------------------------------------------- the corpus end to end


def test_corpus_batch_finishes_writes_good_files_and_names_bad_ones(tmp_path, batch_corpus_dir):
    folder, files = batch_corpus_dir
    before = _tree_digest(folder)
    out = tmp_path / "out"
    report = fastbatch.process_batch(folder, out, size=(16, 16), workers=2)

    assert not report.ok
    succeeded = {src for src, _ in report.succeeded}
    failed = dict(report.failed)
    assert succeeded == {files[key] for key in corpus.GOOD}
    assert set(failed) == {files[key] for key in corpus.BAD}
    assert report.skipped == []
    assert "empty file" in failed[files["zero"]]
    assert "truncated or corrupt" in failed[files["truncated_jpeg"]]
    assert "truncated or corrupt" in failed[files["truncated_png"]]
    assert "not an image" in failed[files["random"]]
    assert "not an image" in failed[files["text"]]
    assert "too many pixels" in failed[files["bomb"]]
    assert failed[files["dangling"]] == "dangling symbolic link"
    assert failed[files["loop"]] == "symbolic link loop"
    assert all("\n" not in reason for reason in failed.values())

    outputs = {src: dst for src, dst in report.succeeded}
    for src, dst in outputs.items():
        assert dst.parent == out and dst.stem == src.stem and dst.suffix == src.suffix
        mode, size, _ = corpus.open_pixels(dst)
        assert max(size) == 16 or min(size) == 1, (src, size)
    assert corpus.open_pixels(outputs[files["sliver_tall"]])[1] == (1, 16)
    assert corpus.open_pixels(outputs[files["sliver_wide"]])[1] == (16, 1)
    assert corpus.open_pixels(outputs[files["rotated"]])[1] == (8, 16)
    assert corpus.open_pixels(outputs[files["rgba_png"]])[0] == "RGBA"
    assert corpus.open_pixels(outputs[files["palette"]])[0] == "RGBA"
    assert corpus.open_pixels(outputs[files["png16"]])[0] == "L"
    assert corpus.open_pixels(outputs[files["one_bit"]])[0] == "L"
    assert corpus.open_pixels(outputs[files["cmyk"]])[0] == "RGB"
    assert sorted(p.name for p in out.iterdir()) == sorted(dst.name for dst in outputs.values())
    assert corpus.leftover_temp_files(out) == []
    assert _tree_digest(folder) == before  # inputs are never modified


def test_report_shape_and_json(tmp_path, batch_corpus_dir):
    folder, files = batch_corpus_dir
    report = fastbatch.process_batch(folder, tmp_path / "out", size=8, skip_existing=True)
    data = json.loads(report.to_json())
    assert set(data) == {"succeeded", "failed", "skipped", "seconds"}
    assert all(set(item) == {"src", "dst"} for item in data["succeeded"])
    assert all(set(item) == {"src", "error"} for item in data["failed"])
    assert {item["src"] for item in data["succeeded"]} == {str(files[k]) for k in corpus.GOOD}
    assert data["seconds"] >= 0 and report.seconds >= 0
    assert report.to_dict() == data
    assert report.summary().startswith(f"{len(corpus.GOOD)} written, {len(corpus.BAD)} failed, 0 skipped")

    again = fastbatch.process_batch(folder, tmp_path / "out", size=8, skip_existing=True)
    assert again.succeeded == [] and len(again.skipped) == len(corpus.GOOD)
    assert all(reason == "output exists" for _, reason in again.skipped)
    assert {item["reason"] for item in json.loads(again.to_json())["skipped"]} == {"output exists"}


# ------------------------------------------------------------------------------ discovery and naming


def _photos(folder: Path, names, shape=(30, 40)):
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        corpus.save(corpus.photo(*shape, seed=index), folder / name)
    return folder


def test_extensions_are_case_insensitive_and_configurable(tmp_path):
    folder = _photos(tmp_path / "in", ["a.JPG", "b.Png", "c.tif", "d.bmp"])
    (folder / "readme.txt").write_text("not picked up", encoding="utf-8")
    report = fastbatch.process_batch(folder, tmp_path / "o1", size=10)
    assert sorted(src.name for src, _ in report.succeeded) == ["a.JPG", "b.Png"]

    report = fastbatch.process_batch(folder, tmp_path / "o2", size=10, extensions=".TIF, bmp")
    assert sorted(dst.name for _, dst in report.succeeded) == ["c.tif", "d.bmp"]


def test_recursive_mirrors_the_tree_and_survives_folder_loops(tmp_path):
    root = _photos(tmp_path / "in", ["top.png"])
    _photos(root / "a" / "b", ["deep.jpg"])
    os.symlink(root, root / "a" / "back-to-root")  # a folder loop
    os.mkfifo(root / "pipe.jpg")  # opening a FIFO would block: it must be skipped, not read
    flat = fastbatch.process_batch(root, tmp_path / "flat", size=10)
    assert [dst.relative_to(tmp_path / "flat") for _, dst in flat.succeeded] == [Path("top.png")]
    assert flat.skipped == [(root / "pipe.jpg", "not a regular file")]

    deep = fastbatch.process_batch(root, tmp_path / "tree", size=10, recursive=True)
    assert sorted(str(dst.relative_to(tmp_path / "tree")) for _, dst in deep.succeeded) == ["a/b/deep.jpg", "top.png"]
    assert deep.ok


def test_output_folder_inside_the_input_is_not_read_back(tmp_path):
    root = _photos(tmp_path / "in", ["x.png"])
    fastbatch.process_batch(root, root / "small", size=10, recursive=True)
    again = fastbatch.process_batch(root, root / "small", size=10, recursive=True)
    assert [src.name for src, _ in again.succeeded] == ["x.png"]


def test_name_template_fields_and_format_suffix(tmp_path):
    folder = _photos(tmp_path / "in", ["cat.jpg", "dog.webp"], shape=(40, 80))
    report = fastbatch.process_batch(folder, tmp_path / "out", size=(20, 20), name="{stem}_{ext}_{width}x{height}_thumb", format="png")
    assert sorted(dst.name for _, dst in report.succeeded) == ["cat_jpg_20x10_thumb.png", "dog_webp_20x10_thumb.png"]
    assert all(corpus.open_pixels(dst)[1] == (20, 10) for _, dst in report.succeeded)
    with Image.open(tmp_path / "out" / "cat_jpg_20x10_thumb.png") as image:
        assert image.format == "PNG"


def test_unknown_writable_format_falls_back_to_png(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(corpus.photo(10, 10)).save(folder / "a.gif")
    report = fastbatch.process_batch(folder, tmp_path / "out", size=5, extensions=["gif"], format=None)
    # GIF is writable by Pillow, so it stays GIF; a suffix Pillow cannot write becomes PNG:
    assert [dst.name for _, dst in report.succeeded] == ["a.gif"]
    src = folder / "b.xyz"
    Image.fromarray(corpus.photo(10, 10)).save(src, format="PNG")
    report = fastbatch.process_batch(src, tmp_path / "out2", size=5)
    assert [dst.name for _, dst in report.succeeded] == ["b.png"]


def test_bad_templates_are_config_errors(tmp_path):
    folder = _photos(tmp_path / "in", ["a.png"])
    for template in ("{nope}", "{stem", "sub/{stem}", "{stem.__class__}", ""):
        with pytest.raises(batch.BatchConfigError, match="template"):
            fastbatch.process_batch(folder, tmp_path / "out", size=5, name=template)
    assert not (tmp_path / "out").exists()


def test_collisions_are_reported_before_any_work(tmp_path):
    folder = _photos(tmp_path / "in", ["a.jpg", "a.png", "b.png"])
    with pytest.raises(batch.BatchConfigError, match=r"2 inputs would be written to .*a\.png") as failure:
        fastbatch.process_batch(folder, tmp_path / "out", size=5, format="png")
    assert "a.jpg" in str(failure.value) and "b.png" not in str(failure.value)
    assert not (tmp_path / "out").exists()


def test_output_onto_an_input_is_refused(tmp_path):
    folder = _photos(tmp_path / "in", ["a.png", "a_small.png"])
    before = _tree_digest(folder)
    with pytest.raises(batch.BatchConfigError, match="would overwrite an input"):
        fastbatch.process_batch(folder, folder, size=5)
    with pytest.raises(batch.BatchConfigError, match="would overwrite an input"):
        fastbatch.process_batch(folder, folder, size=5, name="{stem}_small")  # a.png -> a_small.png, an input
    link_dir = tmp_path / "alias"
    os.symlink(folder, link_dir)
    with pytest.raises(batch.BatchConfigError, match="would overwrite an input"):
        fastbatch.process_batch(folder, link_dir, size=5)
    with pytest.raises(batch.BatchConfigError, match="refusing to overwrite"):
        fastbatch.process_image(folder / "a.png", link_dir / "a.png", size=5)
    assert _tree_digest(folder) == before


def test_missing_input_and_bad_options_are_config_errors(tmp_path):
    folder = _photos(tmp_path / "in", ["a.png"])
    bad = [
        dict(size=0), dict(size=(None, None)), dict(size="10"), dict(size=5, fit="squash"),
        dict(size=5, filter="lanczos5"), dict(size=5, luma="bt2020"), dict(size=5, quality=0),
        dict(size=5, png_compression=10), dict(size=5, background="no-such-colour"), dict(size=5, format="psd"),
        dict(size=5, workers=0), dict(size=5, threads=0), dict(size=5, extensions=[]), dict(size=5, max_pixels=-1),
    ]
    for options in bad:
        with pytest.raises(batch.BatchConfigError):
            fastbatch.process_batch(folder, tmp_path / "out", **options)
    with pytest.raises(batch.BatchConfigError, match="does not exist"):
        fastbatch.process_batch(tmp_path / "nope", tmp_path / "out", size=5)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ geometry


@pytest.mark.parametrize(
    "size, fit, upscale, expected",
    [
        ((20, 20), "contain", True, (20, 10)),
        ((20, 20), "cover", True, (20, 20)),
        ((20, 20), "fill", True, (20, 20)),
        ((None, 5), "contain", True, (10, 5)),
        ((30, None), "contain", True, (30, 15)),
        ((200, 200), "contain", True, (200, 100)),
        ((200, 200), "contain", False, (80, 40)),
        ((200, 10), "fill", False, (80, 10)),
        (1, "contain", True, (1, 1)),
    ],
)
def test_geometry(tmp_path, size, fit, upscale, expected):
    src = corpus.save(corpus.photo(40, 80), tmp_path / "wide.png")
    assert fastbatch.process_image(src, tmp_path / "out.png", size=size, fit=fit, upscale=upscale) == expected
    assert corpus.open_pixels(tmp_path / "out.png")[1] == expected


def test_cover_crops_the_centre(tmp_path):
    pixels = np.zeros((20, 60, 3), np.uint8)
    pixels[:, :20] = (255, 0, 0)
    pixels[:, 20:40] = (0, 255, 0)
    pixels[:, 40:] = (0, 0, 255)
    src = corpus.save(pixels, tmp_path / "bands.png")
    fastbatch.process_image(src, tmp_path / "c.png", size=(10, 10), fit="cover", filter="box")
    _, size, out = corpus.open_pixels(tmp_path / "c.png")
    assert size == (10, 10)
    assert (out[:, :, 1] >= 250).all() and (out[:, :, 0] <= 5).all()  # only the green centre is left


# -------------------------------------------------------------------------------------------- pixels


def test_grayscale_modes_and_alpha(tmp_path):
    rgba = corpus.save(corpus.photo(20, 20, channels=4), tmp_path / "a.png")
    assert fastbatch.process_image(rgba, tmp_path / "g.png", size=10, grayscale=True) == (10, 10)
    assert corpus.open_pixels(tmp_path / "g.png")[0] == "LA"
    fastbatch.process_image(rgba, tmp_path / "g.jpg", size=10, grayscale=True, background="black")
    assert corpus.open_pixels(tmp_path / "g.jpg")[0] == "L"
    fastbatch.process_image(rgba, tmp_path / "c.jpg", size=10)
    assert corpus.open_pixels(tmp_path / "c.jpg")[0] == "RGB"


def test_luma_weights_differ_on_colour(tmp_path):
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[..., 0] = 255  # pure red: bt601 gives 76, bt709 gives 54
    src = corpus.save(pixels, tmp_path / "red.png")
    fastbatch.process_image(src, tmp_path / "601.png", size=8, grayscale=True)
    fastbatch.process_image(src, tmp_path / "709.png", size=8, grayscale=True, luma="bt709")
    assert int(corpus.open_pixels(tmp_path / "601.png")[2][4, 4]) == 76
    assert int(corpus.open_pixels(tmp_path / "709.png")[2][4, 4]) == 54


@pytest.mark.parametrize("exact", [False, True])
def test_exif_orientation_is_applied_and_reset(tmp_path, exact):
    src = corpus.exif_rotated_jpeg(tmp_path / "r.jpg")  # stored 40x20, red block top-left, orientation 6
    assert fastbatch.process_image(src, tmp_path / "o.jpg", size=(20, 40), exact=exact) == (20, 40)
    _, _, pixels = corpus.open_pixels(tmp_path / "o.jpg")
    # A quarter turn clockwise puts the stored top-left block at the top-right.
    assert pixels[5, 15, 0] > 200 and pixels[5, 15, 1] < 60
    assert pixels[5, 4, 1] > 150
    assert corpus.ORIENTATION_TAG not in corpus.icc_and_exif(tmp_path / "o.jpg")[1]


def test_icc_profile_kept_for_colour_and_converted_for_grey(tmp_path):
    profile = corpus.swapped_rgb_icc()
    red = np.zeros((10, 10, 3), np.uint8)
    red[..., 0] = 255
    src = tmp_path / "tagged.png"
    Image.fromarray(red).save(src, icc_profile=profile)

    fastbatch.process_image(src, tmp_path / "colour.png", size=5)
    assert corpus.icc_and_exif(tmp_path / "colour.png")[0] == profile
    for exact in (False, True):
        dst = tmp_path / f"grey{exact}.png"
        fastbatch.process_image(src, dst, size=5, grayscale=True, exact=exact)
        mode, _, grey = corpus.open_pixels(dst)
        assert mode == "L" and corpus.icc_and_exif(dst)[0] is None
        assert int(grey[2, 2]) == 150  # green's luma (the profile's red is sRGB green), not red's 76
    fastbatch.process_image(src, tmp_path / "stripped.png", size=5, strip=True)
    assert corpus.icc_and_exif(tmp_path / "stripped.png")[0] is None


def test_exact_matches_pillow_within_one(tmp_path):
    pixels = corpus.photo(123, 157, seed=3)
    src = corpus.save(pixels, tmp_path / "p.png")
    for size in [(40, 40), (157, 60), (300, 300)]:
        out_size = fastbatch.process_image(src, tmp_path / "e.png", size=size, grayscale=True, exact=True)
        with Image.open(src) as image:
            expected = np.asarray(image.resize(out_size, Image.LANCZOS).convert("L")).astype(int)
        actual = corpus.open_pixels(tmp_path / "e.png")[2].astype(int)
        assert actual.shape == expected.shape
        assert np.abs(actual - expected).max() <= 1, size


def test_fast_path_stays_close_to_the_reference(tmp_path):
    src = corpus.save(corpus.photo(123, 157, seed=4), tmp_path / "p.png")
    fastbatch.process_image(src, tmp_path / "fast.png", size=48, grayscale=True)
    fastbatch.process_image(src, tmp_path / "exact.png", size=48, grayscale=True, exact=True)
    fast = corpus.open_pixels(tmp_path / "fast.png")[2].astype(int)
    exact = corpus.open_pixels(tmp_path / "exact.png")[2].astype(int)
    assert np.abs(fast - exact).mean() < 0.5
    assert np.abs(fast - exact).max() <= 8  # only near hard edges, where Lanczos overshoot is clipped


@pytest.mark.parametrize("fmt", imageio.writable_formats())
def test_every_offered_format_writes(tmp_path, fmt):
    src = corpus.save(corpus.photo(20, 30, channels=4), tmp_path / "a.png")
    dst = tmp_path / ("out" + imageio.suffix_for_format(fmt))
    assert fastbatch.process_image(src, dst, size=15, grayscale=True, format=fmt.lower()) == (15, 10)
    with Image.open(dst) as image:
        assert image.format == fmt and image.size == (15, 10)
        # alpha where the format stores it, flattened where it does not
        assert ("A" in image.mode) == (fmt in imageio.FORMATS_WITH_ALPHA)


def test_process_image_errors(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(imageio.ImageReadError, match="unreadable header"):  # a PNG signature, then junk
        fastbatch.process_image(bad, tmp_path / "out.png", size=5)
    good = corpus.save(corpus.photo(10, 10), tmp_path / "good.png")
    with pytest.raises(batch.BatchConfigError, match="output format"):
        fastbatch.process_image(good, tmp_path / "out.unknown", size=5)
    with pytest.raises(imageio.TooManyPixelsError):
        fastbatch.process_image(good, tmp_path / "out.png", size=5, max_pixels=99)
    assert fastbatch.process_image(good, tmp_path / "out.png", size=5, max_pixels=0) == (5, 5)


# ------------------------------------------------------------------------------- failure isolation


def test_unwritable_output_folder_fails_files_not_the_batch(tmp_path):
    root = _photos(tmp_path / "in", ["a.png"])
    _photos(root / "sub", ["b.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where the sub folder should go", encoding="utf-8")
    report = fastbatch.process_batch(root, out, size=5, recursive=True)
    assert [src.name for src, _ in report.succeeded] == ["a.png"]
    assert len(report.failed) == 1 and "cannot create folder" in report.failed[0][1]
    assert corpus.leftover_temp_files(out) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_output_folder(tmp_path):
    root = _photos(tmp_path / "in", ["a.png"])
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        report = fastbatch.process_batch(root, out, size=5)
    finally:
        out.chmod(0o700)
    assert len(report.failed) == 1 and "cannot write" in report.failed[0][1]


def test_an_unexpected_error_fails_only_its_file(tmp_path, monkeypatch):
    folder = _photos(tmp_path / "in", ["a.png", "b.png"])
    (folder / "c.png").write_bytes((folder / "a.png").read_bytes())
    real_resize = ops._resize_any_order  # the default mode's resize

    def resize_failing_for_tall(image, size, **kw):
        if size == (5, 7):
            raise RuntimeError("simulated core failure")
        return real_resize(image, size, **kw)

    corpus.save(corpus.photo(70, 50), folder / "tall.png")
    monkeypatch.setattr(ops, "_resize_any_order", resize_failing_for_tall)
    report = fastbatch.process_batch(folder, tmp_path / "out", size=7)
    assert report.failed == [(folder / "tall.png", "RuntimeError: simulated core failure")]
    assert len(report.succeeded) == 3


# -------------------------------------------------------------------------------------- scheduling


class RecordingExecutor(Executor):
    """Runs jobs on threads like the default pool, recording each submission and the load at that time."""

    def __init__(self, workers: int):
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._max_workers = workers
        self._lock = threading.Lock()
        self.running = 0
        self.submissions = []  # (src name, threads, jobs running when submitted)
        self.release = threading.Event()

    def submit(self, fn, /, *args, **kwargs):
        job = args[0]
        with self._lock:
            self.running += 1
            self.submissions.append((job.src.name, job.threads, self.running))

        def run():
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.running -= 1

        return self._pool.submit(run)

    def shutdown(self, wait=True, **kwargs):
        self._pool.shutdown(wait=wait)


def _sized_photos(folder: Path, sides):
    folder.mkdir()
    for index, side in enumerate(sides):
        corpus.save(corpus.photo(side, side, seed=index), folder / f"s{side:03d}.png")
    return folder


def test_largest_first_and_threads_one_while_many_wait(tmp_path, monkeypatch):
    folder = _sized_photos(tmp_path / "in", [12, 40, 20, 32, 16, 24, 36, 28])
    monkeypatch.setattr(batch, "_cpu_count", lambda: 4)
    executor = RecordingExecutor(workers=4)
    report = fastbatch.process_batch(folder, tmp_path / "out", size=8, executor=executor)
    executor.shutdown()
    assert report.ok and len(report.succeeded) == 8
    names = [name for name, _, _ in executor.submissions]
    assert names == sorted(names, reverse=True)  # s040, s036, ... s012: largest first
    threads = [t for _, t, _ in executor.submissions]
    assert threads[:5] == [1] * 5  # four or more files unfinished: one core each
    assert threads[-1] in (1, 2, None)  # the tail may get more; never more than the cores in total
    assert max(running for _, _, running in executor.submissions) <= 4


def test_lone_file_gets_all_cores_and_explicit_threads_win(tmp_path, monkeypatch):
    folder = _sized_photos(tmp_path / "in", [20])
    monkeypatch.setattr(batch, "_cpu_count", lambda: 4)
    executor = RecordingExecutor(workers=4)
    fastbatch.process_batch(folder, tmp_path / "o1", size=8, executor=executor)
    fastbatch.process_batch(folder, tmp_path / "o2", size=8, executor=executor, threads=3)
    executor.shutdown()
    assert [t for _, t, _ in executor.submissions] == [None, 3]


def test_threads_never_exceed_the_cores():
    for cores in (1, 2, 4, 8):
        for workers in (1, 2, 4, 8):
            total = 20
            running = []  # threads given to each running job, oldest first
            for unfinished in range(total, 0, -1):
                if len(running) == min(workers, unfinished + len(running)):
                    running.pop(0)  # the oldest finishes before the next is submitted
                threads = batch._threads_for(10, 100, unfinished + len(running), workers, cores)
                running.append(cores if threads is None else threads)
                if workers <= cores:
                    assert sum(running) <= cores, (cores, workers, running)
    assert batch._threads_for(10, 100, unfinished=50, workers=2, cores=2) == 1
    assert batch._threads_for(10, 100, unfinished=1, workers=2, cores=2) is None
    assert batch._threads_for(1000, 100, unfinished=50, workers=2, cores=2) is None  # runs alone


def test_pixels_in_flight_are_bounded(tmp_path, monkeypatch):
    folder = _sized_photos(tmp_path / "in", [30, 30, 30, 30, 30, 50])
    executor = RecordingExecutor(workers=4)
    report = fastbatch.process_batch(folder, tmp_path / "out", size=8, executor=executor, pixels_in_flight=2000)
    executor.shutdown()
    assert report.ok
    # 30x30 = 900 pixels: two fit in 2000; the 50x50 file is over budget and runs alone, first.
    assert executor.submissions[0][0] == "s050.png" and executor.submissions[0][2] == 1
    assert max(running for _, _, running in executor.submissions) <= 2


def test_pixels_in_flight_count_what_the_decoder_holds(tmp_path, monkeypatch):
    # A 400x400 JPEG fitted into 8x8 decodes at 1/8: 2500 pixels held, not 160000. Under a budget of
    # 20000 it still goes first (the most to decode) but shares the machine instead of running alone.
    folder = tmp_path / "in"
    folder.mkdir()
    corpus.save(corpus.photo(400, 400, seed=1), folder / "big.jpg")
    for index in range(3):
        corpus.save(corpus.photo(100, 100, seed=index), folder / f"small{index}.png")
    monkeypatch.setattr(batch, "_cpu_count", lambda: 2)
    executor = RecordingExecutor(workers=2)
    report = fastbatch.process_batch(folder, tmp_path / "out", size=8, executor=executor, pixels_in_flight=20000)
    executor.shutdown()
    assert report.ok
    assert executor.submissions[0][:2] == ("big.jpg", 1)  # one thread: the cores are shared
    exact = RecordingExecutor(workers=2)
    fastbatch.process_batch(folder, tmp_path / "exact", size=8, executor=exact, pixels_in_flight=20000, exact=True)
    exact.shutdown()
    assert exact.submissions[0][:2] == ("big.jpg", None)  # --exact decodes it whole: over budget, alone


class PicklingExecutor(Executor):
    """Runs each job inline after a pickle round trip, as a process pool or Dask would ship it."""

    def __init__(self):
        self.shipped = 0

    def submit(self, fn, /, *args, **kwargs):
        fn, args, kwargs = pickle.loads(pickle.dumps((fn, args, kwargs)))
        self.shipped += 1
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_work_units_pickle_for_other_executors(tmp_path):
    folder = _photos(tmp_path / "in", ["a.png", "b.jpg"])
    executor = PicklingExecutor()
    report = fastbatch.process_batch(folder, tmp_path / "out", size=5, grayscale=True, executor=executor)
    assert report.ok and executor.shipped == 2


def test_progress_callback_sees_every_file(tmp_path, batch_corpus_dir):
    folder, files = batch_corpus_dir
    events = []
    report = fastbatch.process_batch(folder, tmp_path / "out", size=8, progress=lambda o, d, t: events.append((o, d, t)))
    total = len(corpus.GOOD) + len(corpus.BAD)
    assert [d for _, d, _ in events] == list(range(1, total + 1))
    assert {t for _, _, t in events} == {total}
    assert sum(o.status == "failed" for o, _, _ in events) == len(report.failed)
    assert all(o.line().startswith(("failed: ", str(o.src))) for o, _, _ in events)


def test_progress_true_draws_no_bar_off_a_terminal(tmp_path, capsys):
    folder = _photos(tmp_path / "in", ["a.png"])
    fastbatch.process_batch(folder, tmp_path / "out", size=5, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_batch_of_common_formats_does_not_load_every_pillow_plugin(tmp_path):
    # Image.init() imports all of Pillow's plugins (about 40 ms); JPEG/PNG/WebP in and out need a few.
    folder = _photos(tmp_path / "in", ["a.jpg", "b.png"])
    Image.fromarray(corpus.photo(20, 30)).save(folder / "c.webp")
    script = (
        "import sys, fastbatch\n"
        f"r = fastbatch.process_batch({str(folder)!r}, {str(tmp_path / 'out')!r}, size=8, format='png')\n"
        "assert r.ok, r.failed\n"
        "print('PIL.SgiImagePlugin' in sys.modules, 'PIL.XpmImagePlugin' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
