/* wav.h — RIFF/WAVE decoding into a mono float waveform.
 *
 * Accepted: "fmt " and "data" chunks in any order, unknown chunks skipped
 * (odd sizes padded to even); integer PCM 8 (unsigned), 16, 24, 32 bits,
 * IEEE float 32 and 64 bits, WAVE_FORMAT_EXTENSIBLE with a PCM or float
 * sub-format; 1..CD_WAV_MAX_CHANNELS channels, mixed down by averaging;
 * 1 Hz .. CD_WAV_MAX_RATE. Integer samples are scaled to [-1, 1) by 2^(bits-1)
 * (8-bit: (v - 128) / 128); float samples are clamped to [-1, 1].
 *
 * Refused with CD_EFORMAT and a message: a RIFF or chunk size beyond the
 * buffer (a data chunk claiming more bytes than present is "truncated",
 * never silently shortened), a missing or duplicated fmt/data chunk,
 * zero channels, 0 Hz or absurd rates, block-align mismatch, unknown format
 * codes, non-finite float samples, an empty data chunk, and a duration over
 * max_seconds (checked from the header before anything is allocated).
 * A trailing partial frame inside a correctly sized data chunk is ignored. */
#ifndef CD_MEDIA_WAV_H
#define CD_MEDIA_WAV_H

#include <stddef.h>

#include "engine/err.h"

#define CD_WAV_MAX_CHANNELS 64
#define CD_WAV_MAX_RATE 768000

struct cd_audio {
    int sample_rate;
    int channels;      /* of the source */
    size_t n_frames;
    float *samples;    /* owned: n_frames mono samples in [-1, 1] */
};

/* Decodes a whole WAV file held in buf (borrowed). max_seconds > 0 bounds
 * the duration. On success *out owns its samples (cd_audio_free); on
 * failure *out is zeroed and nothing is allocated. */
int cd_wav_decode(const void *buf, size_t len, double max_seconds,
                  struct cd_audio *out, struct cd_err *err);

/* Frees a->samples and zeroes *a; NULL ok. */
void cd_audio_free(struct cd_audio *a);

#endif
