/* test_ops_conv3d.c — the pseudo-3-D conv fast paths (ops_cl_conv3d.c,
 * kernels/conv3d.cl) against the C reference: (1, kh, kw) and (kt, 1, 1)
 * kernels on the row and plane kernels, with strides, dilation, padding,
 * groups, bias, activations, residual, narrow and wide frames, batch 1-3;
 * the generic kernel on the same cases with the fast paths off; and the
 * dispatch rule (a 3x3x3 kernel is not taken). */
#include "engine/op_shape.h"
#include "engine/ops_cl_conv3d.h"
#include "op_harness.h"

#include <check.h>

#define TOL 2e-5

struct c3 {
    int cin, cout, groups;
    int in[3], k[3], s[3], d[3], p[3];
    int bias, act, residual, batch;
};

static int c3_case(const struct c3 *c, struct cd_harness_case *hc)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_CONV;
    cd_attrs_default(&hc->a, CD_OP_CONV);
    hc->a.nsp = 3;
    hc->a.groups = c->groups;
    hc->a.act = c->act;
    hc->a.act_alpha = 0.1f;
    hc->in[0].ndim = hc->w[0].ndim = 5;
    hc->in[0].dim[0] = 1;
    hc->in[0].dim[1] = c->cin;
    hc->w[0].dim[0] = c->cout;
    hc->w[0].dim[1] = c->cin / c->groups;
    for (int i = 0; i < 3; i++) {
        hc->in[0].dim[2 + i] = c->in[i];
        hc->w[0].dim[2 + i] = c->k[i];
        hc->a.stride[i] = c->s[i] ? c->s[i] : 1;
        hc->a.dilation[i] = c->d[i] ? c->d[i] : 1;
        hc->a.pad_begin[i] = hc->a.pad_end[i] = c->p[i];
    }
    if (c->bias) {
        hc->w[1].ndim = 1;
        hc->w[1].dim[0] = c->cout;
    }
    hc->n_in = 1;
    hc->batch = c->batch ? c->batch : 1;
    struct cd_err err = { 0 };
    struct cd_shape out;
    if (cd_shape_conv(&hc->a, 1, hc->in, hc->w, &out, &err) != CD_OK)
        return -1;
    if (c->residual) {
        hc->a.residual = 1;
        hc->n_in = 2;
        hc->in[1] = out;
    }
    return 0;
}

static const struct c3 cases[] = {
    /* P3D spatial (1,3,3) pad (0,1,1) */
    { 16, 16, 1, { 5, 9, 11 }, { 1, 3, 3 }, .p = { 0, 1, 1 }, .bias = 1,
      .act = CD_ACT_RELU, .batch = 2 },
    /* P3D temporal (3,1,1) pad (1,0,0): plane kernel */
    { 16, 16, 1, { 5, 9, 11 }, { 3, 1, 1 }, .p = { 1, 0, 0 }, .bias = 1,
      .batch = 2 },
    { 8, 12, 1, { 4, 7, 7 }, { 1, 3, 3 }, .p = { 0, 1, 1 }, .residual = 1 },
    { 8, 12, 1, { 6, 7, 7 }, { 3, 1, 1 }, .p = { 1, 0, 0 }, .residual = 1,
      .act = CD_ACT_LEAKY_RELU, .batch = 3 },
    { 6, 10, 2, { 3, 20, 40 }, { 1, 3, 3 }, { 1, 2, 2 }, .p = { 0, 1, 1 },
      .bias = 1 },
    { 6, 10, 2, { 9, 5, 37 }, { 3, 1, 1 }, { 2, 1, 1 }, { 2, 1, 1 },
      .p = { 2, 0, 0 } },
    /* (kt,1,1) with spatial stride 2: row kernel */
    { 5, 9, 1, { 5, 9, 13 }, { 3, 1, 1 }, { 1, 2, 2 }, .p = { 1, 0, 0 },
      .bias = 1, .batch = 2 },
    /* (kt,1,1) with spatial padding: row kernel */
    { 4, 4, 4, { 3, 6, 6 }, { 2, 1, 1 }, .p = { 0, 1, 1 } },
    { 3, 17, 1, { 2, 5, 33 }, { 1, 5, 5 }, { 1, 1, 3 }, { 1, 2, 1 },
      .p = { 0, 4, 2 }, .bias = 1, .act = CD_ACT_GELU },
    { 32, 32, 1, { 8, 28, 28 }, { 1, 3, 3 }, .p = { 0, 1, 1 } },
    { 32, 32, 1, { 8, 28, 28 }, { 3, 1, 1 }, .p = { 1, 0, 0 } },
    /* generic: not a fast-path kernel shape */
    { 4, 6, 1, { 4, 6, 7 }, { 3, 3, 3 }, .p = { 1, 1, 1 }, .bias = 1 },
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void check_case(int i, bool fast)
{
    struct cd_harness_case hc;
    char msg[512] = "";
    double rel = 0.0;
    ck_assert_msg(c3_case(&cases[i], &hc) == 0, "case %d invalid", i);
    if (!cd_harness_cl()) {
        fprintf(stderr, "skip case %d: no OpenCL backend\n", i);
        return;
    }
    cd_cl_conv3d_enabled = fast;
    int rc = cd_harness_compare(&hc, (unsigned)i + (fast ? 0u : 500u), TOL,
                                &rel, msg, sizeof msg);
    cd_cl_conv3d_enabled = true;
    ck_assert_msg(rc == CD_OK, "case %d (%s): %s", i, fast ? "fast" : "generic",
                  msg);
}

START_TEST(conv3d_fast)
{
    check_case(_i, true);
}
END_TEST

START_TEST(conv3d_generic)
{
    check_case(_i, false);
}
END_TEST

START_TEST(conv3d_random)
{
    unsigned s = (unsigned)_i * 40503u + 7u;
#define R(lo, hi) ((lo) + (int)harness_rand(&s, 0.0f, (float)((hi) - (lo) + 1) - 0.001f))
    struct c3 c = { 0 };
    c.groups = R(1, 2);
    c.cin = c.groups * R(1, 6);
    c.cout = c.groups * R(1, 12);
    bool spatial = R(0, 1);
    for (int i = 0; i < 3; i++) {
        c.in[i] = R(1, 20);
        bool along = spatial ? i > 0 : i == 0;
        c.k[i] = along ? R(1, 5) : 1;
        c.s[i] = R(1, 2);
        c.d[i] = along ? R(1, 2) : 1;
        c.p[i] = R(0, c.k[i] / 2);
        if ((c.k[i] - 1) * c.d[i] + 1 > c.in[i] + 2 * c.p[i])
            c.in[i] = (c.k[i] - 1) * c.d[i] + 1;
    }
    c.bias = R(0, 1);
    c.residual = R(0, 2) == 2;
    c.batch = R(1, 3);
#undef R
    struct cd_harness_case hc;
    ck_assert_msg(c3_case(&c, &hc) == 0, "random %d invalid", _i);
    if (!cd_harness_cl())
        return;
    char msg[512] = "";
    double rel = 0.0;
    int rc = cd_harness_compare(&hc, (unsigned)_i + 77u, TOL, &rel, msg,
                                sizeof msg);
    ck_assert_msg(rc == CD_OK, "random %d: %s", _i, msg);
}
END_TEST

/* The hook declines what it does not accelerate, without touching be. */
START_TEST(conv3d_dispatch_rule)
{
    struct cd_harness_case hc;
    ck_assert(c3_case(&cases[N_CASES - 1], &hc) == 0);
    struct cd_tref in = { .shape = hc.in[0] };
    struct cd_exec_node e = { .name = "c", .op = CD_OP_CONV, .a = &hc.a,
                              .n_in = 1, .in = &in, .has_w = { true },
                              .w = { { .shape = hc.w[0] } } };
    struct cd_err err = { 0 };
    cd_shape_conv(&hc.a, 1, hc.in, hc.w, &e.out.shape, &err);
    bool handled = true;
    ck_assert_int_eq(cd_cl_conv3d_fast(NULL, &e, 1, &handled, &err), CD_OK);
    ck_assert(!handled);
}
END_TEST

static Suite *ops_conv3d_suite(void)
{
    Suite *s = suite_create("ops_conv3d");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conv3d_dispatch_rule);
    tcase_add_loop_test(tc, conv3d_fast, 0, N_CASES);
    tcase_add_loop_test(tc, conv3d_generic, 0, N_CASES);
    tcase_add_loop_test(tc, conv3d_random, 0, 30);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(ops_conv3d_suite)
