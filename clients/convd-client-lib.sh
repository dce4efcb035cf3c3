# shellcheck shell=sh
# convd-client-lib.sh — shared helpers for the convd client scripts
# (classify.sh, audio.sh, segment.sh, cam.sh); sourced, never run directly.
# Checks arguments, POSTs one file with curl and prints the answer or the
# server's error message. Callers run client_init first. Exit codes: 0 on a 2xx answer, 1 on another HTTP answer, 2 for usage
# errors, missing files or curl, or an unreachable server.
# Environment: CONVD_HOST (default 127.0.0.1:8080), CONVD_TIMEOUT (s, 60).

host=${CONVD_HOST:-127.0.0.1:8080}
prog=
usage_line=

# client_init PROG USAGE: the script name for messages and its usage line.
client_init() {
    prog=$1
    usage_line=$2
}

usage() {
    echo "usage: $usage_line" >&2
    exit 2
}

# die MESSAGE: "$prog: MESSAGE" to stderr, exit 2.
die() {
    echo "$prog: $1" >&2
    exit 2
}

# check_top TOP: empty or digits only.
check_top() {
    case $1 in
    '') ;;
    *[!0-9]*) die "-k wants a positive integer, got '$1'" ;;
    esac
}

# check_model MODEL: a non-empty name of [A-Za-z0-9._-].
check_model() {
    case $1 in
    '' | *[!A-Za-z0-9._-]*) die "bad model name '$1'" ;;
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

# check_input FILE: FILE is a readable regular file and curl is available.
check_input() {
    if [ ! -f "$1" ] || [ ! -r "$1" ]; then
        die "$1: no such readable file"
    fi
    command -v curl >/dev/null 2>&1 || die "curl not found"
}

# post URL CTYPE FILE: POSTs FILE; sets $out (answer body, removed on exit)
# and $code (HTTP status).
post() {
    out=$(mktemp) || exit 2
    trap 'rm -f "$out"' EXIT
    code=$(curl -sS -o "$out" -w '%{http_code}' -m "${CONVD_TIMEOUT:-60}" \
        -H "Content-Type: $2" --data-binary "@$3" "$1") || die "request to $host failed"
}

# finish OUTFILE: on a 2xx answer prints it (adding the newline the
# server's JSON lacks) or copies it to OUTFILE (if not empty) and exits 0; otherwise prints
# the server's error message and exits 1.
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
