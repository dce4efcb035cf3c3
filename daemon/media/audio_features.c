/* audio_features.c — the keyword models' audio front-end (audio_features.h):
 * clip fitting, framing, periodic-Hann STFT (own FFT / DFT), HTK mel
 * filterbank and log, matching tools/data/audio_features.py. Tables are
 * built at init and never written afterwards; run allocates its own scratch.
 * Must not abort, trust a size before checking it, or touch a device. */
#include "audio_features.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/resample.h"

#define CLIP_MAX ((size_t)1 << 26)     /* samples */
#define OUT_MAX ((size_t)1 << 28)      /* feature elements */

struct cd_audio_frontend {
    struct cd_preprocess p;
    int n_fft, hop, n_bins, channels, frames, pad;
    size_t clip;                       /* L */
    bool pow2;
    double *win;                       /* n_fft, zero-padded Hann */
    double *cos_t, *sin_t;             /* cos/sin(2 pi j / n_fft), j < n_fft */
    int *bitrev;                       /* n_fft (pow2 only) */
    float *fb;                         /* (n_mels, n_bins) filterbank */
    int *fb_lo, *fb_hi;                /* per mel: non-zero bins [lo, hi) */
};

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double mel_to_hz(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

static int check(const struct cd_preprocess *p, struct cd_err *err)
{
    if (p->kind != CD_INPUT_AUDIO)
        return cd_err_set(err, CD_EINVAL, "audio front-end: preprocess kind "
                          "is not audio");
    if (p->sample_rate < 1 || p->sample_rate > 768000 || p->n_fft < 1 ||
        p->n_fft > (1 << 16) || p->hop < 1 || p->win < 1 || p->win > p->n_fft)
        return cd_err_set(err, CD_EINVAL, "audio front-end: need sample_rate "
                          "1..768000, n_fft 1..65536, hop >= 1, 1 <= win <= "
                          "n_fft");
    if ((unsigned)p->features >= CD_AUDIO_FEAT_COUNT ||
        (unsigned)p->fit >= CD_AUDIO_FIT_COUNT)
        return cd_err_set(err, CD_EINVAL, "audio front-end: unknown features "
                          "or fit");
    if (p->features == CD_AUDIO_LOGMEL &&
        (p->n_mels < 1 || p->n_mels > 4096 || !(p->log_offset > 0.0f) ||
         !(p->fmin >= 0.0f && p->fmin < p->fmax &&
           p->fmax <= p->sample_rate / 2.0f)))
        return cd_err_set(err, CD_EINVAL, "audio front-end: logmel needs "
                          "n_mels 1..4096, log_offset > 0, 0 <= fmin < fmax "
                          "<= sample_rate / 2");
    double len = (double)p->seconds * p->sample_rate;
    if (!(len >= 1.0 && len <= (double)CLIP_MAX))
        return cd_err_set(err, CD_EINVAL, "audio front-end: seconds x "
                          "sample_rate must be 1 .. 2^26 samples");
    return CD_OK;
}

static int build_mel(struct cd_audio_frontend *fe, struct cd_err *err)
{
    const struct cd_preprocess *p = &fe->p;
    int m_n = p->n_mels, f_n = fe->n_bins;
    fe->fb = calloc((size_t)m_n * (size_t)f_n, sizeof *fe->fb);
    fe->fb_lo = calloc((size_t)m_n, sizeof *fe->fb_lo);
    fe->fb_hi = calloc((size_t)m_n, sizeof *fe->fb_hi);
    if (!fe->fb || !fe->fb_lo || !fe->fb_hi)
        return cd_err_set(err, CD_ENOMEM, "audio front-end: out of memory");
    double m_lo = hz_to_mel(p->fmin), m_hi = hz_to_mel(p->fmax);
    for (int m = 0; m < m_n; m++) {
        double lo = mel_to_hz(m_lo + (m_hi - m_lo) * m / (m_n + 1));
        double ce = mel_to_hz(m_lo + (m_hi - m_lo) * (m + 1) / (m_n + 1));
        double hi = mel_to_hz(m_lo + (m_hi - m_lo) * (m + 2) / (m_n + 1));
        fe->fb_lo[m] = f_n;
        for (int k = 0; k < f_n; k++) {
            double f = (double)k * p->sample_rate / fe->n_fft;
            double up = (f - lo) / (ce - lo), down = (hi - f) / (hi - ce);
            double v = up < down ? up : down;
            float w = v > 0.0 ? (float)v : 0.0f;
            fe->fb[(size_t)m * f_n + k] = w;
            if (w != 0.0f) {
                if (fe->fb_lo[m] == f_n)
                    fe->fb_lo[m] = k;
                fe->fb_hi[m] = k + 1;
            }
        }
    }
    return CD_OK;
}

int cd_audio_frontend_init(struct cd_audio_frontend **out,
                           const struct cd_preprocess *p, struct cd_err *err)
{
    *out = NULL;
    int rc = check(p, err);
    if (rc)
        return rc;
    struct cd_audio_frontend *fe = calloc(1, sizeof *fe);
    if (!fe)
        return cd_err_set(err, CD_ENOMEM, "audio front-end: out of memory");
    fe->p = *p;
    int n = fe->n_fft = p->n_fft;
    fe->hop = p->hop;
    fe->n_bins = n / 2 + 1;
    fe->pad = p->center ? n / 2 : 0;
    fe->clip = (size_t)lround((double)p->seconds * p->sample_rate);
    if ((p->center && fe->clip <= (size_t)fe->pad) ||
        fe->clip + 2 * (size_t)fe->pad < (size_t)n) {
        rc = cd_err_set(err, CD_EINVAL, "audio front-end: a %zu-sample clip "
                        "is too short for n_fft %d", fe->clip, n);
        goto fail;
    }
    fe->frames = (int)(1 + (fe->clip + 2 * (size_t)fe->pad - (size_t)n) /
                           (size_t)fe->hop);
    fe->channels = p->features == CD_AUDIO_LOGMEL ? p->n_mels : 2 * fe->n_bins;
    if ((size_t)fe->channels * (size_t)fe->frames > OUT_MAX) {
        rc = cd_err_set(err, CD_EINVAL, "audio front-end: %d x %d features "
                        "is too many", fe->channels, fe->frames);
        goto fail;
    }
    fe->pow2 = (n & (n - 1)) == 0;
    fe->win = calloc((size_t)n, sizeof *fe->win);
    fe->cos_t = malloc((size_t)n * sizeof *fe->cos_t);
    fe->sin_t = malloc((size_t)n * sizeof *fe->sin_t);
    fe->bitrev = fe->pow2 ? malloc((size_t)n * sizeof *fe->bitrev) : NULL;
    if (!fe->win || !fe->cos_t || !fe->sin_t || (fe->pow2 && !fe->bitrev)) {
        rc = cd_err_set(err, CD_ENOMEM, "audio front-end: out of memory");
        goto fail;
    }
    int left = (n - p->win) / 2;
    for (int i = 0; i < p->win; i++)
        fe->win[left + i] = (double)(float)(0.5 - 0.5 * cos(2.0 * M_PI * i /
                                                             p->win));
    for (int j = 0; j < n; j++) {
        fe->cos_t[j] = cos(2.0 * M_PI * j / n);
        fe->sin_t[j] = sin(2.0 * M_PI * j / n);
    }
    if (fe->pow2) {
        int bits = 0;
        while ((1 << bits) < n)
            bits++;
        for (int j = 0; j < n; j++) {
            int r = 0;
            for (int b = 0; b < bits; b++)
                r |= ((j >> b) & 1) << (bits - 1 - b);
            fe->bitrev[j] = r;
        }
    }
    if (p->features == CD_AUDIO_LOGMEL && (rc = build_mel(fe, err)))
        goto fail;
    *out = fe;
    return CD_OK;
fail:
    cd_audio_frontend_free(fe);
    return rc;
}

void cd_audio_frontend_free(struct cd_audio_frontend *fe)
{
    if (!fe)
        return;
    free(fe->win);
    free(fe->cos_t);
    free(fe->sin_t);
    free(fe->bitrev);
    free(fe->fb);
    free(fe->fb_lo);
    free(fe->fb_hi);
    free(fe);
}

void cd_audio_frontend_dims(const struct cd_audio_frontend *fe, int *channels,
                            int *frames, size_t *clip_samples)
{
    if (channels)
        *channels = fe->channels;
    if (frames)
        *frames = fe->frames;
    if (clip_samples)
        *clip_samples = fe->clip;
}

/* In-place forward DFT of (re, im), n_fft points: X[k] = sum x[i] e^{-2 pi i
 * k i / n}. Radix-2 for powers of two; else a direct DFT of the first
 * n_bins outputs (tmp_re/tmp_im hold the result, then copied back). */
static void dft(const struct cd_audio_frontend *fe, double *re, double *im,
                double *tmp_re, double *tmp_im)
{
    int n = fe->n_fft;
    if (fe->pow2) {
        for (int j = 0; j < n; j++)
            if (fe->bitrev[j] > j) {
                int r = fe->bitrev[j];
                double t = re[j]; re[j] = re[r]; re[r] = t;
                t = im[j]; im[j] = im[r]; im[r] = t;
            }
        for (int s = 2; s <= n; s *= 2) {
            int half = s / 2, step = n / s;
            for (int b = 0; b < n; b += s)
                for (int j = 0; j < half; j++) {
                    double wr = fe->cos_t[j * step], wi = -fe->sin_t[j * step];
                    double xr = re[b + j + half], xi = im[b + j + half];
                    double tr = wr * xr - wi * xi, ti = wr * xi + wi * xr;
                    re[b + j + half] = re[b + j] - tr;
                    im[b + j + half] = im[b + j] - ti;
                    re[b + j] += tr;
                    im[b + j] += ti;
                }
        }
        return;
    }
    for (int k = 0; k < fe->n_bins; k++) {
        double ar = 0.0, ai = 0.0;
        int idx = 0;
        for (int i = 0; i < n; i++) {
            ar += re[i] * fe->cos_t[idx];   /* input is real: im[] is zero */
            ai -= re[i] * fe->sin_t[idx];
            idx += k;
            if (idx >= n)
                idx -= n;
        }
        tmp_re[k] = ar;
        tmp_im[k] = ai;
    }
    memcpy(re, tmp_re, (size_t)fe->n_bins * sizeof *re);
    memcpy(im, tmp_im, (size_t)fe->n_bins * sizeof *im);
}

/* The fitted, reflect-padded clip: clip + 2 pad samples. */
static void fit_clip(const struct cd_audio_frontend *fe, const float *wave,
                     size_t n, float *sig)
{
    size_t L = fe->clip, pad = (size_t)fe->pad;
    float *c = sig + pad;
    memset(sig, 0, (L + 2 * pad) * sizeof *sig);
    if (n >= L) {
        size_t s = fe->p.fit == CD_AUDIO_FIT_CENTER ? (n - L) / 2 : 0;
        memcpy(c, wave + s, L * sizeof *c);
    } else if (n) {
        size_t off = fe->p.fit == CD_AUDIO_FIT_CENTER ? (L - n) / 2 : 0;
        memcpy(c + off, wave, n * sizeof *c);
    }
    for (size_t i = 0; i < pad; i++) {     /* torch "reflect": no edge repeat */
        sig[pad - 1 - i] = c[1 + i];
        c[L + i] = c[L - 2 - i];
    }
}

int cd_audio_frontend_run(const struct cd_audio_frontend *fe,
                          const float *wave, size_t n, float *out,
                          size_t out_numel, struct cd_err *err)
{
    size_t want = (size_t)fe->channels * (size_t)fe->frames;
    if (out_numel != want)
        return cd_err_set(err, CD_EINVAL, "audio front-end: output holds %zu "
                          "values, the features are %d x %d", out_numel,
                          fe->channels, fe->frames);
    if (n && !wave)
        return cd_err_set(err, CD_EINVAL, "audio front-end: no waveform");
    int nf = fe->n_fft, F = fe->n_bins, T = fe->frames;
    float *sig = malloc((fe->clip + 2 * (size_t)fe->pad) * sizeof *sig);
    double *buf = malloc((size_t)nf * 4 * sizeof *buf);
    if (!sig || !buf) {
        free(sig);
        free(buf);
        return cd_err_set(err, CD_ENOMEM, "audio front-end: out of memory");
    }
    double *re = buf, *im = buf + nf, *t_re = buf + 2 * nf, *t_im = buf + 3 * nf;
    fit_clip(fe, wave, n, sig);
    for (int t = 0; t < T; t++) {
        const float *fr = sig + (size_t)t * (size_t)fe->hop;
        for (int i = 0; i < nf; i++) {
            re[i] = fe->win[i] * fr[i];
            im[i] = 0.0;
        }
        dft(fe, re, im, t_re, t_im);
        if (fe->p.features == CD_AUDIO_STFT) {
            for (int k = 0; k < F; k++) {
                out[(size_t)k * T + t] = (float)re[k];
                out[(size_t)(F + k) * T + t] = (float)im[k];
            }
            continue;
        }
        for (int k = 0; k < F; k++)        /* power, reusing t_re */
            t_re[k] = re[k] * re[k] + im[k] * im[k];
        for (int m = 0; m < fe->p.n_mels; m++) {
            const float *w = fe->fb + (size_t)m * F;
            double acc = 0.0;
            for (int k = fe->fb_lo[m]; k < fe->fb_hi[m]; k++)
                acc += w[k] * t_re[k];
            out[(size_t)m * T + t] = (float)log(acc + fe->p.log_offset);
        }
    }
    free(sig);
    free(buf);
    return CD_OK;
}

int cd_audio_frontend_run_audio(const struct cd_audio_frontend *fe,
                                const struct cd_audio *a, float *out,
                                size_t out_numel, struct cd_err *err)
{
    if (a->sample_rate == fe->p.sample_rate)
        return cd_audio_frontend_run(fe, a->samples, a->n_frames, out,
                                     out_numel, err);
    float *r = NULL;
    size_t nr = 0;
    int rc = cd_resample(a->samples, a->n_frames, a->sample_rate,
                         fe->p.sample_rate, &r, &nr, err);
    if (!rc)
        rc = cd_audio_frontend_run(fe, r, nr, out, out_numel, err);
    free(r);
    return rc;
}

int cd_audio_features(const float *wave, size_t n,
                      const struct cd_preprocess *p, float *out,
                      size_t out_numel, struct cd_err *err)
{
    struct cd_audio_frontend *fe = NULL;
    int rc = cd_audio_frontend_init(&fe, p, err);
    if (!rc)
        rc = cd_audio_frontend_run(fe, wave, n, out, out_numel, err);
    cd_audio_frontend_free(fe);
    return rc;
}
