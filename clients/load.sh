#!/bin/sh
# load.sh — load (or reload) one model on a running convd:
#   load.sh [-u URL | -H host[:port] | -p port] [-a KEY] MODEL
# POSTs /v2/repository/models/MODEL/load: convd reads the folder MODEL under
# its models_dir again and swaps the new version in atomically; requests
# already queued finish on the old one. If the new version fails to load, the
# serving one stays and the server's reason is printed (exit 1). An admin
# endpoint: it needs an API key (403 when the server has none configured).
# Exits 2 for usage errors or an unreachable server.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init load.sh "load.sh [-u URL | -H host[:port] | -p port] [-a KEY] MODEL" \
"Loads or reloads MODEL (a folder under the server's models_dir) and prints
its new version; a version that fails to load leaves the serving one in place
and the reason is printed. Admin endpoint: needs an API key."

while getopts "${COMMON_OPTS}" opt; do
    common_opt "$opt" "${OPTARG-}" && continue
    usage
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
check_model "$1"

call POST "/v2/repository/models/$1/load"
finish ""
