#!/bin/sh
# run.sh BUILD_DIR — the shipped zoo still agrees with PyTorch: for every
# models/<m>/check_input.npy (held-out inputs written by tools/train.py) runs
# BUILD_DIR/convd-infer --json and compares with check_expected.npy (PyTorch's
# outputs) through tools/compare_outputs.py. Prints "N passed, M failed".
set -u
B=${1:?usage: run.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEV=${CONVD_DEVICE:-cpu}
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0
for dir in "$ROOT"/models/*/; do
    dir=${dir%/}
    [ -f "$dir/check_input.npy" ] || continue
    m=$(basename "$dir")
    if timeout 300 "$B/convd-infer" --model "$dir" --input "$dir/check_input.npy" \
            --json --device "$DEV" >"$TMP/out.json" 2>"$TMP/err.txt" &&
       OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$ROOT/tools/compare_outputs.py" \
            "$dir/check_expected.npy" "$TMP/out.json" >"$TMP/cmp.txt" 2>&1; then
        echo "$m: ok ($(tail -1 "$TMP/cmp.txt"))"
        pass=$((pass + 1))
    else
        echo "$m: FAIL"
        sed 's/^/    /' "$TMP/err.txt" "$TMP/cmp.txt" | tail -8
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
