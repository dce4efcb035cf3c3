#!/bin/sh
# run.sh BUILD_DIR — integration tests of the daemon: runs test_server.py
# and test_media.py (Python stdlib unittest + numpy) against BUILD_DIR/convd and
# BUILD_DIR/convd-infer, which must already be built (this builds nothing).
# Device: $CONVD_DEVICE (default cpu). Bounded by $CONVD_IT_TIMEOUT seconds
# (default 600). Last line: "N passed, M failed"; exits 1 if M > 0.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
B=$(cd "$1" 2>/dev/null && pwd) || { echo "run.sh: no build dir $1" >&2; echo "0 passed, 1 failed"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
for bin in convd convd-infer; do
    if [ ! -x "$B/$bin" ]; then
        echo "run.sh: $B/$bin not built" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done
LOG=$(mktemp) || exit 1
trap 'rm -f "$LOG"' EXIT
export BUILD_DIR="$B" OPENBLAS_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
cd "$HERE" || exit 1
# -k on timeout: a hung test (or daemon) is killed, never waited on forever.
timeout -k 10 "${CONVD_IT_TIMEOUT:-600}" \
    "$PY" -m unittest -v ${CONVD_IT_TESTS:-test_server test_media test_hostile test_auth test_repository test_clients test_nginx_failover test_ui test_faults} >"$LOG" 2>&1
rc=$?
cat "$LOG"
# unittest's summary: "Ran N tests" then "OK (skipped=S)" or
# "FAILED (failures=F, errors=E, skipped=S, unexpected successes=U)"
num() { sed -n "s/.*$1=\([0-9][0-9]*\).*/\1/p" "$LOG" | tail -n 1; }
ran=$(sed -n 's/^Ran \([0-9][0-9]*\) tests\{0,1\}.*/\1/p' "$LOG" | tail -n 1)
ran=${ran:-0}
f=$(num failures); e=$(num errors); s=$(num skipped); u=$(num "unexpected successes")
fail=$(( ${f:-0} + ${e:-0} + ${u:-0} ))
skip=${s:-0}
pass=$(( ran - fail - skip ))
[ "$pass" -lt 0 ] && pass=0
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "run.sh: timed out after ${CONVD_IT_TIMEOUT:-600}s" >&2
    fail=$((fail + 1))
elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    fail=1
fi
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
