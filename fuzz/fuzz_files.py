"""atheris target: the file path, bytes -> decode -> resize (-> grey) -> encode, as the batch runs it.

The contract under test: for any bytes, process_image either writes a complete output or raises
ImageReadError / ImageWriteError (whose message is one line); never another exception, a crash or a
hang, and no temporary file is left in the output folder.

    python fuzz/fuzz_files.py --make-seeds CORPUS_DIR        # small valid files of every format
    python fuzz/fuzz_files.py -max_total_time=60 CORPUS_DIR  # see fuzz/README.md
"""

import io
import os
import sys
import tempfile
from pathlib import Path

import atheris
import numpy as np

# Pillow's Python-side parsers (PNG chunks, EXIF, TIFF tags, ...) and fastbatch are instrumented, so
# libFuzzer's coverage feedback steers into them; the C decoders are not instrumented.
with atheris.instrument_imports(include=["PIL", "fastbatch"], enable_loader_override=False):
    from PIL import Image, ImageFile, PngImagePlugin, JpegImagePlugin, WebPImagePlugin, TiffImagePlugin  # noqa: F401
    from PIL import BmpImagePlugin, GifImagePlugin  # noqa: F401

    from fastbatch import batch
    from fastbatch import io as imageio

# A file per execution lives here (tmpfs when there is one: no disk wear at thousands per second).
WORK = Path(tempfile.mkdtemp(prefix="fastbatch-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
SRC = WORK / "input"
OUT = WORK / "out"
OUT.mkdir()
FORMATS = ["png", "jpeg", "webp", "bmp", "tiff"]
# Header-checked before decoding; keeps each execution small whatever the header claims.
MAX_PIXELS = 1 << 20


def TestOneInput(data: bytes) -> None:
    if len(data) < 3:
        return
    fmt = FORMATS[data[0] % len(FORMATS)]
    side = 1 + data[1] % 64
    grey, fit = bool(data[2] & 1), ("contain", "cover", "fill")[(data[2] >> 1) % 3]
    SRC.write_bytes(data[3:])
    for old in OUT.iterdir():  # the previous execution's output
        old.unlink()
    dst = OUT / f"result.{fmt}"
    try:
        batch.process_image(
            SRC, dst, size=(side, None if data[2] & 8 else side), fit=fit, grayscale=grey,
            exact=bool(data[2] & 16), format=fmt, max_pixels=MAX_PIXELS, threads=1,
        )
    except (imageio.ImageReadError, imageio.ImageWriteError) as error:
        assert "\n" not in str(error) and str(error), repr(error)
    else:
        with Image.open(dst) as written:
            written.load()
    leftovers = [p.name for p in OUT.iterdir() if p.name != dst.name]
    assert not leftovers, leftovers


def make_seeds(folder: Path) -> None:
    """One small image per format and mode, so the fuzzer starts from valid structure."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (9, 13, 4), dtype=np.uint8)
    images = {
        "L": Image.fromarray(rgba[..., 0], "L"),
        "RGB": Image.fromarray(rgba[..., :3], "RGB"),
        "RGBA": Image.fromarray(rgba, "RGBA"),
        "P": Image.fromarray(rgba[..., :3], "RGB").convert("P"),
        "1": Image.fromarray(rgba[..., 0], "L").convert("1"),
    }
    saves = [("PNG", m) for m in images] + [("JPEG", "L"), ("JPEG", "RGB"), ("WEBP", "RGB"), ("WEBP", "RGBA"),
                                            ("GIF", "P"), ("TIFF", "RGB"), ("BMP", "RGB")]
    for index, (fmt, mode) in enumerate(saves):
        buffer = io.BytesIO()
        image = images[mode]
        if fmt == "JPEG":
            exif = image.getexif()
            exif[0x0112] = 6  # rotated: exercises the orientation path
            image.save(buffer, fmt, exif=exif.tobytes())
        else:
            image.save(buffer, fmt)
        # Three control bytes (output format, box side, flags) then the file.
        (folder / f"seed{index:02d}").write_bytes(bytes([index % 5, 20 + index, index * 7 % 32]) + buffer.getvalue())


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--make-seeds":
        make_seeds(Path(sys.argv[2]))
        return
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
