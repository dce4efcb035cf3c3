/* test_ops_wavelet.c — haar_dwt / haar_idwt: OpenCL against the C reference
 * on random even shapes (vector bodies and scalar tails, batch 1-3), known
 * values of a 2x2 block in WaveMix's channel order, DWT -> IDWT round trip on
 * both backends, and hostile shapes (odd sizes, bad ranks, channels not a
 * multiple of 4) refused by the shape functions with a clear message. */
#include "engine/op_family.h"
#include "op_harness.h"

#include <check.h>

#define TOL 1e-5

static struct cd_harness_case haar_case(enum cd_op op, int c, int h, int w,
                                        int batch)
{
    struct cd_harness_case hc;
    memset(&hc, 0, sizeof hc);
    hc.op = op;
    cd_attrs_default(&hc.a, op);
    hc.n_in = 1;
    hc.in[0].ndim = 4;
    hc.in[0].dim[0] = 1;
    hc.in[0].dim[1] = c;
    hc.in[0].dim[2] = h;
    hc.in[0].dim[3] = w;
    hc.batch = batch;
    return hc;
}

static void compare(const struct cd_harness_case *hc, unsigned seed)
{
    char msg[512] = "";
    double rel = 0.0;
    if (!cd_harness_cl()) {
        fprintf(stderr, "skip: no OpenCL backend\n");
        return;
    }
    int rc = cd_harness_compare(hc, seed, TOL, &rel, msg, sizeof msg);
    ck_assert_msg(rc == CD_OK, "seed %u: %s", seed, msg);
}

START_TEST(dwt_random)
{
    unsigned s = (unsigned)_i * 7919u + 13u;
    int c = 1 + (int)(harness_rand(&s, 0, 6)), b = 1 + (int)harness_rand(&s, 0, 3);
    int h = 2 * (1 + (int)harness_rand(&s, 0, 20));
    int w = 2 * (1 + (int)harness_rand(&s, 0, 40));
    struct cd_harness_case hc = haar_case(CD_OP_HAAR_DWT, c, h, w, b);
    compare(&hc, (unsigned)_i);
    hc = haar_case(CD_OP_HAAR_IDWT, 4 * c, h / 2, w / 2 + 1, b);
    compare(&hc, (unsigned)_i + 100);
}
END_TEST

START_TEST(dwt_fixed)
{
    static const int sz[][4] = { { 1, 2, 2, 1 }, { 3, 18, 22, 2 },
                                 { 2, 16, 32, 3 }, { 5, 6, 34, 1 },
                                 { 1, 64, 18, 2 } };
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
        struct cd_harness_case hc = haar_case(CD_OP_HAAR_DWT, sz[i][0],
                                              sz[i][1], sz[i][2], sz[i][3]);
        compare(&hc, (unsigned)i);
        hc = haar_case(CD_OP_HAAR_IDWT, 4 * sz[i][0], sz[i][1], sz[i][2],
                       sz[i][3]);
        compare(&hc, (unsigned)i + 50);
    }
}
END_TEST

/* Runs dwt then idwt on backend be over x (n floats, shape c x h x w per
 * sample, batch b); writes the round trip to y and the DWT to d. */
static int round_trip(struct cd_backend *be, int c, int h, int w, int b,
                      const float *x, float *d, float *y, struct cd_err *err)
{
    struct cd_attrs a;
    cd_attrs_default(&a, CD_OP_HAAR_DWT);
    size_t n = (size_t)c * h * w;
    struct cd_tref t0 = { .shape = { 4, { 1, c, h, w } }, .off = 0 };
    struct cd_tref t1 = { .shape = { 4, { 1, 4 * c, h / 2, w / 2 } },
                          .off = n * b };
    struct cd_tref t2 = { .shape = { 4, { 1, c, h, w } }, .off = 2 * n * b };
    struct cd_exec_node e1 = { .name = "dwt", .op = CD_OP_HAAR_DWT, .a = &a,
                               .n_in = 1, .in = &t0, .out = t1 };
    struct cd_exec_node e2 = { .name = "idwt", .op = CD_OP_HAAR_IDWT,
                               .a = &a, .n_in = 1, .in = &t1, .out = t2 };
    const struct cd_backend_i *I = be->i;
    float zero[16] = { 0 };
    int rc;
    if ((rc = I->alloc(be, 3 * n * b + 16, 16, err)) ||
        (rc = I->upload_weights(be, 0, zero, 16, err)) ||
        (rc = I->write(be, 0, x, n * b, err)) ||
        (rc = I->run(be, &e1, b, err)) || (rc = I->run(be, &e2, b, err)) ||
        (rc = I->finish(be, err)) || (rc = I->read(be, t1.off, d, n * b, err)) ||
        (rc = I->read(be, t2.off, y, n * b, err)))
        return rc;
    return CD_OK;
}

START_TEST(dwt_round_trip_and_values)
{
    struct cd_backend *bes[2] = { cd_harness_ref(), cd_harness_cl() };
    /* known values: one 2x2 block per channel, C = 2 */
    const float x2[8] = { 1, 2, 3, 4, 10, 20, 30, 40 };
    /* LL0, LL1, then (B1, B2, B3) of channel 0, then of channel 1 */
    const float want[8] = { 5, 50, -2, -1, 0, -20, -10, 0 };
    int c = 3, h = 18, w = 22, b = 2;
    size_t n = (size_t)c * h * w * b;
    float *x = malloc(n * sizeof *x), *d = malloc(n * sizeof *d),
          *y = malloc(n * sizeof *y);
    ck_assert(x && d && y);
    unsigned s = 5;
    for (size_t i = 0; i < n; i++)
        x[i] = harness_rand(&s, -3.0f, 3.0f);
    for (int k = 0; k < 2; k++) {
        struct cd_err err = { 0 };
        if (!bes[k]) {
            fprintf(stderr, "skip backend %d\n", k);
            continue;
        }
        ck_assert_msg(round_trip(bes[k], 2, 2, 2, 1, x2, d, y, &err) == CD_OK,
                      "%s", err.msg);
        for (int i = 0; i < 8; i++) {
            ck_assert_msg(fabsf(d[i] - want[i]) < 1e-5f, "%s: band %d = %g, "
                          "want %g", bes[k]->i->name, i, d[i], want[i]);
            ck_assert_msg(fabsf(y[i] - x2[i]) < 1e-5f, "round trip 2x2");
        }
        ck_assert_msg(round_trip(bes[k], c, h, w, b, x, d, y, &err) == CD_OK,
                      "%s", err.msg);
        double worst = 0.0, e2 = 0.0, d2 = 0.0;
        for (size_t i = 0; i < n; i++) {
            double diff = fabs((double)y[i] - x[i]);
            worst = diff > worst ? diff : worst;
            e2 += (double)x[i] * x[i];
            d2 += (double)d[i] * d[i];
        }
        ck_assert_msg(worst < 1e-5, "%s: round trip err %g", bes[k]->i->name,
                      worst);
        /* orthonormal: energy preserved */
        ck_assert_msg(fabs(e2 - d2) < 1e-4 * e2, "energy %g vs %g", e2, d2);
    }
    free(x);
    free(d);
    free(y);
}
END_TEST

static void expect_refused(enum cd_op op, struct cd_shape x, int n_in,
                           const char *needle)
{
    struct cd_attrs a;
    struct cd_shape in[2] = { x, x }, w[CD_MAX_WEIGHTS] = { { 0 } }, out;
    struct cd_err err = { 0 };
    cd_attrs_default(&a, op);
    int rc = cd_ops[op].shape(&a, n_in, in, w, &out, &err);
    ck_assert_int_eq(rc, CD_EINVAL);
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg,
                  needle);
}

START_TEST(hostile_shapes)
{
    struct cd_shape odd_h = { 4, { 1, 3, 17, 22 } }, odd_w = { 4, { 1, 3, 18, 21 } };
    struct cd_shape r3 = { 3, { 1, 3, 18 } }, c6 = { 4, { 1, 6, 4, 4 } };
    struct cd_shape big = { 4, { 1, 3, (int64_t)1 << 40, 2 } };
    expect_refused(CD_OP_HAAR_DWT, odd_h, 1, "must be even");
    expect_refused(CD_OP_HAAR_DWT, odd_w, 1, "must be even");
    expect_refused(CD_OP_HAAR_DWT, r3, 1, "rank 3");
    expect_refused(CD_OP_HAAR_DWT, big, 1, "out of range");
    expect_refused(CD_OP_HAAR_DWT, odd_w, 2, "2 inputs");
    expect_refused(CD_OP_HAAR_IDWT, c6, 1, "multiple of 4");
    expect_refused(CD_OP_HAAR_IDWT, r3, 1, "rank 3");
    /* shapes that pass */
    struct cd_attrs a;
    struct cd_shape in = { 4, { 1, 3, 18, 22 } }, w[CD_MAX_WEIGHTS] = { { 0 } },
                    out;
    struct cd_err err = { 0 };
    cd_attrs_default(&a, CD_OP_HAAR_DWT);
    ck_assert_int_eq(cd_shape_haar_dwt(&a, 1, &in, w, &out, &err), CD_OK);
    ck_assert(out.dim[1] == 12 && out.dim[2] == 9 && out.dim[3] == 11);
    ck_assert_int_eq(cd_shape_haar_idwt(&a, 1, &out, w, &in, &err), CD_OK);
    ck_assert(in.dim[1] == 3 && in.dim[2] == 18 && in.dim[3] == 22);
}
END_TEST

static Suite *ops_wavelet_suite(void)
{
    Suite *s = suite_create("ops_wavelet");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hostile_shapes);
    tcase_add_test(tc, dwt_fixed);
    tcase_add_loop_test(tc, dwt_random, 0, 20);
    tcase_add_test(tc, dwt_round_trip_and_values);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(ops_wavelet_suite)
