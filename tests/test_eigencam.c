/* test_eigencam.c — Eigen-CAM against the NumPy reference of
 * tools/eigencam_ref.py (fixtures in tests/fixtures/cam), the backends' Gram
 * hook (reference and OpenCL against a double host Gram), the sign
 * convention, degenerate layers, bilinear upsampling against torch, and the
 * runner path on models/tiny-demo. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend.h"
#include "engine/eigencam.h"
#include "engine/model.h"
#include "engine/passes.h"
#include "engine/runner.h"
#include "media/npy.h"

#define FIX "tests/fixtures/cam/"

static float *load(const char *name, const char *kind, struct cd_shape *s)
{
    char path[256];
    float *d = NULL;
    struct cd_err err = { 0 };
    snprintf(path, sizeof path, FIX "%s_%s.npy", name, kind);
    ck_assert_msg(cd_npy_load(path, s, &d, &err) == CD_OK, "%s: %s", path,
                  err.msg);
    return d;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static const char *cases[] = { "random", "structured", "inverted", "wide",
                               "c1", "hw1", "zeros", "constant", "upsample" };

START_TEST(golden_host)
{
    struct cd_shape sa, sm;
    float *A = load(cases[_i], "act", &sa), *want = load(cases[_i], "map", &sm);
    ck_assert_int_eq(sa.ndim, 3);
    int C = (int)sa.dim[0], h = (int)sa.dim[1], w = (int)sa.dim[2];
    float *map = malloc((size_t)h * w * sizeof *map);
    struct cd_eigencam_info info;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_eigencam_from_activations(A, C, h, w, map, &info, &err),
                     CD_OK);
    double d = max_diff(map, want, (size_t)h * w);
    printf("eigencam golden %-10s max|diff| = %.2e (iters %d)\n", cases[_i], d,
           info.iters);
    ck_assert_msg(d <= 1e-3, "%s: max diff %g", cases[_i], d);
    free(A);
    free(want);
    free(map);
}
END_TEST

/* Double-precision Gram and means of X (C, hw). */
static void host_gram(const float *X, int C, int hw, double *G, double *m)
{
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int p = 0; p < hw; p++)
            s += X[(size_t)c * hw + p];
        m[c] = s / hw;
    }
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++) {
            double s = 0.0;
            for (int p = 0; p < hw; p++)
                s += (X[(size_t)i * hw + p] - m[i]) * (X[(size_t)j * hw + p] - m[j]);
            G[(size_t)i * C + j] = s;
        }
}

/* Writes two samples at offset 16, asks b for the Gram of the second and
 * compares with host_gram (relative to the largest entry). */
static void check_gram(struct cd_backend *b, int C, int hw, unsigned seed)
{
    struct cd_err err = { 0 };
    size_t n = (size_t)C * hw;
    float *X = malloc(2 * n * sizeof *X), *G = malloc((size_t)C * C * sizeof *G),
          *m = malloc((size_t)C * sizeof *m);
    double *Gh = malloc((size_t)C * C * sizeof *Gh), *mh = malloc((size_t)C * sizeof *mh);
    srand(seed);
    for (size_t i = 0; i < 2 * n; i++)
        X[i] = (float)rand() / RAND_MAX * 4.0f - 1.0f + (float)(i % 7) * 0.1f;
    ck_assert_int_eq(b->i->alloc(b, 2 * n + 32, 16, &err), CD_OK);
    ck_assert_int_eq(b->i->write(b, 16, X, 2 * n, &err), CD_OK);
    ck_assert_ptr_nonnull(b->i->gram);
    ck_assert_msg(b->i->gram(b, 16 + n, C, hw, G, m, &err) == CD_OK, "%s", err.msg);
    host_gram(X + n, C, hw, Gh, mh);
    double big = 0.0, d = 0.0, dm = 0.0;
    for (size_t i = 0; i < (size_t)C * C; i++) {
        big = fmax(big, fabs(Gh[i]));
        d = fmax(d, fabs(Gh[i] - G[i]));
        ck_assert(G[i] == G[(i % C) * C + i / C]); /* exactly symmetric */
    }
    for (int c = 0; c < C; c++)
        dm = fmax(dm, fabs(mh[c] - m[c]));
    printf("gram %s C=%d hw=%d: max rel diff %.2e, means %.2e\n", b->i->name, C,
           hw, d / big, dm);
    ck_assert_msg(d <= 1e-4 * big, "gram diff %g of %g", d, big);
    ck_assert(dm <= 1e-5);
    /* out of the arena, bad sizes */
    ck_assert_int_ne(b->i->gram(b, n + 33, C, hw, G, m, &err), CD_OK);
    ck_assert_int_ne(b->i->gram(b, 0, 0, hw, G, m, &err), CD_OK);
    ck_assert_int_ne(b->i->gram(b, 0, C, -1, G, m, &err), CD_OK);
    free(X);
    free(G);
    free(m);
    free(Gh);
    free(mh);
}

START_TEST(gram_ref)
{
    struct cd_backend *b = NULL;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_backend_ref_init(&b, &err), CD_OK);
    check_gram(b, 13, 29, 1);
    check_gram(b, 1, 1, 2);
    cd_backend_free(b);
}
END_TEST

/* A classifier-like activation: channels respond to a blob at (by, bx). */
static void blob_layer(float *A, int C, int h, int w, int by, int bx, int invert)
{
    srand(7);
    for (int c = 0; c < C; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double r2 = (y - by) * (y - by) + (x - bx) * (x - bx);
                double v = (1.0 + c % 3) * exp(-r2 / 3.0) +
                           0.02 * ((double)rand() / RAND_MAX);
                A[((size_t)c * h + y) * w + x] = (float)(invert ? 2.0 - v : v);
            }
}

START_TEST(sign_convention)
{
    enum { C = 6, H = 9, W = 11 };
    float A[C * H * W], map[H * W];
    struct cd_eigencam_info info;
    struct cd_err err = { 0 };
    blob_layer(A, C, H, W, 3, 8, 0);
    ck_assert_int_eq(cd_eigencam_from_activations(A, C, H, W, map, &info, &err), CD_OK);
    ck_assert_int_eq(info.peak_y, 3);
    ck_assert_int_eq(info.peak_x, 8);
    ck_assert(fabsf(map[3 * W + 8] - 1.0f) < 1e-6f);
    /* the same layer negated: the blob is now where activations are lowest,
     * so the map must avoid it */
    blob_layer(A, C, H, W, 3, 8, 1);
    ck_assert_int_eq(cd_eigencam_from_activations(A, C, H, W, map, &info, &err), CD_OK);
    ck_assert(map[3 * W + 8] == 0.0f);
    /* two channels 1.02 b and -b: power iteration from the start vector ends
     * at v ~ (-1.02, 1), whose projection is lowest at the blob; the channel
     * mean 0.01 b is highest there, so the sign rule must flip */
    float B[2 * H * W];
    for (int p = 0; p < H * W; p++) {
        int y = p / W, x = p % W;
        double b = exp(-((y - 6) * (y - 6) + (x - 2) * (x - 2)) / 3.0);
        B[p] = (float)(1.02 * b);
        B[H * W + p] = (float)-b;
    }
    ck_assert_int_eq(cd_eigencam_from_activations(B, 2, H, W, map, &info, &err), CD_OK);
    ck_assert_int_eq(info.flipped, 1);
    ck_assert_int_eq(info.peak_y, 6);
    ck_assert_int_eq(info.peak_x, 2);
    /* every golden case: map correlates non-negatively with the mean map */
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        struct cd_shape s, sm;
        float *X = load(cases[k], "act", &s), *mp = load(cases[k], "map", &sm);
        int c = (int)s.dim[0], hw = (int)(s.dim[1] * s.dim[2]);
        double ma = 0, mm = 0, cov = 0;
        for (int p = 0; p < hw; p++) {
            double a = 0;
            for (int i = 0; i < c; i++)
                a += X[(size_t)i * hw + p] / c;
            ma += a / hw;
            mm += mp[p] / hw;
        }
        for (int p = 0; p < hw; p++) {
            double a = 0;
            for (int i = 0; i < c; i++)
                a += X[(size_t)i * hw + p] / c;
            cov += (a - ma) * (mp[p] - mm);
        }
        ck_assert_msg(cov >= -1e-9, "%s: cov %g", cases[k], cov);
        free(X);
        free(mp);
    }
}
END_TEST

START_TEST(degenerate)
{
    float map[16], A[64];
    struct cd_eigencam_info info;
    struct cd_err err = { 0 };
    memset(A, 0, sizeof A);
    ck_assert_int_eq(cd_eigencam_from_activations(A, 4, 4, 4, map, &info, &err), CD_OK);
    ck_assert(info.degenerate);
    for (int i = 0; i < 16; i++)
        ck_assert(map[i] == 0.0f);
    /* C = 1: the map is relu(x - mean) normalised (sign follows x) */
    float x[6] = { 1, 5, 2, 3, 9, 4 }; /* mean 4 */
    ck_assert_int_eq(cd_eigencam_from_activations(x, 1, 2, 3, map, &info, &err), CD_OK);
    const float want[6] = { 0, 0.2f, 0, 0, 1, 0 };
    for (int i = 0; i < 6; i++)
        ck_assert_msg(fabsf(map[i] - want[i]) < 1e-6f, "%d: %g", i, map[i]);
    /* hw = 1: nothing varies */
    ck_assert_int_eq(cd_eigencam_from_activations(x, 6, 1, 1, map, &info, &err), CD_OK);
    ck_assert(info.degenerate && map[0] == 0.0f);
    /* bad arguments never crash */
    ck_assert_int_eq(cd_eigencam_from_activations(x, 0, 2, 3, map, NULL, &err), CD_EINVAL);
    ck_assert_int_eq(cd_eigencam_from_activations(x, 1, 0, 3, map, NULL, &err), CD_EINVAL);
    ck_assert_int_eq(cd_eigencam_from_activations(NULL, 1, 2, 3, map, NULL, &err), CD_EINVAL);
    ck_assert_int_eq(cd_eigencam_from_activations(x, CD_EIGENCAM_MAX_C + 1, 1, 1, map,
                                                  NULL, &err), CD_EINVAL);
    ck_assert_int_eq(cd_eigencam_upsample(map, 0, 1, map, 1, 1, &err), CD_EINVAL);
}
END_TEST

START_TEST(upsample_torch)
{
    struct cd_shape sm, su;
    float *m = load("upsample", "map", &sm), *want = load("upsample", "up", &su);
    int H = (int)su.dim[0], W = (int)su.dim[1];
    float *out = malloc((size_t)H * W * sizeof *out);
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_eigencam_upsample(m, (int)sm.dim[0], (int)sm.dim[1], out,
                                          H, W, &err), CD_OK);
    double d = max_diff(out, want, (size_t)H * W);
    printf("eigencam upsample vs torch: max|diff| = %.2e\n", d);
    ck_assert(d <= 1e-5);
    free(m);
    free(want);
    free(out);
}
END_TEST

/* tiny-demo, batch 2 (second sample different), on backend b: the CAM of
 * sample 1 through the runner equals the host CAM of the read-back layer. */
static void runner_cam(struct cd_backend *b)
{
    struct cd_err err = { 0 };
    struct cd_model *m = NULL;
    struct cd_runner *r = NULL;
    struct cd_pass_stats st;
    ck_assert_msg(cd_model_load("models/tiny-demo", &m, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(cd_passes_run(&m->g, &st, &err), CD_OK);
    ck_assert_msg(cd_runner_init(&r, m, b, 2, &err) == CD_OK, "%s", err.msg);
    struct cd_shape is = cd_runner_input_shape(r);
    size_t n = (size_t)cd_shape_numel(&is);
    float *in = malloc(2 * n * sizeof *in);
    for (size_t i = 0; i < 2 * n; i++)
        in[i] = sinf((float)i * (i < n ? 0.01f : 0.037f));
    ck_assert_int_eq(cd_runner_run(r, in, 2, &err), CD_OK);
    int C, h, w;
    ck_assert_int_eq(cd_eigencam_layer_shape(r, m->cam_layer, &C, &h, &w, &err), CD_OK);
    float *act = malloc(2 * (size_t)C * h * w * sizeof *act);
    float *map = malloc((size_t)h * w * sizeof *map), *want = malloc((size_t)h * w * sizeof *want);
    ck_assert_int_eq(cd_runner_read_value(r, m->cam_layer, act, 2, NULL, &err), CD_OK);
    ck_assert_int_eq(cd_eigencam_from_activations(act + (size_t)C * h * w, C, h, w, want,
                                                  NULL, &err), CD_OK);
    int mh = 0, mw = 0;
    struct cd_eigencam_info info;
    ck_assert_msg(cd_eigencam_compute(r, m->cam_layer, 1, 2, map, (size_t)h * w, &mh,
                                      &mw, &info, &err) == CD_OK, "%s", err.msg);
    ck_assert(mh == h && mw == w);
    double d = max_diff(map, want, (size_t)h * w);
    printf("runner cam on %s: layer %s C=%d %dx%d, max|diff| vs host %.2e, "
           "iters %d\n", b->i->name, m->cam_layer, C, h, w, d, info.iters);
    ck_assert(d <= 1e-3);
    /* refusals: unknown layer, unkept layer, sample outside batch, no room */
    ck_assert_int_eq(cd_eigencam_compute(r, "nope", 0, 2, map, (size_t)h * w, &mh, &mw,
                                         NULL, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope"));
    ck_assert_int_ne(cd_eigencam_compute(r, m->cam_layer, 2, 2, map, (size_t)h * w, &mh,
                                         &mw, NULL, &err), CD_OK);
    ck_assert_int_ne(cd_eigencam_compute(r, m->cam_layer, 0, 2, map, 1, &mh, &mw, NULL,
                                         &err), CD_OK);
    free(in);
    free(act);
    free(map);
    free(want);
    cd_runner_free(r);
    cd_model_unref(m);
}

START_TEST(runner_ref)
{
    struct cd_backend *b = NULL;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_backend_ref_init(&b, &err), CD_OK);
    runner_cam(b);
    cd_backend_free(b);
}
END_TEST

START_TEST(opencl_gram)
{
    struct cd_backend *b = NULL;
    struct cd_err err = { 0 };
    if (cd_backend_cl_init(&b, "auto", getenv("CONVD_CACHE_DIR"), &err) != CD_OK) {
        fprintf(stderr, "test_eigencam: no OpenCL backend: %s\n", err.msg);
        ck_assert_msg(getenv("CONVD_ALLOW_NO_OPENCL") != NULL, "%s", err.msg);
        return;
    }
    check_gram(b, 37, 53, 3);
    check_gram(b, 64, 49, 4);
    check_gram(b, 1, 1, 5);
    runner_cam(b);
    cd_backend_free(b);
}
END_TEST

static Suite *eigencam_suite(void)
{
    Suite *s = suite_create("eigencam");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, golden_host, 0, (int)(sizeof cases / sizeof *cases));
    tcase_add_test(tc, gram_ref);
    tcase_add_test(tc, sign_convention);
    tcase_add_test(tc, degenerate);
    tcase_add_test(tc, upsample_torch);
    tcase_add_test(tc, runner_ref);
    tcase_add_test(tc, opencl_gram);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(eigencam_suite)
