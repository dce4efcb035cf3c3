/* resample.c — windowed-sinc sample-rate conversion (see resample.h): builds
 * the Kaiser-sinc kernel table for one call and evaluates it at every output
 * time. Must not read outside the input, overflow a size, or abort; it keeps
 * no state between calls (safe from any thread). */
#include "resample.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ZEROS 64          /* zero crossings each side */
#define OVERSAMPLE 512    /* table points per zero crossing */
#define CUTOFF 0.94       /* of the lower rate's Nyquist frequency */
#define BETA 8.6          /* Kaiser window: about -90 dB sidelobes */
#define RATE_MAX 768000

/* Modified Bessel function of the first kind, order 0 (power series). */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 64 && term > sum * 1e-17; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

/* table[i] = sinc(u) * kaiser(u / ZEROS) at u = i / OVERSAMPLE, u in
 * zero-crossing units; one extra zero point for interpolation. */
static float *kernel_table(void)
{
    size_t n = (size_t)ZEROS * OVERSAMPLE + 2;
    float *t = malloc(n * sizeof *t);
    if (!t)
        return NULL;
    double norm = bessel_i0(BETA);
    for (size_t i = 0; i < n; i++) {
        double u = (double)i / OVERSAMPLE, r = u / ZEROS;
        if (r >= 1.0) {
            t[i] = 0.0f;
            continue;
        }
        double sinc = i ? sin(M_PI * u) / (M_PI * u) : 1.0;
        t[i] = (float)(sinc * bessel_i0(BETA * sqrt(1.0 - r * r)) / norm);
    }
    return t;
}

size_t cd_resample_len(size_t n, int rate_in, int rate_out)
{
    if (rate_in <= 0 || rate_out <= 0)
        return 0;
    return (size_t)(((uint64_t)n * (uint64_t)rate_out + (uint64_t)rate_in - 1) /
                    (uint64_t)rate_in);
}

int cd_resample(const float *in, size_t n, int rate_in, int rate_out,
                float **out, size_t *n_out, struct cd_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (rate_in < 1 || rate_in > RATE_MAX || rate_out < 1 || rate_out > RATE_MAX)
        return cd_err_set(err, CD_EINVAL, "resample: rates %d -> %d Hz "
                          "(expected 1..%d)", rate_in, rate_out, RATE_MAX);
    if (n && !in)
        return cd_err_set(err, CD_EINVAL, "resample: no input");
    if (n > ((size_t)1 << 34))
        return cd_err_set(err, CD_ENOMEM, "resample: %zu samples is too "
                          "many", n);
    size_t m = cd_resample_len(n, rate_in, rate_out);
    if (m > ((size_t)1 << 36) / sizeof(float))
        return cd_err_set(err, CD_ENOMEM, "resample: %zu output samples is "
                          "too many", m);
    float *o = malloc((m ? m : 1) * sizeof *o);
    float *tab = rate_in == rate_out ? NULL : kernel_table();
    if (!o || (rate_in != rate_out && !tab)) {
        free(o);
        free(tab);
        return cd_err_set(err, CD_ENOMEM, "resample: out of memory");
    }
    if (rate_in == rate_out) {
        if (n)
            memcpy(o, in, n * sizeof *o);
        *out = o;
        *n_out = n;
        return CD_OK;
    }
    /* fc: cutoff in cycles per input sample x 2 (1 = input Nyquist) */
    double fc = CUTOFF * (rate_out < rate_in ? (double)rate_out / rate_in : 1.0);
    double half = ZEROS / fc;             /* kernel half-width, input samples */
    for (size_t j = 0; j < m; j++) {
        uint64_t num = (uint64_t)j * (uint64_t)rate_in;
        int64_t i0 = (int64_t)(num / (uint64_t)rate_out);
        double t = (double)i0 + (double)(num % (uint64_t)rate_out) / rate_out;
        int64_t lo = (int64_t)ceil(t - half), hi = (int64_t)floor(t + half);
        if (lo < 0)
            lo = 0;
        if (hi > (int64_t)n - 1)
            hi = (int64_t)n - 1;
        double acc = 0.0;
        for (int64_t i = lo; i <= hi; i++) {
            double u = fabs(t - (double)i) * fc * OVERSAMPLE;
            size_t k = (size_t)u;
            if (k >= (size_t)ZEROS * OVERSAMPLE)
                continue;
            double w = u - (double)k;
            acc += in[i] * (tab[k] + w * (tab[k + 1] - tab[k]));
        }
        o[j] = (float)(acc * fc);
    }
    free(tab);
    *out = o;
    *n_out = m;
    return CD_OK;
}
