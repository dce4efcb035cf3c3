#!/bin/sh
# ab_infer.sh — two convd-infer builds side by side on the same converted
# model and input, alternating A and B several times in one run (so that a
# shared machine's load falls on both), printing the median images/s of
# each and the ratio B/A. Used for the before/after numbers of kernel
# changes in docs/performance.md.
# Usage: sh bench/micro/ab_infer.sh A/convd-infer B/convd-infer MODEL_DIR \
#            INPUT.npy BATCH [ROUNDS [RUNS]]
set -eu
[ $# -ge 5 ] || { echo "usage: $0 A B MODEL_DIR INPUT.npy BATCH [ROUNDS [RUNS]]" >&2; exit 2; }
a=$1 b=$2 model=$3 input=$4 batch=$5 rounds=${6:-3} runs=${7:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
one() { # binary cache-dir -> images/s (its stderr kept for a failure)
  "$1" --model "$model" --input "$input" --batch "$batch" --bench "$runs" \
       --cache-dir "$2" 2>"$tmp/stderr" |
    sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' | grep . ||
    { cat "$tmp/stderr" >&2; exit 1; }
}
# first loads build programs and tune: not timed
one "$a" "$tmp/a" >/dev/null
one "$b" "$tmp/b" >/dev/null
i=0
while [ "$i" -lt "$rounds" ]; do
  one "$a" "$tmp/a" >>"$tmp/ra"
  one "$b" "$tmp/b" >>"$tmp/rb"
  i=$((i + 1))
done
med() { sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ma=$(med "$tmp/ra") mb=$(med "$tmp/rb")
printf '%s batch %s: A %s img/s, B %s img/s, B/A %s\n' "$(basename "$model")" \
  "$batch" "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", b/a}')"
