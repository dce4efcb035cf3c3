/* test_audio_features.c — the audio front-end (daemon/media/audio_features.c)
 * against torch: WAVs and .npy features written by tools/make_audio_golden.py
 * (tools/data/audio_features.py) for a log-mel, a non-power-of-two centred
 * log-mel and a complex-STFT spec; clip fitting; the resampling path; bad
 * specs and output sizes; and the audio preprocess keys of model.json
 * (daemon/engine/model.c), including the input-shape check. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model.h"
#include "media/audio_features.h"
#include "media/npy.h"
#include "media/wav.h"

#define FIX "tests/fixtures/audio/"

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The SPECS table of tools/make_audio_golden.py. */
static struct cd_preprocess spec(const char *name)
{
    struct cd_preprocess p = { .kind = CD_INPUT_AUDIO, .sample_rate = 16000,
                               .seconds = 1.0f, .log_offset = 1e-6f,
                               .fmax = 8000.0f, .fit = CD_AUDIO_FIT_CENTER };
    if (!strcmp(name, "logmel512")) {
        p.n_fft = p.win = 512; p.hop = 160; p.n_mels = 40;
        p.features = CD_AUDIO_LOGMEL;
    } else if (!strcmp(name, "stft256")) {
        p.n_fft = p.win = 256; p.hop = 128; p.seconds = 0.25f;
        p.features = CD_AUDIO_STFT;
    } else {                                   /* logmel400c */
        p.n_fft = 400; p.win = 320; p.hop = 160; p.n_mels = 32;
        p.center = true; p.fmin = 20.0f; p.fmax = 7600.0f;
        p.features = CD_AUDIO_LOGMEL;
    }
    return p;
}

static void load_wav(const char *name, struct cd_audio *a)
{
    char path[128];
    snprintf(path, sizeof path, FIX "%s.wav", name);
    size_t len;
    uint8_t *b = read_file(path, &len);
    struct cd_err err = {0};
    ck_assert_msg(cd_wav_decode(b, len, 10.0, a, &err) == CD_OK, "%s: %s",
                  name, err.msg);
    free(b);
}

START_TEST(golden)
{
    static const char *const cases[][2] = {
        { "tone", "logmel512" }, { "word", "logmel512" },
        { "tone", "logmel400c" }, { "word", "logmel400c" },
        { "stereo24", "stft256" }, { "float32", "stft256" } };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        struct cd_audio a;
        load_wav(cases[c][0], &a);
        struct cd_preprocess p = spec(cases[c][1]);
        char path[128];
        snprintf(path, sizeof path, FIX "%s.%s.npy", cases[c][0], cases[c][1]);
        struct cd_shape s;
        float *want = NULL;
        struct cd_err err = {0};
        ck_assert_int_eq(cd_npy_load(path, &s, &want, &err), CD_OK);
        struct cd_audio_frontend *fe = NULL;
        ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_OK);
        int ch, fr;
        cd_audio_frontend_dims(fe, &ch, &fr, NULL);
        ck_assert_int_eq(s.ndim, 2);
        ck_assert_int_eq(s.dim[0], ch);
        ck_assert_int_eq(s.dim[1], fr);
        size_t n = (size_t)ch * fr;
        float *got = malloc(n * sizeof *got);
        ck_assert_int_eq(cd_audio_frontend_run(fe, a.samples, a.n_frames, got,
                                               n, &err), CD_OK);
        double diff = 0, peak = 0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)got[i] - want[i]);
            diff = d > diff ? d : diff;
            peak = fabs(want[i]) > peak ? fabs(want[i]) : peak;
        }
        printf("audio golden %-8s %-10s (%d, %d): max abs diff %.2e (peak "
               "%.1f)\n", cases[c][0], cases[c][1], ch, fr, diff, peak);
        /* log-mel: 1e-3 in the log domain; STFT: 1e-3 relative to the peak */
        if (p.features == CD_AUDIO_LOGMEL)
            ck_assert_msg(diff <= 1e-3, "%s %s: %g", cases[c][0], cases[c][1],
                          diff);
        else
            ck_assert_msg(diff <= 1e-5 * peak, "%s: %g of %g", cases[c][0],
                          diff, peak);
        /* one-shot API gives the same, a wrong size is refused */
        float *again = malloc(n * sizeof *again);
        ck_assert_int_eq(cd_audio_features(a.samples, a.n_frames, &p, again, n,
                                           &err), CD_OK);
        ck_assert_int_eq(memcmp(got, again, n * sizeof *got), 0);
        ck_assert_int_eq(cd_audio_frontend_run(fe, a.samples, a.n_frames, got,
                                               n - 1, &err), CD_EINVAL);
        free(again);
        free(got);
        free(want);
        cd_audio_frontend_free(fe);
        cd_audio_free(&a);
    }
}
END_TEST

/* fit: a short clip is centre-padded (or start-aligned), a long one
 * centre-cropped (or cut at the end): compare STFT frame 0. */
START_TEST(fit_and_resample)
{
    struct cd_preprocess p = spec("stft256");
    struct cd_err err = {0};
    struct cd_audio_frontend *fe = NULL;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_OK);
    int ch, fr;
    size_t L;
    cd_audio_frontend_dims(fe, &ch, &fr, &L);
    ck_assert_uint_eq(L, 4000);
    ck_assert_int_eq(fr, 30);
    size_t n = (size_t)ch * fr;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    float *w = calloc(6000, sizeof *w);
    for (int i = 0; i < 6000; i++)
        w[i] = (float)sin(i * 0.05) * (i % 7) / 7.0f;
    /* long clip, centre: the same as the middle 4000 samples */
    ck_assert_int_eq(cd_audio_frontend_run(fe, w, 6000, a, n, &err), CD_OK);
    ck_assert_int_eq(cd_audio_frontend_run(fe, w + 1000, 4000, b, n, &err),
                     CD_OK);
    ck_assert_int_eq(memcmp(a, b, n * sizeof *a), 0);
    /* empty input: all zero features */
    ck_assert_int_eq(cd_audio_frontend_run(fe, NULL, 0, a, n, &err), CD_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(a[i], 0.0f);
    cd_audio_frontend_free(fe);
    /* start fit: a long clip is its first 4000 samples */
    p.fit = CD_AUDIO_FIT_START;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_OK);
    ck_assert_int_eq(cd_audio_frontend_run(fe, w, 6000, a, n, &err), CD_OK);
    ck_assert_int_eq(cd_audio_frontend_run(fe, w, 4000, b, n, &err), CD_OK);
    ck_assert_int_eq(memcmp(a, b, n * sizeof *a), 0);
    cd_audio_frontend_free(fe);
    free(a);
    free(b);
    free(w);
    /* resampling path: a 1 kHz tone at 44.1 kHz vs the same tone at 16 kHz,
     * log-mel within 0.05 where the tone's energy is (> -10 in log) */
    p = spec("logmel512");
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_OK);
    cd_audio_frontend_dims(fe, &ch, &fr, NULL);
    n = (size_t)ch * fr;
    struct cd_audio hi = { .sample_rate = 44100, .channels = 1,
                           .n_frames = 44100 }, lo = { .sample_rate = 16000,
                           .channels = 1, .n_frames = 16000 };
    hi.samples = malloc(44100 * sizeof(float));
    lo.samples = malloc(16000 * sizeof(float));
    for (int i = 0; i < 44100; i++)
        hi.samples[i] = (float)(0.5 * sin(2 * M_PI * 1000.0 * i / 44100.0));
    for (int i = 0; i < 16000; i++)
        lo.samples[i] = (float)(0.5 * sin(2 * M_PI * 1000.0 * i / 16000.0));
    a = malloc(n * sizeof *a);
    b = malloc(n * sizeof *b);
    ck_assert_int_eq(cd_audio_frontend_run_audio(fe, &hi, a, n, &err), CD_OK);
    ck_assert_int_eq(cd_audio_frontend_run_audio(fe, &lo, b, n, &err), CD_OK);
    double worst = 0;
    for (int t = 2; t < fr - 2; t++)           /* edges: resampler ramp */
        for (int m = 0; m < ch; m++) {
            size_t i = (size_t)m * fr + t;
            if (b[i] > -10.0f && fabs(a[i] - b[i]) > worst)
                worst = fabs(a[i] - b[i]);
        }
    ck_assert_msg(worst < 0.05, "resampled log-mel off by %g", worst);
    free(a);
    free(b);
    cd_audio_free(&hi);
    cd_audio_free(&lo);
    cd_audio_frontend_free(fe);
}
END_TEST

START_TEST(bad_specs)
{
    struct cd_err err = {0};
    struct cd_audio_frontend *fe = (struct cd_audio_frontend *)1;
    struct cd_preprocess ok = spec("logmel512"), p;
    p = ok; p.kind = CD_INPUT_IMAGE;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    ck_assert_ptr_null(fe);
    p = ok; p.win = 513;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    p = ok; p.hop = 0;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    p = ok; p.n_mels = 0;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    p = ok; p.fmax = 9000.0f;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    p = ok; p.log_offset = 0.0f;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    p = ok; p.seconds = 0.02f;                 /* 320 samples < n_fft 512 */
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "too short"));
    p.center = true;                           /* reflect pad makes it fit */
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_OK);
    cd_audio_frontend_free(fe);
    p = ok; p.seconds = 1e7f;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    p = ok; p.features = CD_AUDIO_FEAT_COUNT;
    ck_assert_int_eq(cd_audio_frontend_init(&fe, &p, &err), CD_EINVAL);
    cd_audio_frontend_free(NULL);
}
END_TEST

#include "model_fixture.h"

/* model.json with an audio input of shape and preprocess pp. */
static int load_audio_model(const char *shape, const char *pp,
                            struct cd_model **m, struct cd_err *err)
{
    char tmpl[] = "/tmp/convd_test_audio_XXXXXX", json[1024], dir[300];
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    snprintf(json, sizeof json,
             "{\"format\": \"convd-model\", \"version\": 1, \"name\": \"kws\","
             " \"task\": \"classification\", \"weights\": "
             "\"weights.safetensors\", \"inputs\": [{\"name\": \"x\", "
             "\"shape\": %s, \"preprocess\": %s}], \"outputs\": [\"r\"], "
             "\"graph\": [{\"name\": \"r\", \"op\": \"relu\", \"inputs\": "
             "[\"x\"]}]}", shape, pp);
    fixture_make_model(tmpl, "kws", json);
    snprintf(dir, sizeof dir, "%s/kws", tmpl);
    *m = NULL;
    int rc = cd_model_load(dir, m, err);
    fixture_rm_tree(tmpl);
    return rc;
}

START_TEST(model_keys)
{
    struct cd_model *m;
    struct cd_err err = {0};
    /* kws-complex's preprocess: stft by default (no n_mels) */
    int rc = load_audio_model("[258, 124]", "{\"kind\": \"audio\", "
                              "\"sample_rate\": 16000, \"n_fft\": 256, \"hop\":"
                              " 128, \"win\": 256, \"seconds\": 1.0}", &m, &err);
    ck_assert_msg(rc == CD_OK, "%s", err.msg);
    ck_assert_int_eq(m->pre.features, CD_AUDIO_STFT);
    ck_assert_int_eq(m->pre.fit, CD_AUDIO_FIT_CENTER);
    ck_assert(!m->pre.center);
    cd_model_unref(m);
    rc = load_audio_model("[1, 40, 101]", "{\"kind\": \"audio\", \"features\":"
                          " \"logmel\", \"n_fft\": 400, \"hop\": 160, \"win\": "
                          "320, \"n_mels\": 40, \"fmin\": 20, \"fmax\": 7600, "
                          "\"log_offset\": 1e-5, \"center\": true, \"fit\": "
                          "\"start\", \"window\": \"hann\", \"mel_scale\": "
                          "\"htk\"}", &m, &err);
    ck_assert_msg(rc == CD_OK, "%s", err.msg);
    ck_assert_int_eq(m->pre.sample_rate, 16000);
    ck_assert_float_eq(m->pre.seconds, 1.0f);
    ck_assert_float_eq(m->pre.fmax, 7600.0f);
    ck_assert_float_eq(m->pre.log_offset, 1e-5f);
    ck_assert_int_eq(m->pre.fit, CD_AUDIO_FIT_START);
    ck_assert(m->pre.center);
    cd_model_unref(m);
    static const char *const bad[][3] = {
        { "[40, 97]", "\"n_mels\": 40, \"n_fft\": 512, \"hop\": 160, "
          "\"bogus\": 1", "unknown" },
        { "[40, 96]", "\"n_mels\": 40, \"n_fft\": 512, \"hop\": 160", "(40, 97)" },
        { "[40, 97]", "\"n_mels\": 40, \"hop\": 160", "n_fft" },
        { "[40, 97]", "\"features\": \"mfcc\", \"n_mels\": 40, \"n_fft\": 512,"
          " \"hop\": 160", "logmel or stft" },
        { "[40, 97]", "\"features\": \"logmel\", \"n_fft\": 512, \"hop\": 160",
          "n_mels" },
        { "[258, 124]", "\"n_fft\": 256, \"hop\": 128, \"fmax\": 4000", "only "
          "apply" },
        { "[40, 97]", "\"n_mels\": 40, \"n_fft\": 512, \"hop\": 160, \"fmax\":"
          " 9000", "fmin < fmax" },
        { "[40, 97]", "\"n_mels\": 40, \"n_fft\": 512, \"hop\": 160, \"win\": "
          "600", "exceeds" },
        { "[40, 97]", "\"n_mels\": 40, \"n_fft\": 512, \"hop\": 160, "
          "\"window\": \"hamming\"", "hann" },
        { "[40, 97]", "\"n_mels\": 40, \"n_fft\": 512, \"hop\": 160, "
          "\"center\": 1", "true or false" },
        { "[40, 97]", "\"n_mels\": 40, \"n_fft\": 512, \"hop\": 160, "
          "\"seconds\": 1e9", "2^26" },
        { "[40, 97]", "\"n_mels\": 40, \"n_fft\": 512, \"hop\": 160, "
          "\"sample_rate\": 0", "positive" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char pp[512];
        snprintf(pp, sizeof pp, "{\"kind\": \"audio\", %s}", bad[i][1]);
        rc = load_audio_model(bad[i][0], pp, &m, &err);
        ck_assert_msg(rc == CD_EINVAL && strstr(err.msg, bad[i][2]),
                      "case %zu: rc %d \"%s\"", i, rc, err.msg);
        ck_assert_ptr_null(m);
    }
}
END_TEST

static Suite *audio_features_suite(void)
{
    Suite *s = suite_create("audio_features");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, golden);
    tcase_add_test(tc, fit_and_resample);
    tcase_add_test(tc, bad_specs);
    tcase_add_test(tc, model_keys);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(audio_features_suite)
