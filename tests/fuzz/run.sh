#!/bin/sh
# run.sh BUILD_DIR SECONDS NAME... — runs each libFuzzer harness
# BUILD_DIR/fuzz/fuzz_NAME for SECONDS seconds, starting from its committed
# corpus tests/fuzz/corpus/NAME (every regression input in it is replayed
# first). New inputs go to a scratch copy, never into the repository; a crash
# leaves its input in BUILD_DIR/fuzz-artifacts/ and fails the run. A
# dictionary tests/fuzz/NAME.dict (JSON keys, op names) is used if present.
# Prints one line per harness: executions, exec/s, corpus size, result.
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 BUILD_DIR SECONDS NAME..." >&2
    exit 2
fi
B=$1; SECS=$2; shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
ART="$B/fuzz-artifacts"
mkdir -p "$ART"
# Scratch (new corpus entries, the loaders' temp files) in memory if possible.
WORK=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d) || exit 1
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tmp"
export TMPDIR="$WORK/tmp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=""
for name in "$@"; do
    bin="$B/fuzz/fuzz_$name"
    seeds="$HERE/corpus/$name"
    if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
        echo "fuzz: $bin or $seeds missing" >&2
        failed="$failed $name"
        continue
    fi
    mkdir -p "$WORK/$name"
    log="$WORK/$name.log"
    # -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory.
    # timeout(1) is a backstop should the fuzzer itself hang.
    dict=""
    [ -f "$HERE/$name.dict" ] && dict="-dict=$HERE/$name.dict"
    timeout -k 5 $((SECS + 60)) "$bin" -max_total_time="$SECS" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 $dict \
        -artifact_prefix="$ART/$name-" "$WORK/$name" "$seeds" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    ncorp=$(ls "$WORK/$name" "$seeds" | grep -vc ':$')
    if [ "$rc" -eq 0 ]; then
        res=ok
    else
        res="FAILED (rc $rc)"
        failed="$failed $name"
        tail -n 60 "$log"
    fi
    line=$(printf 'fuzz %-12s %4ss  execs=%-9s exec/s=%-7s corpus=%-5s %s' "$name" "$SECS" \
        "${execs:-?}" "${speed:-?}" "$ncorp" "$res")
    echo "$line"
done
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed (inputs in $ART)"
    exit 1
fi
