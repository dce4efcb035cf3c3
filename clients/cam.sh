#!/bin/sh
# cam.sh — Eigen-CAM heatmap of one image from a running convd:
#   cam.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-l LAYER] [-k top]
#          [-o OUT.png] [-O] MODEL IMAGE
# POSTs IMAGE (.png, .jpg or .jpeg) to /v1/models/MODEL/cam with curl.
# Without -o it prints the JSON answer (the h x w map, its peak in input
# pixels, and with -k the top predictions); with -o it writes the
# colour-mapped heatmap PNG (input size) to OUT.png, and -O blends it over the
# input image. -l picks the layer (default: the model's cam_layer). On a
# non-2xx answer it prints the server's error message to stderr and exits 1;
# 2 for usage errors or an unreachable server.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init cam.sh "cam.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-l LAYER] [-k top] [-o OUT.png] [-O] MODEL IMAGE" \
"Eigen-CAM heatmap of IMAGE (.png, .jpg, .jpeg) for MODEL. Without -o prints
the JSON answer (the map, its peak in input pixels, with -k the predictions).
  -l LAYER        the layer explained (default: the model's cam_layer)
  -k TOP          also return the top predictions
  -o OUT.png      write the colour-mapped heatmap (input size) as a PNG
  -O              with -o: the heatmap blended over the input image"

outfile=
overlay=
layer=
top=
while getopts "${COMMON_OPTS}l:k:o:O" opt; do
    common_opt "$opt" "${OPTARG-}" && continue
    case $opt in
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
path="/v1/models/$model/cam"
[ -n "$q" ] && path="$path?${q#&}"

call POST "$path" "$ctype" "$image"
finish "$outfile"
