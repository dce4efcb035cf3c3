#!/bin/sh
# models.sh — the models a convd serves:
#   models.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-i [-r]] [MODEL]
# Without MODEL GETs /v1/models (every model with its state, input and
# batching); with MODEL GETs /v2/models/MODEL (KServe metadata: inputs and
# outputs). -i lists the model repository instead (POST /v2/repository/index:
# every folder with its version, READY or UNAVAILABLE and why; an admin
# endpoint, so it needs an API key), -r only the ready ones. Exits 1 with the
# server's message on an HTTP error, 2 for usage errors or an unreachable
# server.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init models.sh "models.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-i [-r]] [MODEL]" \
"Lists the served models (/v1/models), or MODEL's KServe metadata.
  -i              the model repository index instead (admin: needs a key):
                  every model folder with version, state and reason
  -r              with -i: only the models that are ready"

index=
ready=
while getopts "${COMMON_OPTS}ir" opt; do
    common_opt "$opt" "${OPTARG-}" && continue
    case $opt in
    i) index=1 ;;
    r) ready=1 ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
[ -z "$ready" ] || [ -n "$index" ] || die "-r goes with -i"

if [ -n "$index" ]; then
    [ $# -eq 0 ] || die "-i lists every model: no MODEL"
    if [ -n "$ready" ]; then
        body=$(mktemp) || exit 2
        trap 'rm -f "$body"' EXIT
        printf '{"ready": true}' > "$body"
        call POST /v2/repository/index application/json "$body"
        rm -f "$body"
    else
        call POST /v2/repository/index
    fi
elif [ $# -eq 1 ]; then
    check_model "$1"
    call GET "/v2/models/$1"
else
    call GET /v1/models
fi
finish ""
