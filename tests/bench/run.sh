#!/bin/sh
# run.sh BUILD_DIR — the benchmark scripts still run (make check, well under a
# minute): bench/compare.py --smoke (shapes-resnet, batch 1 and 2, 2 runs; the
# outputs must agree with PyTorch), bench/roofline.py --smoke (stream, peak, one
# profiled model, a PNG that must exist), bench/serve_compare.py --smoke (both
# servers on shapes-resnet, 1 s per row, no HTTP errors allowed).
# Speeds are printed, never checked: this only keeps the benches from rotting.
# Each script gets at most 300 s (a cold kernel cache on a busy machine);
# warm, the three take about 40 s.
set -u
B=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd) || exit 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export OPENBLAS_NUM_THREADS=1
DEV=${CONVD_DEVICE:-cpu}
LOG=$(mktemp -d) || exit 1
trap 'rm -rf "$LOG"' EXIT INT TERM
pass=0
fail=0
check() {
    name=$1
    shift
    t0=$(date +%s)
    if timeout 300 "$@" >"$LOG/out.txt" 2>&1; then
        echo "$name: ok ($(( $(date +%s) - t0 )) s)"
        pass=$((pass + 1))
    else
        echo "$name: FAIL"
        tail -n 15 "$LOG/out.txt" | sed 's/^/    /'
        fail=$((fail + 1))
    fi
}
check compare /usr/bin/python3 "$ROOT/bench/compare.py" --build "$B" --smoke --device "$DEV"
rm -f "$B/bench/roofline-smoke.png"
check roofline sh -c "/usr/bin/python3 '$ROOT/bench/roofline.py' --build '$B' --smoke --device '$DEV' &&
    test -s '$B/bench/roofline-smoke.png'"
check serve_compare /usr/bin/python3 "$ROOT/bench/serve_compare.py" --build "$B" --smoke --device "$DEV"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
