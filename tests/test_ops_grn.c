/* test_ops_grn.c — grn (global response normalisation): the OpenCL kernel
 * against the C reference on channels-first and channels-last inputs (odd
 * sizes, channels not a multiple of 8, batch > 1), the reference against a
 * direct formula, and shape-function refusals (bad axis, wrong gamma). */
#include "op_harness.h"
#include "engine/op_family.h"

#include <check.h>

static void grn_case(struct cd_harness_case *hc, int axis, int ndim,
                     const int64_t *dims, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_GRN;
    cd_attrs_default(&hc->a, CD_OP_GRN);
    hc->a.axis = axis;
    hc->a.eps = 1e-6f;
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(ndim, dims);
    int64_t c = dims[axis < 0 ? ndim - 1 : axis];
    hc->w[0] = cd_shape_make(1, &c);
    hc->w[1] = cd_shape_make(1, &c);
}

START_TEST(grn_cl_vs_ref)
{
    static const int64_t shapes[][4] = {
        { 1, 8, 7, 9 }, { 1, 13, 5, 3 }, { 1, 16, 16, 16 }, { 1, 3, 1, 1 },
        { 1, 24, 11, 13 }, { 1, 64, 8, 8 }, { 1, 5, 9, 10 },
    };
    if (!cd_harness_cl()) {
        fprintf(stderr, "skip: no OpenCL backend\n");
        return;
    }
    for (int s = 0; s < (int)(sizeof shapes / sizeof *shapes); s++)
        for (int axis = -1; axis <= 1; axis += 2) {
            struct cd_harness_case hc;
            grn_case(&hc, axis, 4, shapes[s], 1 + (s % 3));
            char msg[512] = "";
            double rel = 0.0;
            int rc = cd_harness_compare(&hc, (unsigned)(s * 7 + axis + 3),
                                        1e-5, &rel, msg, sizeof msg);
            ck_assert_msg(rc == CD_OK, "shape %d axis %d: %s", s, axis, msg);
        }
}
END_TEST

/* 1 sample, channels-last (1,1,2,2): x[.., c] = {1,2} -> G = (sqrt(1+4+..)). */
START_TEST(grn_ref_formula)
{
    /* x (1, 1, 2, 2) channels-last: positions (0,0),(0,1) x channels 0,1 */
    float arena[8] = { 3, 0, 4, 2 }; /* pos0: c0=3,c1=0; pos1: c0=4,c1=2 */
    float wpool[4] = { 0.5f, -1.0f, 0.25f, 0.125f }; /* gamma, beta */
    struct cd_attrs a;
    cd_attrs_default(&a, CD_OP_GRN);
    a.axis = -1;
    a.eps = 0.0f;
    struct cd_tref in = { .shape = cd_shape_make(4, (int64_t[]){ 1, 1, 2, 2 }),
                          .off = 0 };
    struct cd_exec_node e = { .name = "g", .op = CD_OP_GRN, .a = &a,
                              .n_in = 1, .in = &in };
    e.has_w[0] = e.has_w[1] = true;
    e.w[0].shape = e.w[1].shape = cd_shape_make(1, (int64_t[]){ 2 });
    e.w[0].off = 0;
    e.w[1].off = 2;
    e.out.shape = in.shape;
    e.out.off = 4;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_ref_grn(&e, 1, arena, wpool, &err), CD_OK);
    double g0 = 5.0, g1 = 2.0, m = (g0 + g1) / 2;
    double exp[4] = { 3 * (1 + 0.5 * g0 / m) + 0.25, 0 + 0.125,
                      4 * (1 + 0.5 * g0 / m) + 0.25,
                      2 * (1 - 1.0 * g1 / m) + 0.125 };
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(arena[4 + i] - exp[i]) < 1e-5, "out[%d] %g vs %g",
                      i, arena[4 + i], exp[i]);
}
END_TEST

START_TEST(grn_shape_refusals)
{
    struct cd_harness_case hc;
    struct cd_shape out;
    struct cd_err err = { 0 };
    grn_case(&hc, 1, 4, (int64_t[]){ 1, 8, 4, 4 }, 1);
    hc.a.axis = 2;
    ck_assert_int_ne(cd_shape_grn(&hc.a, 1, hc.in, hc.w, &out, &err), CD_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "axis"));
    grn_case(&hc, 1, 4, (int64_t[]){ 1, 8, 4, 4 }, 1);
    hc.w[0] = cd_shape_make(1, (int64_t[]){ 4 });
    ck_assert_int_ne(cd_shape_grn(&hc.a, 1, hc.in, hc.w, &out, &err), CD_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "gamma"));
    grn_case(&hc, -1, 4, (int64_t[]){ 1, 8, 4, 4 }, 1);
    hc.w[1].ndim = 0;
    ck_assert_int_ne(cd_shape_grn(&hc.a, 1, hc.in, hc.w, &out, &err), CD_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "beta"));
    grn_case(&hc, -1, 4, (int64_t[]){ 1, 8, 4, 4 }, 1);
    hc.a.eps = -1.0f;
    ck_assert_int_ne(cd_shape_grn(&hc.a, 1, hc.in, hc.w, &out, &err), CD_OK);
    grn_case(&hc, -1, 2, (int64_t[]){ 1, 8 }, 1);
    ck_assert_int_ne(cd_shape_grn(&hc.a, 1, hc.in, hc.w, &out, &err), CD_OK);
}
END_TEST

static Suite *grn_suite(void)
{
    Suite *s = suite_create("ops_grn");
    TCase *tc = tcase_create("grn");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, grn_cl_vs_ref);
    tcase_add_test(tc, grn_ref_formula);
    tcase_add_test(tc, grn_shape_refusals);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(grn_suite)
