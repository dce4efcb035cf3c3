/* resample.h — band-limited sample-rate conversion of a mono float signal.
 *
 * A Kaiser-windowed sinc low-pass (beta 8.6, 64 zero crossings each side of
 * the lower rate's sinc) with its cutoff at 0.94 x the lower rate's Nyquist
 * frequency, evaluated directly at each output time from an oversampled
 * kernel table (linear interpolation between 512 points per zero crossing),
 * so any pair of rates works. Output sample j sits at input time
 * j * rate_in / rate_out; samples outside the input are zero. Passband
 * (below 0.45 x the lower rate) flat within 0.05 dB; the stopband (above
 * the lower Nyquist) is down by more than 70 dB. Equal rates copy. */
#ifndef CD_MEDIA_RESAMPLE_H
#define CD_MEDIA_RESAMPLE_H

#include <stddef.h>

#include "engine/err.h"

/* Output length for n input samples: ceil(n * rate_out / rate_in). */
size_t cd_resample_len(size_t n, int rate_in, int rate_out);

/* Resamples in (n samples at rate_in, borrowed) to rate_out. *out is owned
 * (free()) and holds *n_out = cd_resample_len(n, ...) samples; it is never
 * NULL on success, even for n 0. Rates must be 1 .. 768000 (CD_EINVAL). */
int cd_resample(const float *in, size_t n, int rate_in, int rate_out,
                float **out, size_t *n_out, struct cd_err *err);

#endif
