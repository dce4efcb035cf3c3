/* audio_input.h — the WAV carried by an HTTP request (or a KServe waveform
 * tensor), turned into an audio model's input features: picks the bytes by
 * Content-Type (audio/wav and its aliases, sniffed octet-stream, or a
 * multipart/form-data file part), decodes within the duration limit and runs
 * the model's front-end (resampling to its rate first). Knows nothing of
 * responses: it returns the HTTP status the caller should answer. */
#ifndef CD_AUDIO_INPUT_H
#define CD_AUDIO_INPUT_H

#include "engine/err.h"

#include <stdbool.h>
#include <stddef.h>

struct cd_audio_frontend;

/* Longest clip accepted when the caller passes max_seconds <= 0; the daemon
 * passes its max_audio_seconds key (checked from the WAV header before
 * anything is allocated). */
#define CD_AUDIO_INPUT_MAX_SECONDS 30.0

/* True for audio/wav, audio/x-wav, audio/wave, audio/vnd.wave. */
bool cd_audio_input_is_wav_type(const char *content_type);

/* Finds the WAV bytes in a request body: audio/wav (and aliases) or
 * application/octet-stream or no Content-Type: the whole body;
 * multipart/form-data: the part named `field` (NULL or absent: the first
 * file part). Returns 0 with *wav and *wav_len borrowed from body, or the
 * HTTP status to answer (400, 415) with a message in err. */
int cd_audio_input_find(const char *content_type, const void *body, size_t len,
                        const char *field, const void **wav, size_t *wav_len,
                        struct cd_err *err);

/* Decodes a WAV of at most max_seconds (<= 0: CD_AUDIO_INPUT_MAX_SECONDS)
 * and computes the front-end's features into out (out_numel floats = C * T).
 * Returns 0, or the HTTP status (400 for a bad or too long WAV, 500
 * internal) with a message in err. */
int cd_audio_input_tensor(const void *wav, size_t len, double max_seconds,
                          const struct cd_audio_frontend *fe, float *out,
                          size_t out_numel, struct cd_err *err);

/* Features of a mono waveform already at the model's rate (KServe). Non-
 * finite samples are refused (400). */
int cd_audio_input_wave(const float *wave, size_t n,
                        const struct cd_audio_frontend *fe, float *out,
                        size_t out_numel, struct cd_err *err);

#endif
