#!/bin/sh
# metrics.sh — a convd's Prometheus metrics:
#   metrics.sh [-u URL | -H host[:port] | -p port] [-a KEY] [PREFIX]
# GETs /metrics and prints the text exposition, or only the samples (and
# their # HELP / # TYPE lines) whose metric name starts with PREFIX. Exits 1
# with the server's message on an HTTP error (401 without a key when keys
# are configured), 2 for usage errors or an unreachable server.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init metrics.sh "metrics.sh [-u URL | -H host[:port] | -p port] [-a KEY] [PREFIX]" \
"Prints the server's Prometheus metrics; with PREFIX only the metrics whose
name starts with it (e.g. convd_requests_total, convd_queue)."

while getopts "${COMMON_OPTS}" opt; do
    common_opt "$opt" "${OPTARG-}" && continue
    usage
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
prefix=${1-}
case $prefix in
*[!A-Za-z0-9_:]*) die "a metric name prefix holds only A-Z a-z 0-9 _ :" ;;
esac

call GET /metrics
case $code in
2??)
    if [ -n "$prefix" ]; then
        # A sample line starts with the name; comments carry it third.
        if ! awk -v p="$prefix" 'index($0, p) == 1 ||
            (($1 == "#") && index($3, p) == 1)' "$out" > "$out.f" ||
            ! mv "$out.f" "$out"; then
            die "cannot filter the metrics"
        fi
        [ -s "$out" ] || { echo "$prog: no metric starts with $prefix" >&2; exit 1; }
    fi
    ;;
esac
finish ""
