#!/usr/bin/env bash
# Bounded fuzz runs of fuzz/fuzz_arrays.py (the bindings) and fuzz/fuzz_files.py (bytes -> decode ->
# resize -> encode) against the installed fastbatch. Any finding fails the script; its input is kept
# in the artifacts folder printed below (reproduce: python fuzz/fuzz_files.py ARTIFACT).
#
#   bash .ci/fuzz.sh                          # FASTBATCH_FUZZ_SECONDS (default 60) per target
#   FASTBATCH_FUZZ_SECONDS=3600 bash .ci/fuzz.sh
#
# Needs atheris (pip install atheris). Longer runs and the sanitized build: fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
seconds="${FASTBATCH_FUZZ_SECONDS:-60}"
py="${PYTHON:-python}"

"$py" -c "import atheris" 2>/dev/null || "$py" -m pip install --quiet atheris

work="$(mktemp -d)"
mkdir -p "$work/arrays" "$work/files" "$work/artifacts"
"$py" "$root/fuzz/fuzz_files.py" --make-seeds "$work/files"
echo "fuzz.sh: corpora and artifacts in $work"

status=0
for target in arrays files; do
    # -rss_limit_mb: a target that balloons is a finding too; -timeout: so is one input taking 30 s.
    if ! "$py" "$root/fuzz/fuzz_$target.py" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=3072 \
        -timeout=30 -print_final_stats=1 -artifact_prefix="$work/artifacts/$target-" "$work/$target" \
        > "$work/$target.log" 2>&1; then
        status=1
        tail -n 60 "$work/$target.log"
    fi
    runs="$(grep -E '^stat::number_of_executed_units' "$work/$target.log" | awk '{print $2}')"
    echo "fuzz.sh: $target: ${runs:-?} executions in ${seconds} s"
done
if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: findings in $work/artifacts" >&2
fi
exit "$status"
