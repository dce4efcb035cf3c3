#!/bin/sh
# segment.sh — segment one image with a running convd:
#   segment.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-o OUT.png] [-O] MODEL IMAGE
# POSTs IMAGE (.png, .jpg or .jpeg) to /v1/models/MODEL/segment with curl.
# Without -o it prints the JSON answer (classes and the run-length encoded
# mask); with -o it writes the class-colour PNG to OUT.png, and -O makes it
# the input image blended with the class colours instead. On a non-2xx answer
# it prints the server's error message to stderr and exits 1; 2 for usage
# errors or an unreachable server.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init segment.sh "segment.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-o OUT.png] [-O] MODEL IMAGE" \
"Segments IMAGE (.png, .jpg, .jpeg) with MODEL. Without -o prints the JSON
answer (classes and the run-length encoded mask).
  -o OUT.png      write the class-colour mask as a PNG instead
  -O              with -o: the input image blended with the class colours"

outfile=
overlay=
while getopts "${COMMON_OPTS}o:O" opt; do
    common_opt "$opt" "${OPTARG-}" && continue
    case $opt in
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
check_model "$model"
ctype=$(image_type "$image") || exit 2
check_input "$image"

path="/v1/models/$model/segment"
if [ -n "$overlay" ]; then
    path="$path?overlay=1"
elif [ -n "$outfile" ]; then
    path="$path?format=png"
fi

call POST "$path" "$ctype" "$image"
finish "$outfile"
