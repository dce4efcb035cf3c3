/* test_ops_scnn.c — scnn (SCNN slice-by-slice message passing): the C
 * reference against hand-computed cases (pass order down, up, right, left;
 * zero padding of a width-3 message), the OpenCL per-slice kernels against
 * the reference on fixed and seeded random shapes (odd H and W, batch 3,
 * widths 1..9), and hostile weight shapes refused with a message. */
#include "op_harness.h"
#include "engine/op_family.h"

#include <check.h>

#define TOL 1e-5

static void scnn_case(struct cd_harness_case *hc, int c, int h, int w,
                      int kv, int kh, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_SCNN;
    cd_attrs_default(&hc->a, hc->op);
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = (struct cd_shape){ 4, { 1, c, h, w } };
    hc->w[0] = (struct cd_shape){ 4, { c, c, 1, kv } };
    hc->w[1] = hc->w[0];
    hc->w[2] = (struct cd_shape){ 4, { c, c, kh, 1 } };
    hc->w[3] = hc->w[2];
}

/* Runs cd_ref_scnn on host buffers: x (1 sample) at arena[0..n), out at
 * arena[n..2n); weights wd, wu, wr, wl of C*C*K each in wpool. */
static void ref_run(float *arena, const float *wpool, int c, int h, int w,
                    int kv, int kh)
{
    struct cd_harness_case hc;
    scnn_case(&hc, c, h, w, kv, kh, 1);
    struct cd_attrs a = hc.a;
    struct cd_tref in = { hc.in[0], 0, 0 };
    struct cd_exec_node e = { .name = "hand", .op = CD_OP_SCNN, .a = &a,
                              .n_in = 1, .in = &in };
    size_t off = 0;
    for (int s = 0; s < 4; s++) {
        e.has_w[s] = true;
        e.w[s] = (struct cd_tref){ hc.w[s], off, 0 };
        off += (size_t)cd_shape_numel(&hc.w[s]);
    }
    e.out = (struct cd_tref){ hc.in[0], (size_t)c * h * w, 0 };
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_ref_scnn(&e, 1, arena, wpool, &err), CD_OK);
}

START_TEST(test_ref_hand_order)
{
    /* C 1, 2x2, width-1 messages d=2, u=0.5, r=-1, l=1:
     * down:  row1 = [2,3] + relu(2*[1,-1]) = [4,3]
     * up:    row0 = [1,-1] + relu(0.5*[4,3]) = [3,0.5]
     * right: col1 += relu(-1*[3,4]) = 0
     * left:  col0 = [3,4] + relu([0.5,3]) = [3.5,7] */
    float arena[8] = { 1, -1, 2, 3 };
    const float wpool[4] = { 2.0f, 0.5f, -1.0f, 1.0f };
    ref_run(arena, wpool, 1, 2, 2, 1, 1);
    const float want[4] = { 3.5f, 0.5f, 7.0f, 3.0f };
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(arena[4 + i], want[i], 1e-6);
    const float x[4] = { 1, -1, 2, 3 };
    for (int i = 0; i < 4; i++) /* x untouched */
        ck_assert_float_eq(arena[i], x[i]);
}
END_TEST

START_TEST(test_ref_hand_width3)
{
    /* C 1, 2x3, down message [1,2,3] (taps x-1, x, x+1, zero padded), the
     * other passes zero: row1 = [0,0,0] + relu([8,14,8]) */
    float arena[12] = { 1, 2, 3, 0, 0, 0 };
    float wpool[12] = { 1, 2, 3 };
    ref_run(arena, wpool, 1, 2, 3, 3, 3);
    const float want[6] = { 1, 2, 3, 8, 14, 8 };
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(arena[6 + i], want[i], 1e-6);
}
END_TEST

START_TEST(test_ref_hand_channels)
{
    /* C 2, 2x1, only the down message (width 1) mixes channels:
     * w = [[1, -1], [0.5, 2]]; row0 = (c0 3, c1 1) -> messages
     * c0: relu(3 - 1) = 2, c1: relu(1.5 + 2) = 3.5 */
    float arena[8] = { 3, 10, 1, 20 }; /* (C, H, W) = c0 [3,10], c1 [1,20] */
    float wpool[16] = { 1, -1, 0.5f, 2 };
    ref_run(arena, wpool, 2, 2, 1, 1, 1);
    const float want[4] = { 3, 12, 1, 23.5f };
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(arena[4 + i], want[i], 1e-6);
}
END_TEST

/* Runs case hc on the reference and the OpenCL backend with x in [-2, 2]
 * and message weights in +-1.5/sqrt(C*K): the recurrence then stays near
 * unit gain (uniform [-1, 1] weights overflow float after a few dozen
 * slices, which would test nothing). Max abs diff <= TOL * max(1, |ref|). */
static void run_case(const struct cd_harness_case *hc, unsigned seed,
                     const char *what)
{
    struct cd_backend *be[2] = { cd_harness_ref(), cd_harness_cl() };
    if (!be[1]) {
        fprintf(stderr, "skip %s: no OpenCL backend\n", what);
        return;
    }
    ck_assert_ptr_nonnull(be[0]);
    struct cd_err err = { 0 };
    struct cd_tref in = { hc->in[0], 0, 0 };
    struct cd_exec_node e = { .name = "case", .op = CD_OP_SCNN, .a = &hc->a,
                              .n_in = 1, .in = &in };
    size_t n = (size_t)cd_shape_numel(&hc->in[0]) * (size_t)hc->batch;
    size_t wn = 0;
    e.out = (struct cd_tref){ hc->in[0], harness_round16(n), 0 };
    for (int s = 0; s < 4; s++) {
        e.has_w[s] = true;
        e.w[s] = (struct cd_tref){ hc->w[s], wn, 0 };
        wn += harness_round16((size_t)cd_shape_numel(&hc->w[s]));
    }
    size_t arena = 2 * harness_round16(n);
    float *x = calloc(arena, sizeof *x), *w = calloc(wn, sizeof *w);
    float *res[2] = { calloc(n, sizeof(float)), calloc(n, sizeof(float)) };
    ck_assert(x && w && res[0] && res[1]);
    unsigned r = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++)
        x[i] = harness_rand(&r, -2.0f, 2.0f);
    for (int s = 0; s < 4; s++) {
        int64_t c = hc->w[s].dim[0], k = cd_shape_numel(&hc->w[s]) / (c * c);
        float a = 1.5f / sqrtf((float)(c * k));
        for (int64_t i = 0; i < cd_shape_numel(&hc->w[s]); i++)
            w[e.w[s].off + i] = harness_rand(&r, -a, a);
    }
    for (int b = 0; b < 2; b++) {
        const struct cd_backend_i *I = be[b]->i;
        int rc = I->alloc(be[b], arena, wn, &err);
        if (!rc) rc = I->upload_weights(be[b], 0, w, wn, &err);
        if (!rc) rc = I->write(be[b], 0, x, arena, &err);
        if (!rc) rc = I->run(be[b], &e, hc->batch, &err);
        if (!rc) rc = I->finish(be[b], &err);
        if (!rc) rc = I->read(be[b], e.out.off, res[b], n, &err);
        ck_assert_msg(rc == CD_OK, "%s: %s: %s", what, I->name, err.msg);
    }
    double max_ref = 1.0, max_diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)res[1][i] - res[0][i]);
        max_ref = fmax(max_ref, fabs((double)res[0][i]));
        max_diff = isnan(d) || d > max_diff ? (isnan(d) ? INFINITY : d)
                                            : max_diff;
    }
    if (getenv("CD_TEST_VERBOSE"))
        fprintf(stderr, "%s: max diff %g, max |ref| %g\n", what, max_diff,
                max_ref);
    ck_assert_msg(max_diff <= TOL * max_ref, "%s: max diff %g, max |ref| %g",
                  what, max_diff, max_ref);
    free(x);
    free(w);
    free(res[0]);
    free(res[1]);
}

static const int fixed[][6] = {
    /* c, h, w, kv, kh, batch */
    { 3, 7, 9, 3, 3, 3 },
    { 5, 13, 17, 5, 5, 3 },
    { 8, 9, 33, 9, 9, 2 },
    { 4, 17, 11, 9, 3, 3 },
    { 1, 1, 1, 1, 1, 3 },
    { 2, 1, 19, 3, 1, 3 },
    { 6, 23, 1, 1, 5, 2 },
    { 16, 6, 40, 9, 9, 1 },
};

START_TEST(test_cl_fixed)
{
    const int *f = fixed[_i];
    struct cd_harness_case hc;
    char what[64];
    scnn_case(&hc, f[0], f[1], f[2], f[3], f[4], f[5]);
    snprintf(what, sizeof what, "fixed %d: C%d %dx%d w%d/%d", _i, f[0], f[1],
             f[2], f[3], f[4]);
    run_case(&hc, 300u + (unsigned)_i, what);
}
END_TEST

START_TEST(test_cl_random)
{
    unsigned s = 4242u + (unsigned)_i * 17u;
    for (int t = 0; t < 4; t++) {
        int c = 1 + (int)harness_rand(&s, 0, 7);
        int h = 1 + (int)harness_rand(&s, 0, 20);
        int w = 1 + (int)harness_rand(&s, 0, 30);
        int kv = 1 + 2 * (int)harness_rand(&s, 0, 4.9f);
        int kh = 1 + 2 * (int)harness_rand(&s, 0, 4.9f);
        struct cd_harness_case hc;
        char what[64];
        scnn_case(&hc, c, h, w, kv, kh, 3);
        snprintf(what, sizeof what, "random %d/%d: C%d %dx%d w%d/%d", _i, t,
                 c, h, w, kv, kh);
        run_case(&hc, s, what);
    }
}
END_TEST

static int shape_of(const struct cd_harness_case *hc, struct cd_err *err)
{
    struct cd_shape out;
    return cd_shape_scnn(&hc->a, hc->n_in, hc->in, hc->w, &out, err);
}

START_TEST(test_hostile)
{
    struct cd_harness_case hc;
    struct cd_err err = { 0 };
    scnn_case(&hc, 4, 9, 11, 9, 9, 2);
    ck_assert_int_eq(shape_of(&hc, &err), CD_OK);

    scnn_case(&hc, 4, 9, 11, 9, 9, 2); /* down given as a column kernel */
    hc.w[0] = (struct cd_shape){ 4, { 4, 4, 9, 1 } };
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'down'"));
    ck_assert_ptr_nonnull(strstr(err.msg, "(C, C, 1, w)"));

    scnn_case(&hc, 4, 9, 11, 9, 9, 2); /* channel mismatch */
    hc.w[3].dim[1] = 3;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'left'"));

    scnn_case(&hc, 4, 9, 11, 9, 8, 2); /* even width */
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "must be odd"));

    scnn_case(&hc, 4, 9, 11, 9, 9, 2); /* rank-3 weight */
    hc.w[1].ndim = 3;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'up'"));

    scnn_case(&hc, 4, 9, 11, 9, 9, 2); /* 3-D input */
    hc.in[0] = (struct cd_shape){ 3, { 1, 4, 9 } };
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "(1, C, H, W)"));

    scnn_case(&hc, 4, 9, 11, 9, 9, 2); /* two inputs */
    hc.n_in = 2;
    hc.in[1] = hc.in[0];
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
}
END_TEST

static Suite *scnn_suite(void)
{
    Suite *s = suite_create("ops_scnn");
    TCase *tc = tcase_create("scnn");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_ref_hand_order);
    tcase_add_test(tc, test_ref_hand_width3);
    tcase_add_test(tc, test_ref_hand_channels);
    tcase_add_loop_test(tc, test_cl_fixed, 0,
                        (int)(sizeof fixed / sizeof fixed[0]));
    tcase_add_loop_test(tc, test_cl_random, 0, 3);
    tcase_add_test(tc, test_hostile);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(scnn_suite)
