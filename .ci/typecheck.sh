#!/usr/bin/env bash
# Types and lint of the public API:
#   1. stubtest: python/fastbatch/_core.pyi against the compiled module, as installed from a wheel;
#   2. the stub's signatures against the ones pybind11 writes into each function's docstring
#      (stubtest cannot read pybind11 signatures: the functions have no __text_signature__, so on its
#      own it only checks that the same names exist);
#   3. mypy --strict on fastbatch/__init__.py, ops.py and _core.pyi ([tool.mypy] in pyproject.toml:
#      batch.py, io.py and cli.py are read for their types but their errors are not reported yet);
#   4. ruff on the whole package ([tool.ruff]).
#
#   bash .ci/typecheck.sh
#   FASTBATCH_WHEEL=dist/repaired/fastbatch-...whl bash .ci/typecheck.sh   # reuse a built wheel
#   FASTBATCH_TYPECHECK_VENV=/tmp/tc-venv bash .ci/typecheck.sh           # reuse a venv between runs
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

python_bin="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/fastbatch-typecheck.XXXXXX")"
trap 'rm -rf "$work"' EXIT
venv="${FASTBATCH_TYPECHECK_VENV:-$work/venv}"

if [ ! -x "$venv/bin/python" ]; then
    "$python_bin" -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install --quiet --upgrade pip
# Installed, not editable: stubtest must see the stub the way a user's checker does, from the wheel
# (which also proves _core.pyi and py.typed ship). The build folder is ours, never build/{wheel_tag}.
if [ -n "${FASTBATCH_WHEEL:-}" ]; then
    "$py" -m pip install --quiet --force-reinstall "$(realpath "$FASTBATCH_WHEEL")[dev]"
else
    "$py" -m pip install --quiet --force-reinstall --config-settings=build-dir="$work/build" "$root[dev]"
fi

site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
for shipped in _core.pyi py.typed; do
    [ -f "$site/fastbatch/$shipped" ] || { echo "typecheck.sh: the installed package has no $shipped" >&2; exit 1; }
done
if ! cmp -s "$site/fastbatch/_core.pyi" python/fastbatch/_core.pyi; then
    echo "typecheck.sh: the installed _core.pyi is not python/fastbatch/_core.pyi (stale FASTBATCH_WHEEL?)" >&2
    exit 1
fi

echo "== stubtest"
# From a folder outside the tree, so the module and its stub both come from site-packages.
(cd "$work" && "$py" -m mypy.stubtest fastbatch._core)

echo "== stub signatures vs pybind11 docstrings"
(cd "$work" && "$py" - "$site/fastbatch/_core.pyi" <<'EOF'
import ast, inspect, sys

import fastbatch._core as core
from mypy.stubdoc import infer_sig_from_docstring

# Types the stub deliberately writes differently from pybind11's docstring (see _core.pyi's header):
# integers as SupportsIndex (pybind11 refuses floats; older pybind11 writes plain "int"), images as the
# uint8 array the core accepts, results as uint8 arrays, lists in either spelling.
SAME = {
    ("typing.SupportsInt|typing.SupportsIndex", "SupportsIndex"),
    ("int", "SupportsIndex"),
    ("typing.SupportsFloat|typing.SupportsIndex", "float"),
    ("float", "float"),
    ("object", "npt.NDArray[np.uint8]"),
    ("object", "object"),
    ("object", "npt.NDArray[np.uint8] | None"),
    ("numpy.ndarray", "npt.NDArray[np.uint8]"),
    ("list[str]", "list[str]"),
    ("collections.abc.Sequence[typing.SupportsInt|typing.SupportsIndex]", "Sequence[SupportsIndex]"),
    ("list[int]", "Sequence[SupportsIndex]"),
    ("List[int]", "Sequence[SupportsIndex]"),
    ("List[str]", "list[str]"),
    ("str", "str"),
    ("bool", "bool"),
    ("None", "None"),
}

stub = ast.parse(open(sys.argv[1]).read())
stub_funcs = {n.name: n for n in stub.body if isinstance(n, ast.FunctionDef)}
runtime = {name for name, obj in vars(core).items() if not name.startswith("_") and callable(obj)}
problems = []
if set(stub_funcs) != runtime:
    problems.append(f"functions: stub {sorted(stub_funcs)} vs module {sorted(runtime)}")
for name in sorted(runtime & set(stub_funcs)):
    sigs = infer_sig_from_docstring(getattr(core, name).__doc__, name)
    if len(sigs) != 1:
        problems.append(f"{name}: expected one pybind11 signature in its docstring, got {len(sigs)}")
        continue
    sig, fn = sigs[0], stub_funcs[name]
    args = fn.args
    if args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg or args.defaults:
        problems.append(f"{name}: the stub has positional-only/keyword-only/variadic/default parameters")
    got = [(a.arg, ast.unparse(a.annotation) if a.annotation else None) for a in args.args]
    want = [(a.name, a.type) for a in sig.args]
    if [g[0] for g in got] != [w[0] for w in want]:
        problems.append(f"{name}: parameters {[g[0] for g in got]} in the stub, {[w[0] for w in want]} at run time")
    for (pname, stype), (_, rtype) in zip(got, want):
        if (rtype, stype) not in SAME:
            problems.append(f"{name}({pname}): stub type {stype!r} for run-time type {rtype!r}")
    if any(a.default for a in sig.args):
        problems.append(f"{name}: the binding has defaults; the stub has none")
    ret = ast.unparse(fn.returns) if fn.returns else None
    if (sig.ret_type, ret) not in SAME:
        problems.append(f"{name}: stub returns {ret!r}, binding returns {sig.ret_type!r}")
if problems:
    sys.exit("stub and bindings disagree:\n  " + "\n  ".join(problems))
print(f"OK: {len(runtime)} functions, names, parameters and types match")
EOF
)

echo "== mypy --strict"
"$venv/bin/mypy" --strict python/fastbatch/__init__.py python/fastbatch/ops.py python/fastbatch/_core.pyi

echo "== ruff"
"$venv/bin/ruff" check python/fastbatch

echo "typecheck.sh: stubtest, stub signatures, mypy --strict and ruff are clean"
