#!/bin/sh
# run.sh BUILD_DIR — deployment tests (Python unittest, /usr/bin/python3):
# make install into a DESTDIR and into a temporary PREFIX, the installed
# daemon classifying through the installed client under the unit's
# restrictions, sd_notify on a fake NOTIFY_SOCKET, socket activation, a
# traced cold start against the unit's system call filter, the systemd
# units (systemd-analyze verify and security), the Prometheus config
# (promtool), the Kubernetes manifests and the man pages.
# BUILD_DIR/convd must be built (make install builds nothing new). Bounded
# by $CONVD_DEPLOY_TIMEOUT seconds (default 900; a cold kernel cache for
# the whole zoo takes a few minutes once). Last line: "N passed, M failed".
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
B=$(cd "$1" 2>/dev/null && pwd) || { echo "run.sh: no build dir $1" >&2; echo "0 passed, 1 failed"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$B/convd" ] || [ ! -x "$B/convd-infer" ]; then
    echo "run.sh: $B/convd or $B/convd-infer not built" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
LOG=$(mktemp) || exit 1
trap 'rm -f "$LOG"' EXIT
export BUILD_DIR="$B" PYTHONDONTWRITEBYTECODE=1
cd "$HERE" || exit 1
timeout -k 10 "${CONVD_DEPLOY_TIMEOUT:-900}" \
    /usr/bin/python3 -m unittest -v ${CONVD_DEPLOY_TESTS:-test_install test_notify test_socket_activation test_syscall_filter test_units} \
    >"$LOG" 2>&1
rc=$?
cat "$LOG"
num() { sed -n "s/.*$1=\([0-9][0-9]*\).*/\1/p" "$LOG" | tail -n 1; }
ran=$(sed -n 's/^Ran \([0-9][0-9]*\) tests\{0,1\}.*/\1/p' "$LOG" | tail -n 1)
ran=${ran:-0}
f=$(num failures); e=$(num errors); s=$(num skipped); u=$(num "unexpected successes")
fail=$(( ${f:-0} + ${e:-0} + ${u:-0} ))
skip=${s:-0}
pass=$(( ran - fail - skip ))
[ "$pass" -lt 0 ] && pass=0
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "run.sh: timed out after ${CONVD_DEPLOY_TIMEOUT:-900}s" >&2
    fail=$((fail + 1))
elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    fail=1
fi
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped (skips are listed above with their reason)"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
