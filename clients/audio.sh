#!/bin/sh
# audio.sh — classify one WAV clip with a running convd (audio models):
#   audio.sh [-H host:port] [-k top] MODEL CLIP.wav
# POSTs the WAV (PCM 8/16/24/32-bit or float, any rate and channel count; the
# server mixes down, resamples and computes the model's features) to
# /v1/models/MODEL/classify as audio/wav and prints the JSON answer. On a
# non-2xx answer it prints the server's error message to stderr and exits 1;
# 2 for usage errors or an unreachable server.
# Environment: CONVD_HOST (default 127.0.0.1:8080), CONVD_TIMEOUT (s, 60).
set -u
# shellcheck source-path=SCRIPTDIR source=convd-client-lib.sh
. "$(dirname "$0")/convd-client-lib.sh"
client_init audio.sh "audio.sh [-H host:port] [-k top] MODEL CLIP.wav"

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
clip=$2

check_top "$top"
check_model "$model"
case $(lower "$clip") in
*.wav | *.wave) ;;
*) die "$clip: expected a .wav file" ;;
esac
check_input "$clip"

url="http://$host/v1/models/$model/classify"
[ -n "$top" ] && url="$url?top=$top"

post "$url" audio/wav "$clip"
finish ""
