"""Inputs the fuzz targets (fuzz/) found, kept as regression tests. Each names what it broke."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

import fastbatch
from fastbatch import io as imageio

# fuzz_files.py: a TIFF whose first frame is fine but whose second IFD has no dimensions. Reading
# n_frames raised TypeError("Missing dimensions") out of read_header / decode, so process_image
# broke its contract (ImageReadError / ImageWriteError only) and the batch reported a raw TypeError.
TIFF_BROKEN_SECOND_FRAME = base64.b64decode(
    "SUkqAAgAAAAKAAABBAABAAAADQAAAAEBBAABAAAACQAAAAIBAwADAAAAhgAAAAMBAwABAAAAAQAAAAYBAwABAAAAAgAAABEBBAABAAAA"
    "jAAAABUBAwABAAAAAwAAABYBBAABAAAACQAAABcBBAABAAAAXwEAABwBAwABAAAAAQAAAAAAAQAIAAgACABfgsLP6w8h19n4vRC46M2p"
    "PX0d8EK2Jzs7Ud54ejJOHEB5Wap/su1xe0xFmoJfScC/f9znASvtv1YH6GDHNwDbTE2wkL5oeLPw9ea/2H4fledzEJl5088Hs8qmJ7lJ"
    "xPcOf9s6S/kueajZM504EpUg67nx1ibPOjUMozo99T9oy15gB9Go6x6pCq674o46Nq4xZt7w4IllGpkzsTga9f59Jkk/xRNWBhgtcSjz"
    "rX8+xjnGf4S8pR6ACz6vaTm8WpC6Owo+r5UVBDO5dbM7anHxnn0YThv1AmwYDUfBtF9DswSGebWSpqzSeR2cIAZMd5jRpThrx0/t3i1M"
    "CGaj1jH5CyRClCGeWYG8krqPJEHqSQMaBemjupADACe8AtRVMYnvim2RB4K8LIy3KiBP7p1RRn9g7QPZUEcEH6xCRWFs/EySUP6u6deG"
    "xAu4pNoTt3gWpCvTcEmvSh5J6NtsVZE="
)


def test_tiff_with_a_broken_second_frame(tmp_path: Path) -> None:
    src = tmp_path / "broken.tif"
    src.write_bytes(TIFF_BROKEN_SECOND_FRAME)
    header = imageio.read_header(src, max_pixels=None)  # raised TypeError before the fix
    assert header.stored_size == (13, 9)
    try:
        size = fastbatch.process_image(src, tmp_path / "out.png", size=8)
    except imageio.ImageReadError as error:  # the first frame's data may be unusable: a named failure
        assert str(error) and "\n" not in str(error)
    else:
        assert size == (8, 6)
    report = fastbatch.process_batch(tmp_path, tmp_path / "batch", size=8, extensions=["tif"])
    assert all(not reason.startswith("TypeError") for _, reason in report.failed), report.failed


# fuzz_files.py: any TIFF written as TIFF. A TIFF's getexif() is its own image IFD (width, length,
# strip offsets, ...), and carrying it into the output's EXIF gave the written TIFF the source's
# size and strips: Pillow could not read it back ("image file is truncated").
@pytest.mark.parametrize("out_format", ["tiff", "jpeg", "png"])
def test_tiff_source_tags_stay_out_of_the_output(tmp_path: Path, out_format: str) -> None:
    from PIL import Image

    src = tmp_path / "src.tif"
    exif = Image.Exif()
    exif[0x010F] = "maker"  # a tag that describes the photo, which is kept
    Image.new("RGB", (130, 90), (200, 30, 60)).save(src, exif=exif)
    dst = tmp_path / f"out.{out_format}"
    assert fastbatch.process_image(src, dst, size=30, format=out_format) == (30, 21)
    with Image.open(dst) as written:
        written.load()
        assert written.size == (30, 21)
        tags = written.getexif()
        assert tags.get(0x010F) == "maker"
        if out_format != "tiff":  # a TIFF has its own storage tags; no other format takes them
            assert not {0x0100, 0x0101, 0x0111, 0x0117} & set(tags)
