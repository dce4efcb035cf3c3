#!/bin/sh
# run_units.sh TEST_BINARY... — runs each unit test (built with ASan + UBSan)
# and fails if any fails. One exception is retried, once: LeakSanitizer's
# own tracer crashing while it stops the world ("LeakSanitizer has
# encountered a fatal error", seen with POCL's worker threads on a loaded
# machine). That is a sanitizer failure, not a finding; any ASan, UBSan or
# leak report fails the run at once.
set -u
failed=""
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
for t in "$@"; do
    echo "== asan $t"
    for try in 1 2; do
        "$t" >"$out" 2>&1
        rc=$?
        cat "$out"
        if [ "$rc" -ne 0 ] && [ "$try" -eq 1 ] &&
           grep -q "LeakSanitizer has encountered a fatal error" "$out" &&
           ! grep -q "ERROR: AddressSanitizer\|runtime error\|ERROR: LeakSanitizer: detected" "$out"; then
            echo "== asan $t: LeakSanitizer's tracer crashed; running it again"
            continue
        fi
        break
    done
    [ "$rc" -eq 0 ] || failed="$failed $t"
done
if [ -n "$failed" ]; then
    echo "ASAN FAILED:$failed"
    exit 1
fi
