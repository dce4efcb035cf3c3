/* audio_features.h — the audio front-end of keyword models: a mono waveform
 * at the model's sample rate becomes the network's (C, T) input, exactly as
 * tools/data/audio_features.py computes it with torch:
 *
 *   clip:   fitted to L = round(seconds * sample_rate) samples (fit "center":
 *           centre-crop / centre zero-pad; "start": keep the start, pad end)
 *   frames: center false: frame t = samples [t*hop, t*hop + n_fft),
 *           T = 1 + (L - n_fft) / hop; center true: the clip is first
 *           reflect-padded by n_fft/2 on both sides (torch.stft default)
 *   window: periodic Hann of win samples, w[n] = 0.5 - 0.5 cos(2 pi n / win),
 *           zero-padded to n_fft with (n_fft - win) / 2 zeros on the left
 *   DFT:    unnormalised, one-sided, F = n_fft/2 + 1 bins (radix-2 FFT for
 *           powers of two, a direct DFT otherwise), in double precision
 *   stft:   out (2F, T): Re X[k, t] for k < F, then Im X[k, t]
 *   logmel: out (n_mels, T): log(sum_k M[m, k] |X[k, t]|^2 + log_offset),
 *           M the HTK-mel triangular filterbank (peak 1, no area
 *           normalisation) from fmin to fmax, evaluated at k * rate / n_fft
 *           and rounded to float32 like torch's.
 *
 * A front-end is built once per model (windows, twiddles, filters) and is
 * read-only afterwards: run it from any number of threads. */
#ifndef CD_MEDIA_AUDIO_FEATURES_H
#define CD_MEDIA_AUDIO_FEATURES_H

#include <stddef.h>

#include "engine/err.h"
#include "engine/model.h"
#include "media/wav.h"

struct cd_audio_frontend;

/* Validates p (kind audio) and precomputes its tables. *out is owned. */
int cd_audio_frontend_init(struct cd_audio_frontend **out,
                           const struct cd_preprocess *p, struct cd_err *err);
void cd_audio_frontend_free(struct cd_audio_frontend *fe); /* NULL ok */

/* Feature channels C, frames T and the clip length L in samples. */
void cd_audio_frontend_dims(const struct cd_audio_frontend *fe, int *channels,
                            int *frames, size_t *clip_samples);

/* wave: n mono samples at the model's rate (borrowed; any n, fitted to the
 * clip length). out: out_numel floats, must be C * T, (C, T) row-major. */
int cd_audio_frontend_run(const struct cd_audio_frontend *fe,
                          const float *wave, size_t n, float *out,
                          size_t out_numel, struct cd_err *err);

/* A decoded clip at any rate: resampled to the model's rate (media/
 * resample.h) when needed, then run as above. */
int cd_audio_frontend_run_audio(const struct cd_audio_frontend *fe,
                                const struct cd_audio *a, float *out,
                                size_t out_numel, struct cd_err *err);

/* One-shot init + run + free (tests, tools). */
int cd_audio_features(const float *wave, size_t n,
                      const struct cd_preprocess *p, float *out,
                      size_t out_numel, struct cd_err *err);

#endif
