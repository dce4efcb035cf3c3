#!/bin/sh
# run.sh BUILD_DIR — golden test: runs BUILD_DIR/convd-infer on every
# BUILD_DIR/golden/<model>/input_<k>.npy and compares with expected_<k>.npy
# (tools/compare_outputs.py). Generates the fixtures with tools/make_golden.py
# when BUILD_DIR/golden is absent. Prints "N passed, M failed"; exits 1 if
# M > 0. Device: $CONVD_DEVICE (default cpu). It never edits the fixtures.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
B=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
DEV=${CONVD_DEVICE:-cpu}
INFER=$B/convd-infer
export OPENBLAS_NUM_THREADS=1
if [ ! -x "$INFER" ]; then
    echo "run.sh: $INFER not built" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -d "$B/golden" ]; then
    echo "run.sh: generating fixtures in $B/golden"
    if ! $PY "$ROOT/tools/make_golden.py" --out "$B/golden"; then
        echo "0 passed, 1 failed"
        exit 1
    fi
fi
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0
for dir in "$B"/golden/*/; do
    dir=${dir%/}
    [ -f "$dir/model.json" ] || continue
    m=$(basename "$dir")
    for in in "$dir"/input_*.npy; do
        [ -f "$in" ] || continue
        k=$(basename "$in" .npy)
        k=${k#input_}
        case="$m/$k"
        timeout 300 "$INFER" --model "$dir" --input "$in" --json \
            --device "$DEV" >"$TMP/out.json" 2>"$TMP/err.txt"
        rc=$?
        if [ $rc -ne 0 ]; then
            echo "$case: FAIL convd-infer exited $rc:"
            sed 's/^/    /' "$TMP/err.txt" | tail -5
            fail=$((fail + 1))
            continue
        fi
        if $PY "$ROOT/tools/compare_outputs.py" "$dir/expected_$k.npy" \
                "$TMP/out.json" --name "$case"; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
        fi
    done
done
if [ $((pass + fail)) -eq 0 ]; then
    echo "run.sh: no fixtures under $B/golden" >&2
    fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
