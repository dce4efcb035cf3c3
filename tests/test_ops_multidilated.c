/* test_ops_multidilated.c — multidilated_conv (D3Net): OpenCL kernel against
 * the C reference (tests/op_harness.h) on fixed and seeded random shapes:
 * 1-D and 2-D, odd sizes, batch 3, uneven dilation lists, even kernels,
 * strides, narrow rows, bias, residual and activation; plus shape errors. */
#include "harness_check.h"
#include "op_harness.h"
#include "engine/op_family.h"

#include <check.h>

#define TOL 1e-5

struct mspec {
    int nsp, cin, cout, in[2], k[2], s[2], m, dil[8], bias, res, act, batch;
};

static void md_case(const struct mspec *p, struct cd_harness_case *hc)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_MULTIDILATED_CONV;
    cd_attrs_default(&hc->a, hc->op);
    hc->a.nsp = p->nsp;
    hc->a.n_dilations = p->m;
    for (int i = 0; i < p->m; i++)
        hc->a.dilations[i] = p->dil[i];
    hc->a.act = p->act;
    hc->a.residual = p->res;
    hc->batch = p->batch ? p->batch : 1;
    hc->n_in = 1;
    hc->in[0].ndim = hc->w[0].ndim = 2 + p->nsp;
    hc->in[0].dim[0] = 1;
    hc->in[0].dim[1] = p->cin;
    hc->w[0].dim[0] = p->cout;
    hc->w[0].dim[1] = p->cin;
    for (int i = 0; i < p->nsp; i++) {
        hc->in[0].dim[2 + i] = p->in[i];
        hc->w[0].dim[2 + i] = p->k[i];
        hc->a.stride[i] = p->s[i] ? p->s[i] : 1;
    }
    if (p->bias)
        hc->w[1] = cd_shape_make(1, (int64_t[]){ p->cout });
    if (p->res) {
        struct cd_err err = { 0 };
        struct cd_shape out;
        hc->a.residual = 0;
        cd_shape_multidilated_conv(&hc->a, 1, hc->in, hc->w, &out, &err);
        hc->a.residual = 1;
        hc->in[1] = out;
        hc->n_in = 2;
    }
}

static void run_case(const struct mspec *p, unsigned seed, const char *what)
{
    struct cd_harness_case hc;
    md_case(p, &hc);
    harness_check_cl(&hc, seed, TOL, what);
}

static const struct mspec fixed[] = {
    /* 2-D, D3Net-like dilations 1,2,4, odd sizes, batch 3 */
    { 2, 12, 16, { 13, 17 }, { 3, 3 }, .m = 3, .dil = { 1, 2, 4 }, .bias = 1,
      .batch = 3 },
    /* uneven dilation list, narrow rows, Cout not a multiple of 8 */
    { 2, 8, 5, { 7, 5 }, { 3, 3 }, .m = 4, .dil = { 3, 1, 5, 2 }, .act = 1,
      .batch = 2 },
    /* even kernel ('same' pads d (k-1) / 2 before, the rest after) */
    { 2, 6, 9, { 11, 19 }, { 2, 4 }, .m = 2, .dil = { 1, 3 }, .bias = 1 },
    /* strides, residual, wide row (vector fast path) */
    { 2, 4, 8, { 9, 41 }, { 3, 5 }, { 2, 2 }, .m = 2, .dil = { 2, 1 },
      .bias = 1, .batch = 3 },
    { 2, 6, 8, { 9, 37 }, { 3, 3 }, .m = 3, .dil = { 1, 2, 3 }, .res = 1,
      .act = 6, .batch = 2 },
    /* 1-D (audio), large dilations past the signal length */
    { 1, 9, 7, { 101 }, { 3 }, .m = 3, .dil = { 1, 8, 64 }, .bias = 1,
      .batch = 3 },
    { 1, 4, 16, { 33 }, { 5 }, { 3 }, .m = 4, .dil = { 1, 2, 4, 8 },
      .act = 4 },
    /* one slice = plain dilated conv with 'same' padding */
    { 2, 3, 8, { 15, 15 }, { 3, 3 }, .m = 1, .dil = { 2 }, .bias = 1 },
};

START_TEST(test_fixed)
{
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "fixed case %zu", i);
        run_case(&fixed[i], (unsigned)i + 1, what);
    }
}
END_TEST

START_TEST(test_random)
{
    unsigned s = 12345;
    for (int t = 0; t < 24; t++) {
        struct mspec p = { 0 };
        p.nsp = 1 + (int)(harness_rand(&s, 0, 1.999f));
        p.m = 1 + (int)harness_rand(&s, 0, 3.999f);
        p.cin = p.m * (1 + (int)harness_rand(&s, 0, 3.999f));
        p.cout = 1 + (int)harness_rand(&s, 0, 18.999f);
        for (int i = 0; i < p.m; i++)
            p.dil[i] = 1 + (int)harness_rand(&s, 0, 4.999f);
        for (int i = 0; i < p.nsp; i++) {
            p.in[i] = 1 + (int)harness_rand(&s, 0, p.nsp == 1 ? 60 : 24);
            p.k[i] = 1 + (int)harness_rand(&s, 0, 4.999f);
            p.s[i] = 1 + (int)harness_rand(&s, 0, 2.999f);
        }
        p.bias = t & 1;
        p.act = (t % 3 == 0) ? 1 : 0;
        p.batch = 1 + t % 3;
        char what[32];
        snprintf(what, sizeof what, "random case %d", t);
        run_case(&p, 100u + (unsigned)t, what);
    }
}
END_TEST

static int shape_err(const struct mspec *p, char *msg)
{
    struct cd_harness_case hc;
    struct cd_err err = { 0 };
    struct cd_shape out;
    md_case(p, &hc);
    int rc = cd_shape_multidilated_conv(&hc.a, hc.n_in, hc.in, hc.w, &out,
                                        &err);
    strcpy(msg, err.msg);
    return rc;
}

START_TEST(test_shape)
{
    char msg[512];
    struct mspec ok = { 2, 6, 4, { 9, 11 }, { 3, 3 }, { 2, 1 }, .m = 3,
                        .dil = { 1, 2, 4 } };
    struct cd_harness_case hc;
    struct cd_shape out;
    md_case(&ok, &hc);
    ck_assert_int_eq(cd_shape_multidilated_conv(&hc.a, 1, hc.in, hc.w, &out,
                                                NULL), CD_OK);
    ck_assert_int_eq(out.dim[1], 4);
    ck_assert_int_eq(out.dim[2], 5);
    ck_assert_int_eq(out.dim[3], 11);
    struct mspec bad = ok;
    bad.cin = 7; /* 7 channels into 3 slices */
    ck_assert_int_eq(shape_err(&bad, msg), CD_EINVAL);
    ck_assert_msg(strstr(msg, "not divisible") != NULL, "%s", msg);
    bad = ok;
    bad.m = 0;
    ck_assert_int_eq(shape_err(&bad, msg), CD_EINVAL);
    ck_assert_msg(strstr(msg, "dilations") != NULL, "%s", msg);
    bad = ok;
    bad.dil[1] = 0;
    ck_assert_int_eq(shape_err(&bad, msg), CD_EINVAL);
    ck_assert_msg(strstr(msg, "dilations[1]") != NULL, "%s", msg);
    md_case(&ok, &hc);
    hc.w[0].dim[1] = 5;
    ck_assert_int_eq(cd_shape_multidilated_conv(&hc.a, 1, hc.in, hc.w, &out,
                                                NULL), CD_EINVAL);
    md_case(&ok, &hc);
    hc.w[1] = cd_shape_make(1, (int64_t[]){ 3 });
    ck_assert_int_eq(cd_shape_multidilated_conv(&hc.a, 1, hc.in, hc.w, &out,
                                                NULL), CD_EINVAL);
}
END_TEST

static Suite *multidilated_suite(void)
{
    Suite *s = suite_create("ops_multidilated");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shape);
    tcase_add_test(tc, test_fixed);
    tcase_add_test(tc, test_random);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(multidilated_suite)
