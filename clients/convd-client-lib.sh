# shellcheck shell=sh
# convd-client-lib.sh — shared helpers for the convd client scripts
# (classify, segment, cam, audio, health, metrics, models, load, unload);
# sourced, never run directly. Parses the options every client shares (server
# URL, host, port, API key, help), checks arguments, makes one curl call and
# prints the answer or the server's error message.
# Exit codes: 0 on a 2xx answer; 1 on another HTTP answer (the server's
# message is printed); 2 for usage errors, missing files or curl, or an
# unreachable server.
# Environment: CONVD_URL (base URL, default http://127.0.0.1:8080),
# CONVD_API_KEY, CONVD_HOST (host:port, the older form), CONVD_TIMEOUT (s, 60).

prog=
usage_line=
about=
url_flag=
host_flag=
port_flag=
key=${CONVD_API_KEY-}
base=

# client_init PROG USAGE ABOUT: the script name for messages, its usage line
# (options and operands) and a few lines saying what it does, for -h.
client_init() {
    prog=$1
    usage_line=$2
    about=$3
}

usage() {
    echo "usage: $usage_line" >&2
    echo "       $prog -h for help" >&2
    exit 2
}

help() {
    cat <<EOF
usage: $usage_line
$about

Server and credentials (every convd client):
  -u URL          server base URL, e.g. http://10.0.0.5:8080 or https://convd.lan
  -H HOST[:PORT]  server host (an IPv6 address in brackets); port 8080 if not given
  -p PORT         server port
  -a KEY          API key, sent as "Authorization: Bearer KEY" (prefer
                  CONVD_API_KEY: command-line flags show in ps)
  -h              this help
Environment: CONVD_URL (default http://127.0.0.1:8080), CONVD_API_KEY,
CONVD_HOST (host:port, the older form), CONVD_TIMEOUT (seconds, default 60).
Flags win over the environment.
Exit status: 0 on success; 1 when the server answers with an error (its
message is printed on stderr); 2 for usage errors or an unreachable server.
EOF
    exit 0
}

# die MESSAGE: "$prog: MESSAGE" to stderr, exit 2.
die() {
    echo "$prog: $1" >&2
    exit 2
}

# common_opt OPT OPTARG: handles a shared option; returns 1 for others.
common_opt() {
    case $1 in
    u) url_flag=$2 ;;
    H) host_flag=$2 ;;
    p) port_flag=$2 ;;
    a) key=$2 ;;
    h) help ;;
    *) return 1 ;;
    esac
    return 0
}

# The getopts letters of the shared options (used by the sourcing scripts).
# shellcheck disable=SC2034
COMMON_OPTS="u:H:p:a:h"

# has_port HOST: HOST ends in :PORT ("[::1]:80", "example:80").
has_port() {
    case $1 in
    \[*\]:*) return 0 ;;
    \[*) return 1 ;;
    *:*) return 0 ;;
    esac
    return 1
}

# host_url HOST PORT: http://HOST:PORT, the port from PORT, HOST or 8080.
host_url() {
    h=$1
    if [ -n "$2" ]; then
        if has_port "$h"; then h=${h%:*}; fi
        h="$h:$2"
    elif ! has_port "$h"; then
        h="$h:8080"
    fi
    echo "http://$h"
}

# resolve_base: sets $base from the flags, else the environment.
resolve_base() {
    case $port_flag in
    *[!0-9]*) die "-p wants a port number, got '$port_flag'" ;;
    esac
    if [ -n "$url_flag" ]; then
        base=$url_flag
    elif [ -n "$host_flag$port_flag" ]; then
        base=$(host_url "${host_flag:-127.0.0.1}" "$port_flag")
    elif [ -n "${CONVD_URL-}" ]; then
        base=$CONVD_URL
    elif [ -n "${CONVD_HOST-}" ]; then
        base=$(host_url "$CONVD_HOST" "")
    else
        base=http://127.0.0.1:8080
    fi
    case $base in
    http://?* | https://?*) ;;
    *) die "the server URL must start with http:// or https://, got '$base'" ;;
    esac
    case $base in
    *[[:space:]]* | *\"*) die "the server URL holds spaces or quotes" ;;
    esac
    while [ "${base%/}" != "$base" ]; do base=${base%/}; done
    case $key in
    *[!A-Za-z0-9._~+/=-]*) die "the API key holds characters no key has" ;;
    esac
}

# check_top TOP: empty or digits only.
check_top() {
    case $1 in
    '') ;;
    *[!0-9]*) die "-k wants a positive integer, got '$1'" ;;
    esac
}

# check_model MODEL: a non-empty name of [A-Za-z0-9._-] not starting with '.'.
check_model() {
    case $1 in
    '' | .* | *[!A-Za-z0-9._-]*) die "bad model name '$1'" ;;
    esac
}

# check_overlay OVERLAY OUTFILE: -O only together with -o.
check_overlay() {
    if [ -n "$1" ] && [ -z "$2" ]; then
        die "-O needs -o OUT.png"
    fi
}

# lower STRING: prints STRING in lower case.
lower() {
    printf '%s' "$1" | tr '[:upper:]' '[:lower:]'
}

# image_type IMAGE: prints the content type for a .png/.jpg/.jpeg name
# (run as ctype=$(image_type "$image") || exit 2).
image_type() {
    case $(lower "$1") in
    *.png) echo image/png ;;
    *.jpg | *.jpeg) echo image/jpeg ;;
    *) die "$1: expected a .png, .jpg or .jpeg file" ;;
    esac
}

# check_input FILE: FILE is a readable regular file.
check_input() {
    if [ ! -f "$1" ] || [ ! -r "$1" ]; then
        die "$1: no such readable file"
    fi
}

# curl_config: the Authorization header as curl configuration on stdout, so
# that the key never appears on curl's command line.
curl_config() {
    if [ -n "$key" ]; then
        printf 'header = "Authorization: Bearer %s"\n' "$key"
    fi
}

# call METHOD PATH [CTYPE FILE]: one request to $base/PATH; POST sends FILE
# (with Content-Type CTYPE) or an empty body. Sets $out (answer body, removed
# on exit) and $code (HTTP status).
call() {
    command -v curl >/dev/null 2>&1 || die "curl not found"
    resolve_base
    out=$(mktemp) || exit 2
    trap 'rm -f "$out" "$out.f"' EXIT
    url="$base$2"
    if [ "$1" = GET ]; then
        code=$(curl_config | curl -q -sS -K - -o "$out" -w '%{http_code}' \
            -m "${CONVD_TIMEOUT:-60}" "$url") || die "cannot reach $base"
    elif [ $# -ge 4 ]; then
        code=$(curl_config | curl -q -sS -K - -o "$out" -w '%{http_code}' \
            -m "${CONVD_TIMEOUT:-60}" -H "Content-Type: $3" --data-binary "@$4" \
            "$url") || die "cannot reach $base"
    else
        code=$(curl_config | curl -q -sS -K - -o "$out" -w '%{http_code}' \
            -m "${CONVD_TIMEOUT:-60}" -X POST "$url") || die "cannot reach $base"
    fi
}

# finish OUTFILE: on a 2xx answer prints it (adding a final newline if
# missing) or copies it to OUTFILE (if not empty) and exits 0; otherwise
# prints the server's error message and exits 1.
finish() {
    case $code in
    2??)
        if [ -n "$1" ]; then
            cp "$out" "$1" || die "cannot write $1"
            echo "$prog: wrote $1" >&2
        else
            cat "$out"
            [ -n "$(tail -c 1 "$out")" ] && echo
        fi
        exit 0
        ;;
    esac
    if command -v jq >/dev/null 2>&1; then
        msg=$(jq -r '.error.message // empty' "$out" 2>/dev/null)
    else
        msg=$(sed -n 's/.*"message"[[:space:]]*:[[:space:]]*"\(\([^"\\]\|\\.\)*\)".*/\1/p' "$out" | sed 's/\\"/"/g')
    fi
    [ -n "$msg" ] || msg=$(head -c 300 "$out")
    echo "$prog: HTTP $code: $msg" >&2
    exit 1
}
