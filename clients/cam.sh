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
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init cam.sh "cam.sh [-H host:port] [-l LAYER] [-k top] [-o OUT.png] [-O] MODEL IMAGE"

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

check_overlay "$overlay" "$outfile"
check_top "$top"
check_model "$model"
case $layer in
*[!A-Za-z0-9._:-]*) die "bad layer name '$layer'" ;;
esac
ctype=$(image_type "$image") || exit 2
check_input "$image"

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

post "$url" "$ctype" "$image"
finish "$outfile"
