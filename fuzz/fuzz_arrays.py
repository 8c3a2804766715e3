"""atheris target: the bindings (_core.resize / resize_box / grayscale / copy / flatten) with arbitrary
shapes, strides, sizes, boxes, filter names, weights, backgrounds and thread counts.

The contract under test: any input either gives a correct-looking result or raises TypeError /
ValueError (MemoryError for sizes the machine cannot hold); never a crash, never an out-of-bounds
access (run it against the FASTBATCH_SANITIZE build to see those, as .ci/sanitizers.sh does), and
the result never depends on the memory layout (strided input == its contiguous copy).

    python fuzz/fuzz_arrays.py -max_total_time=60 CORPUS_DIR     # see fuzz/README.md
"""

import sys

import atheris

# The extension is not built with -fsanitize=fuzzer, so the only coverage libFuzzer sees is this
# file's own branches (instrumented below): which shape, layout, size class and outcome an input
# reached. That is enough to keep inputs that reach new combinations.
import numpy as np

from fastbatch import _core

FILTERS = ["nearest", "box", "bilinear", "hamming", "bicubic", "lanczos3", "lanczos", "", "LANCZOS3", "cubic\0x"]
WEIGHTS = ["bt601", "bt709", "", "bt2020"]
DTYPES = [np.uint8] * 12 + [np.int8, np.uint16, np.float32, np.bool_]
# Keeps one execution in the milliseconds and the memory small; sides still reach 4096.
MAX_PIXELS = 1 << 18


@atheris.instrument_func
def _image(fdp: atheris.FuzzedDataProvider):
    ndim = fdp.PickValueInList([2, 3, 3, 3, 1, 4])
    # Mostly small sides (where the edge cases are), now and then up to 4096.
    shape = [fdp.ConsumeIntInRange(0, 4096 if fdp.ConsumeIntInRange(0, 7) == 0 else 40) for _ in range(ndim)]
    if ndim >= 3:
        shape[2] = fdp.ConsumeIntInRange(0, 6)
    count = int(np.prod(shape)) if shape else 1
    if count > MAX_PIXELS:
        return None
    dtype = fdp.PickValueInList(DTYPES)
    raw = fdp.ConsumeBytes(min(count, 4096))
    base = np.frombuffer(raw.ljust(max(count, 1), b"\x80"), np.uint8)[:count].reshape(shape).astype(dtype)
    # Layouts: negative and stepped strides, transposes, windows of a bigger array, padded pixels.
    layout = fdp.ConsumeIntInRange(0, 6)
    if layout == 1 and ndim >= 2:
        base = base[::-1, ::-1]
    elif layout == 2 and ndim >= 2:
        base = np.repeat(np.repeat(base, 2, axis=0), 3, axis=1)[::2, ::3]
    elif layout == 3 and ndim >= 2:
        base = np.ascontiguousarray(base.swapaxes(0, 1)).swapaxes(0, 1)
    elif layout == 4 and ndim == 3:
        base = base[..., ::-1]
    elif layout == 5 and ndim >= 2:
        padded = np.zeros((shape[0] + 2, shape[1] + 3) + tuple(shape[2:]), base.dtype)
        padded[1 : 1 + shape[0], 2 : 2 + shape[1]] = base
        base = padded[1 : 1 + shape[0], 2 : 2 + shape[1]]
    elif layout == 6 and ndim == 3 and shape[2] == 3:
        # Pillow's RGB layout, 4 bytes a pixel seen through [..., :3]: read in place by the core.
        rgbx = np.full(tuple(shape[:2]) + (4,), 0x55, base.dtype)
        rgbx[..., :3] = base
        base = rgbx[..., :3]
    return base


@atheris.instrument_func
def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    image = _image(fdp)
    if image is None:
        return
    op = fdp.ConsumeIntInRange(0, 5)
    threads = fdp.PickValueInList([0, 1, 2, 3, -1, 1 << 20])
    if op == 4:
        try:
            out = _core.copy(image, threads)
        except (TypeError, ValueError):
            return
        assert out.flags.c_contiguous and not np.shares_memory(out, image)
        np.testing.assert_array_equal(out, image)
        return
    if op == 5:
        background = [fdp.ConsumeIntInRange(-1, 256) for _ in range(fdp.ConsumeIntInRange(0, 4))]
        try:
            out = _core.flatten(image, background, threads)
        except (TypeError, ValueError):
            return
        wide = image.astype(np.int64)
        expected = (wide[..., :-1] * wide[..., -1:] + np.array(background) * (255 - wide[..., -1:]) + 127) // 255
        np.testing.assert_array_equal(out, expected.astype(np.uint8).reshape(out.shape))
        return
    if op == 3:
        weights = fdp.PickValueInList(WEIGHTS)
        try:
            out = _core.grayscale(image, weights, threads)
        except (TypeError, ValueError):
            return
        assert out.dtype == np.uint8 and out.shape[:2] == image.shape[:2]
        np.testing.assert_array_equal(out, _core.grayscale(np.ascontiguousarray(image), weights, 1))
        return
    # Sizes: mostly near the source's (down, up, mixed), sometimes anything, overflowing ones included.
    if fdp.ConsumeIntInRange(0, 7) != 0:
        width = fdp.ConsumeIntInRange(-2, 2048)
        height = fdp.ConsumeIntInRange(-2, 2048)
    else:
        width = fdp.ConsumeIntInRange(-(1 << 62), 1 << 62)
        height = fdp.ConsumeIntInRange(-(1 << 62), 1 << 62)
    if 0 < width * height * 4 and width * height > (1 << 22) and width <= (1 << 24) and height <= (1 << 24):
        return  # valid but too large to be worth the time (tests/test_limits.py covers allocation failure)
    name = fdp.PickValueInList(FILTERS)
    # A box now and then: mostly inside the image (fractions, slivers), sometimes outside or NaN.
    box = None
    if op == 2 and image.ndim >= 2:
        limits = (image.shape[1], image.shape[0], image.shape[1], image.shape[0])
        box = tuple(
            fdp.ConsumeFloat() if fdp.ConsumeIntInRange(0, 15) == 0 else fdp.ConsumeProbability() * limit
            for limit in limits
        )
    def run(pixels, nthreads):  # type: ignore[no-untyped-def]
        if box is None:
            return _core.resize(pixels, width, height, name, nthreads)
        return _core.resize_box(pixels, width, height, *box, name, nthreads)

    try:
        out = run(image, threads)
    except (TypeError, ValueError, MemoryError):
        return
    channels = image.shape[2:] if image.ndim == 3 else ()
    assert out.shape == (height, width) + channels and out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, run(np.ascontiguousarray(image), 1))


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
