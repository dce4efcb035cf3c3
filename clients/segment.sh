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
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init segment.sh "segment.sh [-H host:port] [-o OUT.png] [-O] MODEL IMAGE"

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

check_overlay "$overlay" "$outfile"
check_model "$model"
ctype=$(image_type "$image") || exit 2
check_input "$image"

url="http://$host/v1/models/$model/segment"
if [ -n "$overlay" ]; then
    url="$url?overlay=1"
elif [ -n "$outfile" ]; then
    url="$url?format=png"
fi

post "$url" "$ctype" "$image"
finish "$outfile"
