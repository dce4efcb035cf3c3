/* test_resample.c — sample-rate conversion (daemon/media/resample.c):
 * identity, output lengths, a known tone's frequency and amplitude kept
 * within 0.5 dB below 0.45 x the lower rate for common rate pairs (up and
 * down), tones above the lower Nyquist frequency attenuated, bad rates
 * refused. Prints the worst passband error and the weakest attenuation. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "media/resample.h"

static float *tone(size_t n, int rate, double f)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.5 * sin(2.0 * M_PI * f * (double)i / rate + 0.3));
    return x;
}

/* Least-squares amplitude of a sinusoid at f over y[lo, hi), and the RMS of
 * what the fit leaves (a shifted frequency would leave most of it). */
static double fit_tone(const float *y, size_t lo, size_t hi, int rate,
                       double f, double *resid)
{
    double cc = 0, ss = 0, cs = 0, yc = 0, ys = 0;
    for (size_t i = lo; i < hi; i++) {
        double c = cos(2.0 * M_PI * f * (double)i / rate);
        double s = sin(2.0 * M_PI * f * (double)i / rate);
        cc += c * c; ss += s * s; cs += c * s; yc += y[i] * c; ys += y[i] * s;
    }
    double det = cc * ss - cs * cs, a = (yc * ss - ys * cs) / det,
           b = (ys * cc - yc * cs) / det, r = 0;
    for (size_t i = lo; i < hi; i++) {
        double d = y[i] - a * cos(2.0 * M_PI * f * (double)i / rate) -
                   b * sin(2.0 * M_PI * f * (double)i / rate);
        r += d * d;
    }
    *resid = sqrt(r / (double)(hi - lo));
    return sqrt(a * a + b * b);
}

static double rms(const float *y, size_t lo, size_t hi)
{
    double r = 0;
    for (size_t i = lo; i < hi; i++)
        r += (double)y[i] * y[i];
    return sqrt(r / (double)(hi - lo));
}

START_TEST(identity_and_lengths)
{
    float x[5] = { 1, 2, 3, 4, 5 }, *y;
    size_t n;
    struct cd_err err = {0};
    ck_assert_int_eq(cd_resample(x, 5, 16000, 16000, &y, &n, &err), CD_OK);
    ck_assert_uint_eq(n, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(y[i], x[i]);
    free(y);
    ck_assert_int_eq(cd_resample(NULL, 0, 44100, 16000, &y, &n, &err), CD_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(y);
    free(y);
    ck_assert_uint_eq(cd_resample_len(44100, 44100, 16000), 16000);
    ck_assert_uint_eq(cd_resample_len(44101, 44100, 16000), 16001);
    ck_assert_uint_eq(cd_resample_len(8000, 8000, 16000), 16000);
    ck_assert_uint_eq(cd_resample_len(1, 48000, 16000), 1);
    ck_assert_uint_eq(cd_resample_len(7, 3, 2), 5);
    float *big = tone(2205, 22050, 440);
    ck_assert_int_eq(cd_resample(big, 2205, 22050, 16000, &y, &n, &err), CD_OK);
    ck_assert_uint_eq(n, 1600);
    free(y);
    free(big);
    ck_assert_int_eq(cd_resample(x, 5, 0, 16000, &y, &n, &err), CD_EINVAL);
    ck_assert_ptr_null(y);
    ck_assert_int_eq(cd_resample(x, 5, 16000, 800000, &y, &n, &err), CD_EINVAL);
    ck_assert_int_eq(cd_resample(NULL, 5, 8000, 16000, &y, &n, &err), CD_EINVAL);
}
END_TEST

START_TEST(passband_and_stopband)
{
    static const int pairs[][2] = { {44100, 16000}, {48000, 16000},
                                    {22050, 16000}, {8000, 16000},
                                    {16000, 44100}, {11025, 16000},
                                    {96000, 16000}, {16000, 8000} };
    static const double fracs[] = { 0.01, 0.1, 0.25, 0.4, 0.45 };
    double worst_db = 0, worst_resid = 0, weakest_atten = -1e9;
    struct cd_err err = {0};
    for (size_t p = 0; p < sizeof pairs / sizeof *pairs; p++) {
        int ri = pairs[p][0], ro = pairs[p][1], lo_rate = ri < ro ? ri : ro;
        size_t n = (size_t)ri / 5;                   /* 0.2 s */
        for (size_t k = 0; k < sizeof fracs / sizeof *fracs; k++) {
            double f = fracs[k] * lo_rate;
            float *x = tone(n, ri, f), *y;
            size_t m;
            ck_assert_int_eq(cd_resample(x, n, ri, ro, &y, &m, &err), CD_OK);
            double resid, amp = fit_tone(y, m / 5, m - m / 5, ro, f, &resid);
            /* the phase of a tone(…, f) at output time i/ro: fit both */
            double db = 20.0 * log10(amp / 0.5);
            ck_assert_msg(fabs(db) < 0.5, "%d->%d f=%.0f: %.3f dB", ri, ro, f,
                          db);
            ck_assert_msg(resid < 0.005, "%d->%d f=%.0f: residual %.4f", ri,
                          ro, f, resid);
            if (fabs(db) > fabs(worst_db))
                worst_db = db;
            if (resid > worst_resid)
                worst_resid = resid;
            free(x);
            free(y);
        }
        if (ro >= ri)
            continue;
        /* tones above the output Nyquist frequency must vanish */
        for (double f = 0.5 * ro + 1.0; f < 0.5 * ri; f += 0.11 * ro) {
            float *x = tone(n, ri, f), *y;
            size_t m;
            ck_assert_int_eq(cd_resample(x, n, ri, ro, &y, &m, &err), CD_OK);
            double att = 20.0 * log10(rms(y, m / 5, m - m / 5) / rms(x, 0, n));
            ck_assert_msg(att < -60.0, "%d->%d f=%.0f: only %.1f dB", ri, ro,
                          f, att);
            if (att > weakest_atten)
                weakest_atten = att;
            free(x);
            free(y);
        }
    }
    printf("resample: passband worst %.4f dB (residual %.2e), stopband "
           "weakest %.1f dB\n", worst_db, worst_resid, weakest_atten);
}
END_TEST

static Suite *resample_suite(void)
{
    Suite *s = suite_create("resample");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, identity_and_lengths);
    tcase_add_test(tc, passband_and_stopband);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(resample_suite)
