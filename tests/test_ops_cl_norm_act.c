/* test_ops_cl_norm_act.c — OpenCL batchnorm with a fused activation
 * (cd_batchnorm_act, kernels/norm_act.cl) against the C reference
 * (op_harness.h): every activation, rows that are and are not multiples of
 * 16 floats (the vector path and the scalar tail), BatchNorm1d-like (N, C)
 * and (N, C, L) inputs, channel counts that do not fill a work-group,
 * several batches. Strided inputs are covered by test_pass_concat.c. */
#include "check_main.h"
#include "op_harness.h"

static void run_case(const struct cd_harness_case *c, double tol,
                     const char *what)
{
    double rel;
    char msg[256] = "";
    int rc = cd_harness_compare(c, 11, tol, &rel, msg, sizeof msg);
    ck_assert_msg(rc == CD_OK, "%s: %s", what, msg);
}

static void bn_case(struct cd_harness_case *c, int ndim, const int64_t *dims,
                    enum cd_act act, int batch)
{
    memset(c, 0, sizeof *c);
    c->op = CD_OP_BATCHNORM;
    cd_attrs_default(&c->a, c->op);
    c->a.act = act;
    c->a.act_alpha = act == CD_ACT_CLAMP ? -0.5f : 0.1f;
    c->a.act_beta = act == CD_ACT_CLAMP ? 0.75f : 0.0f;
    c->n_in = 1;
    c->batch = batch;
    c->in[0] = cd_shape_make(ndim, dims);
    for (int j = 0; j < 4; j++)
        c->w[j] = cd_shape_make(1, (int64_t[]){ dims[1] });
}

START_TEST(every_activation)
{
    struct cd_harness_case c;
    char what[64];
    for (int act = CD_ACT_NONE; act < CD_ACT_COUNT; act++) {
        bn_case(&c, 4, (int64_t[]){ 1, 5, 7, 7 }, (enum cd_act)act, 2);
        snprintf(what, sizeof what, "act %s 5x7x7", cd_act_name(act));
        run_case(&c, 1e-5, what);
        bn_case(&c, 4, (int64_t[]){ 1, 3, 8, 4 }, (enum cd_act)act, 3);
        snprintf(what, sizeof what, "act %s 3x8x4", cd_act_name(act));
        run_case(&c, 1e-5, what);
    }
}
END_TEST

START_TEST(row_lengths_and_batches)
{
    struct cd_harness_case c;
    static const int64_t shapes[][4] = {
        { 1, 32, 56, 56 }, { 1, 96, 14, 14 }, { 1, 1, 1, 1 },
        { 1, 17, 1, 17 },  { 1, 70, 3, 5 },   { 1, 2, 16, 1 },
    };
    char what[64];
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        for (int b = 1; b <= 3; b += 2) {
            bn_case(&c, 4, shapes[i], CD_ACT_RELU, b);
            snprintf(what, sizeof what, "shape %zu batch %d", i, b);
            run_case(&c, 1e-5, what);
        }
    bn_case(&c, 2, (int64_t[]){ 1, 37 }, CD_ACT_RELU6, 4);
    run_case(&c, 1e-5, "(N, C) input");
    bn_case(&c, 3, (int64_t[]){ 1, 9, 33 }, CD_ACT_SILU, 2);
    run_case(&c, 1e-5, "(N, C, L) input");
}
END_TEST

static Suite *norm_act_suite(void)
{
    Suite *s = suite_create("ops_cl_norm_act");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_activation);
    tcase_add_test(tc, row_lengths_and_batches);
    suite_add_tcase(s, tc);
    return s;
}

CD_TEST_MAIN(norm_act_suite)
