#!/bin/sh
# audio.sh — classify one WAV clip with a running convd (audio models):
#   audio.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-k top] MODEL CLIP.wav
# POSTs the WAV (PCM 8/16/24/32-bit or float, any rate and channel count; the
# server mixes down, resamples and computes the model's features) to
# /v1/models/MODEL/classify as audio/wav and prints the JSON answer. On a
# non-2xx answer it prints the server's error message to stderr and exits 1;
# 2 for usage errors or an unreachable server.
# Environment: CONVD_URL, CONVD_API_KEY, CONVD_HOST, CONVD_TIMEOUT (-h).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init audio.sh "audio.sh [-u URL | -H host[:port] | -p port] [-a KEY] [-k top] MODEL CLIP.wav" \
"Classifies a WAV clip (PCM 8/16/24/32-bit or float, any rate and channels;
the server mixes down, resamples and computes MODEL's features) and prints
the JSON answer.
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
clip=$2

check_top "$top"
check_model "$model"
case $(lower "$clip") in
*.wav | *.wave) ;;
*) die "$clip: expected a .wav file" ;;
esac
check_input "$clip"

path="/v1/models/$model/classify"
[ -n "$top" ] && path="$path?top=$top"

call POST "$path" audio/wav "$clip"
finish ""
