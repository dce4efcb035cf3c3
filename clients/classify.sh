#!/bin/sh
# classify.sh — classify one image with a running convd:
#   classify.sh [-H host:port] [-k top] MODEL IMAGE
# POSTs IMAGE (.png, .jpg or .jpeg) to /v1/models/MODEL/classify with curl and
# prints the JSON answer. On a non-2xx answer it prints the server's error
# message to stderr and exits 1; 2 for usage errors or an unreachable server.
# Environment: CONVD_HOST (default 127.0.0.1:8080), CONVD_TIMEOUT (s, 60).
set -u

usage() {
    echo "usage: classify.sh [-H host:port] [-k top] MODEL IMAGE" >&2
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
image=$2

case $top in
'') ;;
*[!0-9]*) echo "classify.sh: -k wants a positive integer, got '$top'" >&2; exit 2 ;;
esac
case $model in
'' | *[!A-Za-z0-9._-]*) echo "classify.sh: bad model name '$model'" >&2; exit 2 ;;
esac
case $(printf '%s' "$image" | tr 'A-Z' 'a-z') in
*.png) ctype=image/png ;;
*.jpg | *.jpeg) ctype=image/jpeg ;;
*) echo "classify.sh: $image: expected a .png, .jpg or .jpeg file" >&2; exit 2 ;;
esac
if [ ! -f "$image" ] || [ ! -r "$image" ]; then
    echo "classify.sh: $image: no such readable file" >&2
    exit 2
fi
command -v curl >/dev/null 2>&1 || { echo "classify.sh: curl not found" >&2; exit 2; }

url="http://$host/v1/models/$model/classify"
[ -n "$top" ] && url="$url?top=$top"

out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
code=$(curl -sS -o "$out" -w '%{http_code}' -m "${CONVD_TIMEOUT:-60}" \
    -H "Content-Type: $ctype" --data-binary "@$image" "$url") || {
    echo "classify.sh: request to $host failed" >&2
    exit 2
}

case $code in
2??)
    cat "$out"
    # the server's JSON has no trailing newline
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
echo "classify.sh: HTTP $code: $msg" >&2
exit 1
