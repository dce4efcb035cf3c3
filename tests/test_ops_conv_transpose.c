/* test_ops_conv_transpose.c — conv_transpose: the C reference on a hand-
 * computed case, OpenCL against the reference on fixed edge cases (stride
 * 1/2/3, padding incl. asymmetric, output_padding, groups, dilation, 1-D,
 * 3-D, bias, activation, residual, rows wider than one 16-lane vector) and
 * seeded random shapes, and hostile attributes refused with a message. */
#include "engine/op_family.h"
#include "harness_check.h"
#include "op_harness.h"

#include <check.h>

#define TOL 2e-5

struct tspec {
    int nsp, cin, cout, groups;
    int in[3], k[3], s[3], d[3], pb[3], pe[3], op[3];
    int bias, act, residual, batch;
};

static int ct_case(const struct tspec *c, struct cd_harness_case *hc,
                   struct cd_err *err)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_CONV_TRANSPOSE;
    cd_attrs_default(&hc->a, CD_OP_CONV_TRANSPOSE);
    hc->a.nsp = c->nsp;
    hc->a.groups = c->groups;
    hc->a.act = c->act;
    hc->a.act_alpha = 0.1f;
    hc->in[0].ndim = hc->w[0].ndim = 2 + c->nsp;
    hc->in[0].dim[0] = 1;
    hc->in[0].dim[1] = c->cin;
    hc->w[0].dim[0] = c->cin;
    hc->w[0].dim[1] = c->cout / c->groups;
    for (int i = 0; i < c->nsp; i++) {
        hc->in[0].dim[2 + i] = c->in[i];
        hc->w[0].dim[2 + i] = c->k[i];
        hc->a.stride[i] = c->s[i] ? c->s[i] : 1;
        hc->a.dilation[i] = c->d[i] ? c->d[i] : 1;
        hc->a.pad_begin[i] = c->pb[i];
        hc->a.pad_end[i] = c->pe[i];
        hc->a.output_padding[i] = c->op[i];
    }
    if (c->bias) {
        hc->w[1].ndim = 1;
        hc->w[1].dim[0] = c->cout;
    }
    hc->n_in = 1;
    hc->batch = c->batch ? c->batch : 1;
    struct cd_shape out;
    int rc = cd_shape_conv_transpose(&hc->a, 1, hc->in, hc->w, &out, err);
    if (rc)
        return rc;
    if (c->residual) {
        hc->a.residual = 1;
        hc->n_in = 2;
        hc->in[1] = out;
    }
    return CD_OK;
}

static void run_spec(const struct tspec *c, unsigned seed, const char *what)
{
    struct cd_harness_case hc;
    struct cd_err err = { 0 };
    ck_assert_msg(ct_case(c, &hc, &err) == CD_OK, "%s: %s", what, err.msg);
    harness_check_cl(&hc, seed, TOL, what);
}

static const struct tspec fixed[] = {
    /* WaveMix decoder: k4 s2 p1 doubles the size */
    { 2, 16, 16, 1, { 9, 11 }, { 4, 4 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .bias = 1, .batch = 2 },
    { 2, 8, 12, 1, { 5, 7 }, { 3, 3 }, { 3, 3 }, .pb = { 1, 0 },
      .pe = { 1, 0 }, .op = { 2, 1 }, .bias = 1 },
    { 2, 8, 12, 4, { 6, 9 }, { 3, 2 }, { 2, 2 }, { 2, 1 }, .op = { 1, 0 },
      .bias = 1, .act = CD_ACT_RELU, .batch = 3 },
    { 2, 4, 20, 2, { 7, 13 }, { 3, 5 }, { 1, 1 }, { 2, 3 }, .pb = { 2, 4 },
      .pe = { 2, 4 }, .residual = 1 },
    { 2, 6, 6, 6, { 8, 40 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .op = { 1, 1 } }, /* depthwise-like */
    { 2, 3, 9, 1, { 4, 37 }, { 2, 2 }, { 2, 2 }, .batch = 2 },
    { 2, 5, 7, 1, { 6, 6 }, { 4, 4 }, { 2, 2 }, .pb = { 0, 3 },
      .pe = { 2, 1 }, .bias = 1 }, /* asymmetric padding */
    { 2, 9, 17, 1, { 3, 3 }, { 1, 1 }, .s = { 1, 1 } },
    { 1, 8, 8, 1, { 33 }, { 4 }, { 2 }, .pb = { 1 }, .pe = { 1 },
      .bias = 1, .act = CD_ACT_GELU, .batch = 2 },
    { 1, 6, 4, 2, { 10 }, { 5 }, { 3 }, { 2 }, .pb = { 3 }, .pe = { 3 },
      .op = { 2 } },
    { 3, 4, 6, 2, { 3, 5, 7 }, { 3, 3, 3 }, { 2, 1, 2 }, .pb = { 1, 1, 1 },
      .pe = { 1, 1, 1 }, .op = { 1, 0, 1 }, .bias = 1, .batch = 2 },
};

START_TEST(ct_fixed)
{
    char what[32];
    snprintf(what, sizeof what, "fixed %d", _i);
    run_spec(&fixed[_i], (unsigned)_i, what);
}
END_TEST

START_TEST(ct_random)
{
    unsigned s = (unsigned)_i * 2654435761u + 99u;
#define R(lo, hi) ((lo) + (int)harness_rand(&s, 0.0f, (float)((hi) - (lo) + 1) - 0.001f))
    struct tspec c = { 0 };
    c.nsp = R(1, 2);
    c.groups = R(1, 3);
    c.cin = c.groups * R(1, 5);
    c.cout = c.groups * R(1, 10);
    for (int i = 0; i < c.nsp; i++) {
        c.in[i] = R(1, 24);
        c.k[i] = R(1, 5);
        c.s[i] = R(1, 3);
        c.d[i] = R(1, 2);
        c.pb[i] = c.pe[i] = R(0, (c.k[i] - 1) * c.d[i]);
        int opmax = (c.s[i] > c.d[i] ? c.s[i] : c.d[i]) - 1;
        c.op[i] = R(0, opmax);
    }
    c.bias = R(0, 1);
    c.act = R(0, 2) == 2 ? CD_ACT_LEAKY_RELU : CD_ACT_NONE;
    c.residual = R(0, 3) == 3;
    c.batch = R(1, 3);
#undef R
    struct cd_harness_case hc;
    struct cd_err err = { 0 };
    if (ct_case(&c, &hc, &err) != CD_OK)
        return; /* padding larger than the output: valid refusal */
    char what[32];
    snprintf(what, sizeof what, "random %d", _i);
    run_spec(&c, (unsigned)_i + 1000, what);
}
END_TEST

/* x = [1, 2], w = [1, 1, 1], stride 2: out = [1, 1, 3, 2, 2]; with padding 1
 * and output_padding 1: [1, 3, 2, 2]. */
START_TEST(ct_ref_known)
{
    struct cd_attrs a;
    cd_attrs_default(&a, CD_OP_CONV_TRANSPOSE);
    a.stride[0] = 2;
    float arena[16] = { 1, 2 }, wpool[3] = { 1, 1, 1 };
    struct cd_tref in = { .shape = { 3, { 1, 1, 2 } }, .off = 0 };
    struct cd_exec_node e = { .name = "t", .op = CD_OP_CONV_TRANSPOSE,
                              .a = &a, .n_in = 1, .in = &in,
                              .has_w = { true },
                              .w = { { .shape = { 3, { 1, 1, 3 } } } },
                              .out = { .shape = { 3, { 1, 1, 5 } }, .off = 4 } };
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_ref_conv_transpose(&e, 1, arena, wpool, &err), CD_OK);
    const float want[5] = { 1, 1, 3, 2, 2 };
    for (int i = 0; i < 5; i++)
        ck_assert_msg(arena[4 + i] == want[i], "out[%d] = %g", i, arena[4 + i]);
    a.pad_begin[0] = a.pad_end[0] = 1;
    a.output_padding[0] = 1;
    /* one shape per weight slot: the kernel, then an absent bias */
    struct cd_shape w3[2] = { { 3, { 1, 1, 3 } }, { 0 } }, o;
    ck_assert_int_eq(cd_shape_conv_transpose(&a, 1, &in.shape, w3, &o, &err),
                     CD_OK);
    ck_assert_int_eq((int)o.dim[2], 4);
    e.out.shape = o;
    ck_assert_int_eq(cd_ref_conv_transpose(&e, 1, arena, wpool, &err), CD_OK);
    const float want2[4] = { 1, 3, 2, 2 };
    for (int i = 0; i < 4; i++)
        ck_assert_msg(arena[4 + i] == want2[i], "pad out[%d] = %g", i,
                      arena[4 + i]);
}
END_TEST

static void refused(struct tspec c, const char *needle)
{
    struct cd_harness_case hc;
    struct cd_err err = { 0 };
    int rc = ct_case(&c, &hc, &err);
    ck_assert_int_eq(rc, CD_EINVAL);
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg,
                  needle);
}

START_TEST(ct_hostile)
{
    struct tspec ok = { 2, 4, 4, 1, { 5, 5 }, { 3, 3 }, .s = { 2, 2 } };
    struct tspec c = ok;
    c.op[0] = 2; /* >= stride 2 and >= dilation 1 */
    refused(c, "output_padding[0]");
    c = ok;
    c.pb[1] = c.pe[1] = 20;
    refused(c, "output size");
    c = ok;
    c.s[0] = -1;
    refused(c, "stride[0]");
    /* weight rank / channels / groups / bias */
    struct cd_harness_case hc;
    struct cd_err err = { 0 };
    ck_assert_int_eq(ct_case(&ok, &hc, &err), CD_OK);
    struct cd_shape out;
    hc.w[0].ndim = 3;
    ck_assert_int_eq(cd_shape_conv_transpose(&hc.a, 1, hc.in, hc.w, &out,
                                             &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "rank"), "%s", err.msg);
    ck_assert_int_eq(ct_case(&ok, &hc, &err), CD_OK);
    hc.w[0].dim[0] = 5;
    ck_assert_int_eq(cd_shape_conv_transpose(&hc.a, 1, hc.in, hc.w, &out,
                                             &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "dim 0"), "%s", err.msg);
    ck_assert_int_eq(ct_case(&ok, &hc, &err), CD_OK);
    hc.a.groups = 3;
    ck_assert_int_eq(cd_shape_conv_transpose(&hc.a, 1, hc.in, hc.w, &out,
                                             &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "groups"), "%s", err.msg);
    ck_assert_int_eq(ct_case(&ok, &hc, &err), CD_OK);
    hc.w[1].ndim = 1;
    hc.w[1].dim[0] = 3;
    ck_assert_int_eq(cd_shape_conv_transpose(&hc.a, 1, hc.in, hc.w, &out,
                                             &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "bias"), "%s", err.msg);
    ck_assert_int_eq(ct_case(&ok, &hc, &err), CD_OK);
    hc.a.residual = 1;
    ck_assert_int_eq(cd_shape_conv_transpose(&hc.a, 1, hc.in, hc.w, &out,
                                             &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "residual"), "%s", err.msg);
}
END_TEST

static Suite *ops_conv_transpose_suite(void)
{
    Suite *s = suite_create("ops_conv_transpose");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ct_ref_known);
    tcase_add_test(tc, ct_hostile);
    tcase_add_loop_test(tc, ct_fixed, 0, (int)(sizeof fixed / sizeof fixed[0]));
    tcase_add_loop_test(tc, ct_random, 0, 40);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(ops_conv_transpose_suite)
