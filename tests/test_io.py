"""fastbatch.io: decoding (limits, modes, orientation, metadata) and atomic encoding."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from fastbatch import io as imageio

import batch_corpus as corpus


# ------------------------------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_matches_pillow_exif_transpose_without_copying(tmp_path, orientation):
    stored = corpus.photo(6, 10, seed=orientation)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[corpus.ORIENTATION_TAG] = orientation
    path = tmp_path / "o.png"
    image.save(path, exif=exif.tobytes())
    with Image.open(path) as opened:
        expected = np.asarray(ImageOps.exif_transpose(opened))

    upright = imageio.orient(stored, orientation)
    assert np.array_equal(upright, expected)
    assert np.shares_memory(upright, stored)
    assert np.array_equal(imageio.unorient(upright, orientation), stored)
    assert imageio.read_header(path, max_pixels=None).size == (expected.shape[1], expected.shape[0])


def test_header_of_rotated_jpeg_reports_displayed_size(tmp_path):
    header = imageio.read_header(corpus.exif_rotated_jpeg(tmp_path / "r.jpg"), max_pixels=None)
    assert header.stored_size == (40, 20)
    assert header.orientation == 6
    assert header.size == (20, 40)
    assert header.pixels == 800


def test_header_counts_frames_and_decode_takes_the_first(tmp_path):
    path = corpus.animated_webp(tmp_path / "a.webp")
    assert imageio.read_header(path, max_pixels=None).frames == 2
    pixels = imageio.decode(path, max_pixels=None).pixels
    assert pixels.shape == (16, 24, 3)
    assert tuple(pixels[8, 12]) == (250, 10, 10)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_webp_decodes_to_pillows_pixels_without_its_copy(tmp_path, mode):
    pixels = corpus.photo(37, 53, channels=len(mode))
    Image.fromarray(pixels, mode).save(tmp_path / "p.webp", lossless=True)
    decoded = imageio.decode(tmp_path / "p.webp", max_pixels=None).pixels
    with Image.open(tmp_path / "p.webp") as image:
        expected = np.asarray(image.convert(mode))
    assert np.array_equal(decoded, expected) and np.array_equal(decoded, pixels)
    assert decoded.strides[1] == 4  # a view of the decoder's 4-byte pixels (RGB padded), not a copy


def test_webp_decode_falls_back_to_load_when_pillow_differs(tmp_path, monkeypatch):
    from PIL import WebPImagePlugin

    pixels = corpus.photo(20, 30)
    Image.fromarray(pixels).save(tmp_path / "p.webp", lossless=True)
    real = WebPImagePlugin.WebPImageFile._get_next
    calls = []

    def changed_first_call(self):  # as if a future Pillow returned something else: the decoder still moves on
        calls.append(1)
        frame = real(self)
        return (b"short", *frame[1:]) if len(calls) == 1 else frame

    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "_get_next", changed_first_call)
    decoded = imageio.decode(tmp_path / "p.webp", max_pixels=None).pixels
    assert len(calls) == 2 and np.array_equal(decoded, pixels)  # Pillow's load() rewound and decoded again


def test_truncated_webp_is_a_read_error(tmp_path):
    Image.fromarray(corpus.photo(40, 60)).save(tmp_path / "p.webp", quality=80)
    data = (tmp_path / "p.webp").read_bytes()
    (tmp_path / "cut.webp").write_bytes(data[: len(data) // 2])
    with pytest.raises(imageio.ImageReadError):
        imageio.decode(tmp_path / "cut.webp", max_pixels=None)


# ------------------------------------------------------------------------------------------- modes


def test_sixteen_bit_grey_is_scaled_with_rounding(tmp_path):
    path = corpus.png16(tmp_path / "g16.png")
    with Image.open(path) as image:
        wide = np.asarray(image).astype(np.int64)
    pixels = imageio.decode(path, max_pixels=None).pixels
    assert pixels.dtype == np.uint8 and pixels.shape == (16, 32)
    assert np.array_equal(pixels, (wide + 128) // 257)
    assert pixels.min() == 0 and pixels.max() == 255


def test_palette_with_transparency_becomes_rgba(tmp_path):
    pixels = imageio.decode(corpus.palette_with_transparency(tmp_path / "p.png"), max_pixels=None).pixels
    assert pixels.shape == (16, 24, 4)
    assert pixels[0, 0, 3] == 0
    assert tuple(pixels[0, 20]) == (255, 0, 0, 255)


def test_one_bit_becomes_grey_0_or_255(tmp_path):
    pixels = imageio.decode(corpus.one_bit(tmp_path / "b.png"), max_pixels=None).pixels
    assert pixels.shape == (16, 16)
    assert set(np.unique(pixels)) == {0, 255}


def test_cmyk_becomes_rgb_without_a_profile(tmp_path):
    decoded = imageio.decode(corpus.cmyk_jpeg(tmp_path / "c.jpg"), max_pixels=None)
    assert decoded.pixels.shape == (20, 30, 3)
    red, green, blue = decoded.pixels[10, 15].astype(int)
    assert red > 200 and green < 60 and blue < 60
    assert decoded.icc_profile is None


# ------------------------------------------------------------------------------------------ errors


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda d: _written(d / "z.png", b""), "empty file"),
        (lambda d: _written(d / "t.jpg", b"plain text"), "not an image"),
        (lambda d: corpus.truncated(d / "cut.jpg", corpus.save(corpus.photo(64, 64), d / "s.jpg")), "truncated or corrupt"),
        (lambda d: corpus.truncated(d / "cut.png", corpus.save(corpus.photo(64, 64), d / "s.png")), "truncated or corrupt"),
        (lambda d: d / "missing.png", "file not found"),
    ],
    ids=["empty", "text", "truncated-jpeg", "truncated-png", "missing"],
)
def test_read_failures_have_one_line_reasons(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(imageio.ImageReadError) as failure:
        imageio.decode(path, max_pixels=None)
    assert reason in str(failure.value)
    assert "\n" not in str(failure.value)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = corpus.png_bomb(tmp_path / "bomb.png")
    with pytest.raises(imageio.TooManyPixelsError, match="too many pixels"):
        imageio.read_header(path, max_pixels=imageio.default_max_pixels())


def test_pixel_limit_is_checked_from_the_header(tmp_path):
    path = corpus.save(corpus.photo(20, 30), tmp_path / "small.png")
    with pytest.raises(imageio.TooManyPixelsError, match=r"30x20 = 600 > limit 599"):
        imageio.decode(path, max_pixels=599)
    assert imageio.decode(path, max_pixels=600).pixels.shape == (20, 30, 3)


def test_default_limit_follows_pillow(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert imageio.default_max_pixels() == 2000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert imageio.default_max_pixels() is None


# ------------------------------------------------------------------------------------------ colour


def test_non_srgb_profile_is_converted_and_srgb_left_alone():
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    converted, profile = imageio.convert_to_srgb(red, corpus.swapped_rgb_icc())
    assert profile is None
    assert tuple(converted[0, 0]) == (0, 255, 0)

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    same, kept = imageio.convert_to_srgb(red, srgb)
    assert same is red and kept == srgb
    assert imageio.needs_srgb_conversion(red, corpus.swapped_rgb_icc())
    assert not imageio.needs_srgb_conversion(red, srgb)
    assert not imageio.needs_srgb_conversion(red[..., 0], corpus.swapped_rgb_icc())


# ---------------------------------------------------------------------------------------- encoding


def _options(fmt, **kw):
    return imageio.EncodeOptions(format=fmt, **kw)


def test_encode_writes_atomically_with_usual_permissions(tmp_path):
    dst = tmp_path / "deep" / "er" / "out.png"
    imageio.encode(corpus.photo(10, 12), dst, _options("PNG"))
    mode, size, _ = corpus.open_pixels(dst)
    assert (mode, size) == ("RGB", (12, 10))
    umask = os.umask(0)
    os.umask(umask)
    assert dst.stat().st_mode & 0o777 == 0o666 & ~umask
    assert corpus.leftover_temp_files(tmp_path) == []


def test_failed_save_keeps_the_old_output_and_leaves_no_temp_file(tmp_path, monkeypatch):
    dst = tmp_path / "out.png"
    dst.write_bytes(b"previous output")

    def broken_save(self, fp, format=None, **params):
        fp.write(b"half an image")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(imageio.ImageWriteError, match="No space left on device"):
        imageio.encode(corpus.photo(10, 12), dst, _options("PNG"))
    assert dst.read_bytes() == b"previous output"
    assert corpus.leftover_temp_files(tmp_path) == []


def test_unwritable_folder_is_a_write_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(imageio.ImageWriteError, match="cannot create folder"):
        imageio.encode(corpus.photo(4, 4), blocker / "out" / "a.png", _options("PNG"))
    assert list(tmp_path.iterdir()) == [blocker]


def test_alpha_is_flattened_onto_the_background_for_jpeg(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 0
    rgba[:, 4:, 3] = 255
    imageio.encode(rgba, tmp_path / "a.jpg", _options("JPEG", quality=100, background=(0, 0, 255)))
    mode, _, pixels = corpus.open_pixels(tmp_path / "a.jpg")
    assert mode == "RGB"
    assert np.abs(pixels[4, 1].astype(int) - (0, 0, 255)).max() <= 4  # transparent -> background
    assert np.abs(pixels[4, 6].astype(int) - (255, 0, 0)).max() <= 4  # opaque -> itself

    grey_alpha = np.zeros((4, 4, 2), np.uint8)
    grey_alpha[..., 1] = 0
    imageio.encode(grey_alpha, tmp_path / "g.jpg", _options("JPEG", quality=100, background=(255, 255, 255)))
    mode, _, pixels = corpus.open_pixels(tmp_path / "g.jpg")
    assert mode == "L" and pixels.min() >= 253


def test_alpha_is_kept_where_the_format_has_it(tmp_path):
    imageio.encode(corpus.photo(6, 6, channels=4), tmp_path / "a.png", _options("PNG"))
    imageio.encode(np.zeros((6, 6, 2), np.uint8), tmp_path / "g.png", _options("PNG"))
    assert corpus.open_pixels(tmp_path / "a.png")[0] == "RGBA"
    assert corpus.open_pixels(tmp_path / "g.png")[0] == "LA"


def test_quality_and_png_compression_change_the_bytes(tmp_path):
    pixels = corpus.photo(64, 64)
    imageio.encode(pixels, tmp_path / "q90.jpg", _options("JPEG"))
    imageio.encode(pixels, tmp_path / "q20.jpg", _options("JPEG", quality=20))
    assert (tmp_path / "q20.jpg").stat().st_size < (tmp_path / "q90.jpg").stat().st_size
    reference = corpus.encoded_size(Image.fromarray(pixels), format="JPEG", quality=90)
    assert (tmp_path / "q90.jpg").stat().st_size == reference  # the default quality is 90

    imageio.encode(pixels, tmp_path / "fast.png", _options("PNG"))
    imageio.encode(pixels, tmp_path / "small.png", _options("PNG", png_compression=9))
    assert (tmp_path / "small.png").stat().st_size < (tmp_path / "fast.png").stat().st_size
    assert np.array_equal(corpus.open_pixels(tmp_path / "small.png")[2], pixels)


def _exif(orientation=6, make="fastbatch-test"):
    exif = Image.Exif()
    exif[corpus.ORIENTATION_TAG] = orientation
    exif[0x010F] = make  # Make
    return exif


@pytest.mark.parametrize("fmt, suffix", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_metadata_kept_orientation_reset_and_strip_removes_both(tmp_path, fmt, suffix):
    profile = corpus.swapped_rgb_icc()
    kept = tmp_path / f"kept.{suffix}"
    imageio.encode(corpus.photo(8, 8), kept, _options(fmt), icc_profile=profile, exif=_exif())
    icc, exif = corpus.icc_and_exif(kept)
    assert icc == profile
    assert exif.get(0x010F) == "fastbatch-test"
    assert corpus.ORIENTATION_TAG not in exif

    stripped = tmp_path / f"stripped.{suffix}"
    imageio.encode(corpus.photo(8, 8), stripped, _options(fmt, strip=True), icc_profile=profile, exif=_exif())
    icc, exif = corpus.icc_and_exif(stripped)
    assert icc is None and len(exif) == 0


def test_grey_output_never_carries_an_rgb_profile(tmp_path):
    imageio.encode(np.zeros((4, 4), np.uint8), tmp_path / "g.png", _options("PNG"), icc_profile=corpus.swapped_rgb_icc())
    assert corpus.icc_and_exif(tmp_path / "g.png")[0] is None


def test_formats_and_suffixes():
    assert imageio.output_format_for_suffix(".JPG") == "JPEG"
    assert imageio.output_format_for_suffix(".jpeg") == "JPEG"
    assert imageio.output_format_for_suffix(".webp") == "WEBP"
    assert imageio.output_format_for_suffix(".nope") is None
    assert imageio.suffix_for_format("JPEG") == ".jpg"
    assert {"JPEG", "PNG", "WEBP"} <= set(imageio.writable_formats())
