#!/bin/sh
# audio.sh — classify one WAV clip with a running convd (audio models):
#   audio.sh [-H host:port] [-k top] MODEL CLIP.wav
# POSTs the WAV (PCM 8/16/24/32-bit or float, any rate and channel count; the
# server mixes down, resamples and computes the model's features) to
# /v1/models/MODEL/classify as audio/wav and prints the JSON answer. On a
# non-2xx answer it prints the server's error message to stderr and exits 1;
# 2 for usage errors or an unreachable server.
# Environment: CONVD_HOST (default 127.0.0.1:8080), CONVD_TIMEOUT (s, 60).
set -u

usage() {
    echo "usage: audio.sh [-H host:port] [-k top] MODEL CLIP.wav" >&2
    exit 2
}

host=${CONVD_HOST:-127.0.0.1:8080}
top=
while getopts "H:k:h" opt; do
    case $opt in
    H) host=$OPTARG ;;
    k) top=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
model=$1
clip=$2

case $top in
'') ;;
*[!0-9]*) echo "audio.sh: -k wants a positive integer, got '$top'" >&2; exit 2 ;;
esac
case $model in
'' | *[!A-Za-z0-9._-]*) echo "audio.sh: bad model name '$model'" >&2; exit 2 ;;
esac
case $(printf '%s' "$clip" | tr 'A-Z' 'a-z') in
*.wav | *.wave) ;;
*) echo "audio.sh: $clip: expected a .wav file" >&2; exit 2 ;;
esac
if [ ! -f "$clip" ] || [ ! -r "$clip" ]; then
    echo "audio.sh: $clip: no such readable file" >&2
    exit 2
fi
command -v curl >/dev/null 2>&1 || { echo "audio.sh: curl not found" >&2; exit 2; }

url="http://$host/v1/models/$model/classify"
[ -n "$top" ] && url="$url?top=$top"

out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
code=$(curl -sS -o "$out" -w '%{http_code}' -m "${CONVD_TIMEOUT:-60}" \
    -H "Content-Type: audio/wav" --data-binary "@$clip" "$url") || {
    echo "audio.sh: request to $host failed" >&2
    exit 2
}

case $code in
2??)
    cat "$out"
    [ -n "$(tail -c 1 "$out")" ] && echo
    exit 0
    ;;
esac
if command -v jq >/dev/null 2>&1; then
    msg=$(jq -r '.error.message // empty' "$out" 2>/dev/null)
else
    msg=$(sed -n 's/.*"message"[[:space:]]*:[[:space:]]*"\(\([^"\\]\|\\.\)*\)".*/\1/p' "$out" | sed 's/\\"/"/g')
fi
[ -n "$msg" ] || msg=$(head -c 300 "$out")
echo "audio.sh: HTTP $code: $msg" >&2
exit 1
