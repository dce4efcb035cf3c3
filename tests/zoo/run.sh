#!/bin/sh
# run.sh BUILD_DIR — the shipped zoo still agrees with PyTorch: for every
# models/<m>/check_input.npy (held-out inputs written by tools/train.py) runs
# BUILD_DIR/convd-infer --json and compares with check_expected.npy (PyTorch's
# outputs) through tools/compare_outputs.py, and plays the CAM pointing game
# on the localising classifiers. Prints "N passed, M failed".
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
# The pointing game (issue 6): the Eigen-CAM peak of the localising
# classifiers falls inside the object's mask on >= 90% of held-out
# single-object images (tools/eval_cam.py, 1000 generated, seed 7000;
# deterministic; measured 99.7% and 99.5%).
for m in shapes-drn shapes-drn-phc; do
    if OPENBLAS_NUM_THREADS=1 timeout 300 /usr/bin/python3 "$ROOT/tools/eval_cam.py" \
            "$ROOT/models/$m" --convd "$B/convd-infer" --n 1000 --device "$DEV" \
            --min-strict 90 >"$TMP/cam.txt" 2>&1; then
        echo "$m pointing game: ok ($(head -1 "$TMP/cam.txt" | sed 's/.*strict=/strict=/'))"
        pass=$((pass + 1))
    else
        echo "$m pointing game: FAIL"
        sed 's/^/    /' "$TMP/cam.txt" | tail -4
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
