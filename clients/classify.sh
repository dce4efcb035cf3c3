#!/bin/sh
# classify.sh — classify one image with a running convd:
#   classify.sh [-H host:port] [-k top] MODEL IMAGE
# POSTs IMAGE (.png, .jpg or .jpeg) to /v1/models/MODEL/classify with curl and
# prints the JSON answer. On a non-2xx answer it prints the server's error
# message to stderr and exits 1; 2 for usage errors or an unreachable server.
# Environment: CONVD_HOST (default 127.0.0.1:8080), CONVD_TIMEOUT (s, 60).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init classify.sh "classify.sh [-H host:port] [-k top] MODEL IMAGE"

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

check_top "$top"
check_model "$model"
ctype=$(image_type "$image") || exit 2
check_input "$image"

url="http://$host/v1/models/$model/classify"
[ -n "$top" ] && url="$url?top=$top"

post "$url" "$ctype" "$image"
finish ""
