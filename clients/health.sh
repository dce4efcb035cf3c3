#!/bin/sh
# health.sh — is a convd up, and are its models ready?
#   health.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-l]
# GETs /readyz (or only /healthz with -l) and prints the JSON answer. Exits 0
# when ready (alive with -l); 1 with the server's message (for instance the
# models that failed to load) when not; 2 for usage errors or an unreachable
# server. Health endpoints need no API key.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init health.sh "health.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-l]" \
"Asks /readyz whether every model is loaded and the server accepts work, and
prints the answer; exits 1 with the reason when it is not ready.
  -l              liveness only (/healthz): is the process answering?"

path=/readyz
while getopts "${COMMON_OPTS}l" opt; do
    common_opt "$opt" "${OPTARG-}" && continue
    case $opt in
    l) path=/healthz ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

call GET "$path"
finish ""
