#!/bin/sh
# cam.sh — Eigen-CAM heatmap of one image from a running convd:
#   cam.sh [-H host:port] [-l LAYER] [-k top] [-o OUT.png] [-O] MODEL IMAGE
# POSTs IMAGE (.png, .jpg or .jpeg) to /v1/models/MODEL/cam with curl.
# Without -o it prints the JSON answer (the h x w map, its peak in input
# pixels, and with -k the top predictions); with -o it writes the
# colour-mapped heatmap PNG (input size) to OUT.png, and -O blends it over the
# input image. -l picks the layer (default: the model's cam_layer). On a
# non-2xx answer it prints the server's error message to stderr and exits 1;
# 2 for usage errors or an unreachable server.
# Environment: CONVD_HOST (default 127.0.0.1:8080), CONVD_TIMEOUT (s, 60).
set -u

usage() {
    echo "usage: cam.sh [-H host:port] [-l LAYER] [-k top] [-o OUT.png] [-O] MODEL IMAGE" >&2
    exit 2
}

host=${CONVD_HOST:-127.0.0.1:8080}
outfile=
overlay=
layer=
top=
while getopts "H:l:k:o:Oh" opt; do
    case $opt in
    H) host=$OPTARG ;;
    l) layer=$OPTARG ;;
    k) top=$OPTARG ;;
    o) outfile=$OPTARG ;;
    O) overlay=1 ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
model=$1
image=$2

[ -n "$overlay" ] && [ -z "$outfile" ] && { echo "cam.sh: -O needs -o OUT.png" >&2; exit 2; }
case $top in
'') ;;
*[!0-9]*) echo "cam.sh: -k wants a positive integer, got '$top'" >&2; exit 2 ;;
esac
case $model in
'' | *[!A-Za-z0-9._-]*) echo "cam.sh: bad model name '$model'" >&2; exit 2 ;;
esac
case $layer in
*[!A-Za-z0-9._:-]*) echo "cam.sh: bad layer name '$layer'" >&2; exit 2 ;;
esac
case $(printf '%s' "$image" | tr 'A-Z' 'a-z') in
*.png) ctype=image/png ;;
*.jpg | *.jpeg) ctype=image/jpeg ;;
*) echo "cam.sh: $image: expected a .png, .jpg or .jpeg file" >&2; exit 2 ;;
esac
if [ ! -f "$image" ] || [ ! -r "$image" ]; then
    echo "cam.sh: $image: no such readable file" >&2
    exit 2
fi
command -v curl >/dev/null 2>&1 || { echo "cam.sh: curl not found" >&2; exit 2; }

q=
[ -n "$layer" ] && q="$q&layer=$layer"
[ -n "$top" ] && q="$q&top=$top"
if [ -n "$overlay" ]; then
    q="$q&overlay=1"
elif [ -n "$outfile" ]; then
    q="$q&format=png"
fi
url="http://$host/v1/models/$model/cam"
[ -n "$q" ] && url="$url?${q#&}"

out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
code=$(curl -sS -o "$out" -w '%{http_code}' -m "${CONVD_TIMEOUT:-60}" \
    -H "Content-Type: $ctype" --data-binary "@$image" "$url") || {
    echo "cam.sh: request to $host failed" >&2
    exit 2
}

case $code in
2??)
    if [ -n "$outfile" ]; then
        cp "$out" "$outfile" || { echo "cam.sh: cannot write $outfile" >&2; exit 2; }
        echo "cam.sh: wrote $outfile" >&2
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
echo "cam.sh: HTTP $code: $msg" >&2
exit 1
