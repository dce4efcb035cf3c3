#!/bin/sh
# run.sh — HTTP load benchmark of convd with wrk (Debian package wrk).
#   bench/load/run.sh [-B BUILD_DIR] [-d SECONDS] [-c "1 8 32"] [-i IMAGE]
#                     [-D DEVICE] [MODEL_DIR ...]
# For each model folder: starts BUILD_DIR/convd on an ephemeral loopback port
# serving only that model, POSTs IMAGE to /v1/models/NAME/classify with
# bench/load/post_image.lua at each concurrency (-d seconds each, --latency),
# prints requests/s and p50/p90/p99 latency in a table, then stops the daemon.
# Default models: models/tiny-demo and BUILD_DIR/bench/resnet18-224 (made with
# tools/convert.py when missing). Extra daemon flags: $CONVD_ARGS.
# It never edits the model folders (a temporary copy is served).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build
DUR=10
CONCS="1 8 32"
IMAGE=$ROOT/models/tiny-demo/sample.png
DEV=${CONVD_DEVICE:-auto}

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
while getopts "B:d:c:i:D:h" opt; do
    case $opt in
    B) B=$(cd "$OPTARG" && pwd) || exit 2 ;;
    d) DUR=$OPTARG ;;
    c) CONCS=$OPTARG ;;
    i) IMAGE=$(cd "$(dirname "$OPTARG")" && pwd)/$(basename "$OPTARG") ;;
    D) DEV=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
case $DUR in '' | *[!0-9]*) echo "run.sh: -d wants whole seconds" >&2; exit 2 ;; esac

command -v wrk >/dev/null 2>&1 || { echo "run.sh: wrk not installed (apt-get install wrk)" >&2; exit 2; }
[ -x "$B/convd" ] || { echo "run.sh: $B/convd not built (make)" >&2; exit 2; }
[ -r "$IMAGE" ] || { echo "run.sh: cannot read $IMAGE" >&2; exit 2; }

if [ $# -eq 0 ]; then
    R18=$B/bench/resnet18-224
    if [ ! -f "$R18/model.json" ]; then
        echo "run.sh: converting torchvision resnet18 to $R18" >&2
        OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$ROOT/tools/convert.py" \
            --torchvision resnet18 --seed 0 --size 224 224 --out "$R18" >&2 || exit 1
    fi
    set -- "$ROOT/models/tiny-demo" "$R18"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/convd-load.XXXXXX") || exit 1
PID=
cleanup() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server MODEL_DIR -> sets PID and PORT, or returns 1
start_server() {
    name=$(basename "$1")
    rm -rf "$TMP/models" "$TMP/port"
    mkdir -p "$TMP/models"
    cp -r "$1" "$TMP/models/$name" || return 1
    # shellcheck disable=SC2086
    "$B/convd" --models "$TMP/models" --host 127.0.0.1 --port 0 \
        --port-file "$TMP/port" --device "$DEV" --log-level warn \
        ${CONVD_ARGS:-} 2>"$TMP/convd.log" &
    PID=$!
    PORT=
    i=0
    while [ $i -lt 1200 ]; do   # 120 s: a cold OpenCL compile can be slow
        if ! kill -0 "$PID" 2>/dev/null; then
            echo "run.sh: convd exited at start:" >&2
            tail -n 20 "$TMP/convd.log" >&2
            PID=
            return 1
        fi
        [ -s "$TMP/port" ] && PORT=$(cat "$TMP/port")
        if [ -n "$PORT" ] && curl -sf -m 2 -o /dev/null "http://127.0.0.1:$PORT/readyz"; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "run.sh: convd not ready after 120 s" >&2
    tail -n 20 "$TMP/convd.log" >&2
    return 1
}

stop_server() {
    kill -TERM "$PID" 2>/dev/null
    wait "$PID"
    rc=$?
    PID=
    [ $rc -eq 0 ] || echo "run.sh: convd exited with status $rc" >&2
}

echo "convd load benchmark: wrk ${DUR}s per row, image $(basename "$IMAGE"), device $DEV, $(nproc) CPUs"
printf '%-16s %5s %10s %10s %10s %10s %8s\n' model conc "req/s" "p50_ms" "p90_ms" "p99_ms" errors
status=0
for dir in "$@"; do
    dir=$(cd "$dir" && pwd) || { status=1; continue; }
    name=$(basename "$dir")
    if ! start_server "$dir"; then
        status=1
        continue
    fi
    url="http://127.0.0.1:$PORT/v1/models/$name/classify"
    # one warm-up request, checked: a failing setup must not be benchmarked
    if ! curl -sf -m 60 -o /dev/null -H "Content-Type: image/png" \
        --data-binary "@$IMAGE" "$url"; then
        echo "run.sh: warm-up request to $url failed" >&2
        stop_server
        status=1
        continue
    fi
    for c in $CONCS; do
        t=2
        [ "$c" -lt 2 ] && t=1
        out=$(cd "$ROOT" && IMAGE=$IMAGE timeout $((DUR + 60)) wrk -t"$t" -c"$c" \
            -d"${DUR}s" --timeout 30s --latency -s "$ROOT/bench/load/post_image.lua" "$url" 2>&1)
        line=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -n 1)
        if [ -z "$line" ]; then
            echo "run.sh: wrk failed for $name c=$c:" >&2
            printf '%s\n' "$out" | tail -n 10 >&2
            status=1
            continue
        fi
        get() { printf '%s\n' "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
        printf '%-16s %5s %10s %10s %10s %10s %8s\n' "$name" "$c" "$(get rps)" \
            "$(get p50_ms)" "$(get p90_ms)" "$(get p99_ms)" "$(get errors)"
        [ "$(get errors)" = 0 ] || status=1
    done
    stop_server
done
exit $status
