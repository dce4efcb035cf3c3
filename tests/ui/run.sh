#!/bin/sh
# run.sh BUILD_DIR — the web console's end-to-end browser test
# (console.test.js) against BUILD_DIR/convd, in Debian's headless chromium
# through playwright-core. Skipped, with a message saying why, when chromium,
# node or the npm packages (npm ci here; `make deps` does it) are missing.
# Bounded by $CONVD_UI_TIMEOUT seconds (default 600). Screenshots go to
# BUILD_DIR/ui-test. Last line: "N passed, M failed".
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$1" 2>/dev/null && pwd) || { echo "ui test: no build dir $1" >&2; echo "0 passed, 1 failed"; exit 1; }
CHROMIUM=${CONVD_CHROMIUM:-/usr/bin/chromium}
skip() {
    echo "ui test: SKIPPED — $1"
    exit 0
}
[ -x "$CHROMIUM" ] || skip "$CHROMIUM not installed (make deps installs Debian's chromium)"
command -v node >/dev/null 2>&1 || skip "node not installed (make deps installs it)"
[ -f "$HERE/node_modules/playwright-core/package.json" ] ||
    skip "playwright-core not installed (run: cd tests/ui && npm ci; make deps does it)"
if [ ! -x "$B/convd" ]; then
    echo "ui test: $B/convd not built" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p "$B/ui-test"
CONVD_UI_OUT="$B/ui-test" timeout -k 10 "${CONVD_UI_TIMEOUT:-600}" node "$HERE/console.test.js" "$B"
rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "ui test: timed out after ${CONVD_UI_TIMEOUT:-600}s" >&2
    echo "0 passed, 1 failed"
fi
exit "$rc"
