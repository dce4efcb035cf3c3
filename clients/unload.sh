#!/bin/sh
# unload.sh — stop serving one model on a running convd:
#   unload.sh [-u URL | -H host[:port] | -p port] [-a KEY] MODEL
# POSTs /v2/repository/models/MODEL/unload: new requests for MODEL get 404
# at once, requests already queued finish, and SIGHUP reloads skip it until
# load.sh loads it again. An admin endpoint: it needs an API key (403 when
# the server has none configured). Exits 1 with the server's message on an
# HTTP error, 2 for usage errors or an unreachable server.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init unload.sh "unload.sh [-u URL | -H host[:port] | -p port] [-a KEY] MODEL" \
"Stops serving MODEL: new requests get 404, queued ones finish; reloads skip
it until it is loaded again. Admin endpoint: needs an API key."

while getopts "${COMMON_OPTS}" opt; do
    common_opt "$opt" "${OPTARG-}" && continue
    usage
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
check_model "$1"

call POST "/v2/repository/models/$1/unload"
finish ""
