#!/bin/sh
# segment.sh — segment one image with a running convd:
#   segment.sh [-H host:port] [-o OUT.png] [-O] MODEL IMAGE
# POSTs IMAGE (.png, .jpg or .jpeg) to /v1/models/MODEL/segment with curl.
# Without -o it prints the JSON answer (classes and the run-length encoded
# mask); with -o it writes the class-colour PNG to OUT.png, and -O makes it
# the input image blended with the class colours instead. On a non-2xx answer
# it prints the server's error message to stderr and exits 1; 2 for usage
# errors or an unreachable server.
# Environment: CONVD_HOST (default 127.0.0.1:8080), CONVD_TIMEOUT (s, 60).
set -u

usage() {
    echo "usage: segment.sh [-H host:port] [-o OUT.png] [-O] MODEL IMAGE" >&2
    exit 2
}

host=${CONVD_HOST:-127.0.0.1:8080}
outfile=
overlay=
while getopts "H:o:Oh" opt; do
    case $opt in
    H) host=$OPTARG ;;
    o) outfile=$OPTARG ;;
    O) overlay=1 ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
model=$1
image=$2

[ -n "$overlay" ] && [ -z "$outfile" ] && { echo "segment.sh: -O needs -o OUT.png" >&2; exit 2; }
case $model in
'' | *[!A-Za-z0-9._-]*) echo "segment.sh: bad model name '$model'" >&2; exit 2 ;;
esac
case $(printf '%s' "$image" | tr 'A-Z' 'a-z') in
*.png) ctype=image/png ;;
*.jpg | *.jpeg) ctype=image/jpeg ;;
*) echo "segment.sh: $image: expected a .png, .jpg or .jpeg file" >&2; exit 2 ;;
esac
if [ ! -f "$image" ] || [ ! -r "$image" ]; then
    echo "segment.sh: $image: no such readable file" >&2
    exit 2
fi
command -v curl >/dev/null 2>&1 || { echo "segment.sh: curl not found" >&2; exit 2; }

url="http://$host/v1/models/$model/segment"
if [ -n "$overlay" ]; then
    url="$url?overlay=1"
elif [ -n "$outfile" ]; then
    url="$url?format=png"
fi

out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
code=$(curl -sS -o "$out" -w '%{http_code}' -m "${CONVD_TIMEOUT:-60}" \
    -H "Content-Type: $ctype" --data-binary "@$image" "$url") || {
    echo "segment.sh: request to $host failed" >&2
    exit 2
}

case $code in
2??)
    if [ -n "$outfile" ]; then
        cp "$out" "$outfile" || { echo "segment.sh: cannot write $outfile" >&2; exit 2; }
        echo "segment.sh: wrote $outfile" >&2
    else
        cat "$out"
        [ -n "$(tail -c 1 "$out")" ] && echo
    fi
    exit 0
    ;;
esac
if command -v jq >/dev/null 2>&1; then
    msg=$(jq -r '.error.message // empty' "$out" 2>/dev/null)
else
    msg=$(sed -n 's/.*"message"[[:space:]]*:[[:space:]]*"\(\([^"\\]\|\\.\)*\)".*/\1/p' "$out" | sed 's/\\"/"/g')
fi
[ -n "$msg" ] || msg=$(head -c 300 "$out")
echo "segment.sh: HTTP $code: $msg" >&2
exit 1
