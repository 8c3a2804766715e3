#!/usr/bin/env bash
# The C++ core built with AddressSanitizer + UndefinedBehaviorSanitizer (CMake option
# FASTBATCH_SANITIZE) in a venv of its own, then the core's tests and a short fuzz run against it.
# Any sanitizer report aborts the process, which fails this script.
#
#   bash .ci/sanitizers.sh                 # build + core tests + 30 s of array fuzzing
#   FASTBATCH_ASAN_FUZZ_SECONDS=0 bash .ci/sanitizers.sh    # tests only
#   FASTBATCH_ASAN_VENV=/tmp/asan-venv bash .ci/sanitizers.sh  # reuse a venv between runs
#
# Needs GCC or Clang with libasan (Debian: part of gcc). Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

python_bin="${PYTHON:-python3}"
venv="${FASTBATCH_ASAN_VENV:-$(mktemp -d)/asan-venv}"
fuzz_seconds="${FASTBATCH_ASAN_FUZZ_SECONDS:-30}"

if [ ! -x "$venv/bin/python" ]; then
    "$python_bin" -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install --quiet --upgrade pip
# Runtime and test dependencies, plus the build backend so the build below can skip isolation
# (and reuse its build folder between local runs).
build_tools=("scikit-build-core>=0.10" "pybind11>=2.12")
command -v cmake >/dev/null 2>&1 || build_tools+=(cmake ninja)
"$py" -m pip install --quiet numpy Pillow tqdm pytest hypothesis atheris "${build_tools[@]}"

# A separate build folder, so the sanitized objects never mix with the normal build's.
"$py" -m pip install --quiet --no-build-isolation --no-deps --force-reinstall \
    -C cmake.define.FASTBATCH_SANITIZE=ON \
    -C cmake.build-type=RelWithDebInfo \
    -C "build-dir=build/asan-{wheel_tag}" \
    "$root"

# Found without importing it: loading the sanitized module needs the preload set up below.
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
core="$(ls "$site"/fastbatch/_core*.so 2>/dev/null | head -n 1 || true)"
if [ -z "$core" ]; then
    echo "sanitizers.sh: no fastbatch/_core*.so in $site" >&2
    exit 1
fi
# Proof the extension really is instrumented: it must link the ASan runtime.
if ! readelf -d "$core" | grep -q 'libasan'; then
    echo "sanitizers.sh: $core is not linked against libasan; FASTBATCH_SANITIZE had no effect" >&2
    exit 1
fi

# python is not instrumented, so the ASan runtime has to be loaded first. CPython's allocations at
# exit look like leaks by design: leak detection off. Everything else is fatal.
compiler="${CXX:-g++}"
libasan="$("$compiler" -print-file-name=libasan.so)"
libubsan="$("$compiler" -print-file-name=libubsan.so)"
export LD_PRELOAD="$libasan:$libubsan"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
loaded="$(cd / && "$py" -c 'import fastbatch._core as c; print(c.__file__)')"
if [ "$loaded" != "$core" ]; then
    echo "sanitizers.sh: fastbatch._core loads from '$loaded', not the sanitized $core" >&2
    exit 1
fi

# (test_limits.py is left out: its RLIMIT_AS cases cannot work beside ASan's shadow memory.)
# Run from a folder outside the repository's python/ so only the installed (sanitized) package is
# importable; -p no:cacheprovider keeps the run from writing into the tree.
cd "$root/tests"
"$py" -m pytest -q -p no:cacheprovider --rootdir="$root" -c "$root/pyproject.toml" \
    test_resize_parity.py test_grayscale.py test_isa_paths.py test_threads.py test_errors.py \
    test_pil_images.py test_fit_size.py test_properties.py

if [ "$fuzz_seconds" -gt 0 ]; then
    # The array target under ASan: out-of-bounds reads from odd strides and sizes are caught here.
    corpus="$(mktemp -d)"
    "$py" "$root/fuzz/fuzz_arrays.py" -max_total_time="$fuzz_seconds" -rss_limit_mb=0 -malloc_limit_mb=0 \
        -timeout=60 -print_final_stats=1 -artifact_prefix="$corpus/" "$corpus"
fi
echo "sanitizers.sh: ASan + UBSan build passed the core tests and ${fuzz_seconds} s of fuzzing"
