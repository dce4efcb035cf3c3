#!/bin/sh
# classify.sh — classify one image with a running convd:
#   classify.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-k top] MODEL IMAGE
# POSTs IMAGE (.png, .jpg or .jpeg) to /v1/models/MODEL/classify with curl and
# prints the JSON answer. On a non-2xx answer it prints the server's error
# message to stderr and exits 1; 2 for usage errors or an unreachable server.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init classify.sh "classify.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-k top] MODEL IMAGE" \
"Classifies IMAGE (.png, .jpg, .jpeg) with MODEL and prints the JSON answer:
the top predictions with labels and scores.
  -k TOP          how many predictions (default: the server's, 5)"

top=
while getopts "${COMMON_OPTS}k:" opt; do
    common_opt "$opt" "${OPTARG-}" && continue
    case $opt in
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

path="/v1/models/$model/classify"
[ -n "$top" ] && path="$path?top=$top"

call POST "$path" "$ctype" "$image"
finish ""
