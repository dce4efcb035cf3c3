/* test_ops_dynamic.c — dynamic_dwconv (per-sample depthwise kernels, ATConv):
 * the C reference against a hand-computed case, the OpenCL kernel against
 * the reference on fixed and seeded random shapes (odd sizes, batch 3,
 * strides, dilations, asymmetric padding, 1-D, flat and 4-D kernel inputs,
 * with and without bias), and hostile shapes refused with a message. */
#include "harness_check.h"
#include "op_harness.h"
#include "engine/op_family.h"

#include <check.h>

#define TOL 1e-5

struct dspec {
    int nsp, c, h, w, kh, kw, sy, sx, dy, dx, pt, pl, pb, pr;
    int flat; /* kernel input (1, C*kh*kw) with the "kernel" attribute */
    int bias, batch;
};

static void dyn_case(const struct dspec *p, struct cd_harness_case *hc)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_DYNAMIC_DWCONV;
    cd_attrs_default(&hc->a, hc->op);
    hc->a.nsp = p->nsp;
    hc->n_in = 2;
    hc->batch = p->batch;
    struct cd_shape *x = &hc->in[0], *k = &hc->in[1];
    x->ndim = 2 + p->nsp;
    x->dim[0] = 1;
    x->dim[1] = p->c;
    int j = p->nsp - 1;
    if (p->nsp == 2) {
        x->dim[2] = p->h;
        hc->a.stride[0] = p->sy;
        hc->a.dilation[0] = p->dy;
        hc->a.pad_begin[0] = p->pt;
        hc->a.pad_end[0] = p->pb;
    }
    x->dim[2 + j] = p->w;
    hc->a.stride[j] = p->sx;
    hc->a.dilation[j] = p->dx;
    hc->a.pad_begin[j] = p->pl;
    hc->a.pad_end[j] = p->pr;
    if (p->flat) {
        k->ndim = 2;
        k->dim[0] = 1;
        k->dim[1] = (int64_t)p->c * p->kw * (p->nsp == 2 ? p->kh : 1);
        if (p->nsp == 2)
            hc->a.kernel[0] = p->kh;
        hc->a.kernel[j] = p->kw;
    } else {
        *k = *x;
        if (p->nsp == 2)
            k->dim[2] = p->kh;
        k->dim[2 + j] = p->kw;
    }
    if (p->bias) {
        hc->w[0].ndim = 1;
        hc->w[0].dim[0] = p->c;
    }
}

static void run_case(const struct dspec *p, unsigned seed, const char *what)
{
    struct cd_harness_case hc;
    dyn_case(p, &hc);
    harness_check_cl(&hc, seed, TOL, what);
}

START_TEST(test_ref_hand)
{
    /* batch 2, C 1, 3x3 input, 2x2 kernels, padding 0, bias 0.5:
     * sample 0 kernel [[1,0],[0,1]] -> x00+x11, sample 1 [[0,1],[0,0]] */
    float arena[2 * 9 + 2 * 4 + 2 * 4] = {
        1, 2, 3, 4, 5, 6, 7, 8, 9,          /* x sample 0 */
        -1, -2, -3, -4, -5, -6, -7, -8, -9, /* x sample 1 */
        1, 0, 0, 1, 0, 1, 0, 0,             /* kernels */
    };
    float bias[1] = { 0.5f };
    struct cd_attrs a;
    cd_attrs_default(&a, CD_OP_DYNAMIC_DWCONV);
    struct cd_tref in[2] = {
        { { 4, { 1, 1, 3, 3 } }, 0, 0 }, { { 4, { 1, 1, 2, 2 } }, 18, 0 } };
    struct cd_exec_node e = { .name = "hand", .op = CD_OP_DYNAMIC_DWCONV,
                              .a = &a, .n_in = 2, .in = in };
    e.has_w[0] = true;
    e.w[0] = (struct cd_tref){ { 1, { 1 } }, 0, 0 };
    e.out = (struct cd_tref){ { 4, { 1, 1, 2, 2 } }, 26, 0 };
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_ref_dynamic_dwconv(&e, 2, arena, bias, &err), CD_OK);
    const float want[8] = { 1 + 5 + .5f, 2 + 6 + .5f, 4 + 8 + .5f,
                            5 + 9 + .5f, -2 + .5f, -3 + .5f, -5 + .5f,
                            -6 + .5f };
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq_tol(arena[26 + i], want[i], 1e-6);
}
END_TEST

static const struct dspec fixed[] = {
    /* nsp c  h   w   kh kw sy sx dy dx pt pl pb pr flat bias batch */
    { 2, 5, 13, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3 },
    { 2, 3, 9, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 3 },
    { 2, 4, 15, 21, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 1, 0, 3 },
    { 2, 3, 11, 40, 3, 5, 1, 2, 2, 1, 2, 2, 1, 0, 0, 1, 2 },
    { 2, 2, 7, 9, 4, 2, 3, 3, 1, 2, 2, 0, 1, 1, 1, 1, 3 },  /* even kernel */
    { 2, 6, 31, 47, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 1 },
    { 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 3 },
    { 1, 4, 0, 37, 0, 5, 0, 1, 0, 1, 0, 2, 0, 2, 1, 1, 3 },  /* 1-D */
    { 1, 3, 0, 50, 0, 3, 0, 2, 0, 3, 0, 1, 0, 4, 0, 0, 2 },
};

START_TEST(test_cl_fixed)
{
    char what[64];
    snprintf(what, sizeof what, "fixed case %d", _i);
    run_case(&fixed[_i], 100u + (unsigned)_i, what);
}
END_TEST

START_TEST(test_cl_random)
{
    unsigned s = 777u + (unsigned)_i * 31u;
    for (int t = 0; t < 6; t++) {
        struct dspec p;
        memset(&p, 0, sizeof p);
        p.nsp = 2;
        p.c = 1 + (int)harness_rand(&s, 0, 6);
        p.kh = 1 + (int)harness_rand(&s, 0, 5);
        p.kw = 1 + (int)harness_rand(&s, 0, 5);
        p.sy = 1 + (int)harness_rand(&s, 0, 2.5f);
        p.sx = 1 + (int)harness_rand(&s, 0, 2.5f);
        p.dy = 1 + (int)harness_rand(&s, 0, 2);
        p.dx = 1 + (int)harness_rand(&s, 0, 2);
        p.pt = (int)harness_rand(&s, 0, 3);
        p.pb = (int)harness_rand(&s, 0, 3);
        p.pl = (int)harness_rand(&s, 0, 3);
        p.pr = (int)harness_rand(&s, 0, 3);
        p.h = p.dy * (p.kh - 1) + 1 + (int)harness_rand(&s, 0, 20);
        p.w = p.dx * (p.kw - 1) + 1 + (int)harness_rand(&s, 0, 40);
        p.flat = t % 2;
        p.bias = t % 3 != 0;
        p.batch = 3;
        char what[96];
        snprintf(what, sizeof what, "random %d/%d c%d %dx%d k%dx%d s%d,%d",
                 _i, t, p.c, p.h, p.w, p.kh, p.kw, p.sy, p.sx);
        run_case(&p, s, what);
    }
}
END_TEST

/* The shape function's verdict on a case, with its message. */
static int shape_of(const struct cd_harness_case *hc, struct cd_err *err)
{
    struct cd_shape out;
    return cd_shape_dynamic_dwconv(&hc->a, hc->n_in, hc->in, hc->w, &out,
                                   err);
}

START_TEST(test_hostile)
{
    const struct dspec ok = { 2, 4, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                              2 };
    struct cd_harness_case hc;
    struct cd_err err = { 0 };
    dyn_case(&ok, &hc);
    ck_assert_int_eq(shape_of(&hc, &err), CD_OK);

    dyn_case(&ok, &hc); /* kernel numel per sample != C*kh*kw */
    hc.in[1].dim[1] = 4 * 9 - 1;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected C*kh*kw = 36"));

    dyn_case(&ok, &hc); /* flat kernel input without the attribute */
    hc.a.kernel[0] = hc.a.kernel[1] = 0;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "\"kernel\" is required"));

    dyn_case(&ok, &hc); /* bias of the wrong length */
    hc.w[0].dim[0] = 5;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'bias'"));

    dyn_case(&ok, &hc); /* kernel larger than the padded input */
    hc.a.kernel[0] = hc.a.kernel[1] = 13;
    hc.in[1].dim[1] = 4 * 13 * 13;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "larger than padded input"));

    dyn_case(&ok, &hc); /* one input only */
    hc.n_in = 1;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);

    dyn_case(&ok, &hc); /* 3-D input */
    hc.in[0].ndim = 5;
    hc.in[0].dim[4] = 3;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected 3 or 4"));

    dyn_case(&ok, &hc); /* zero stride */
    hc.a.stride[1] = 0;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "stride"));

    dyn_case(&ok, &hc); /* huge kernel: C*kh*kw overflow guarded */
    hc.a.kernel[0] = hc.a.kernel[1] = 65536;
    hc.in[0].dim[1] = (int64_t)1 << 30;
    ck_assert_int_eq(shape_of(&hc, &err), CD_EINVAL);
}
END_TEST

static Suite *dynamic_suite(void)
{
    Suite *s = suite_create("ops_dynamic");
    TCase *tc = tcase_create("dynamic_dwconv");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_ref_hand);
    tcase_add_loop_test(tc, test_cl_fixed, 0,
                        (int)(sizeof fixed / sizeof fixed[0]));
    tcase_add_loop_test(tc, test_cl_random, 0, 4);
    tcase_add_test(tc, test_hostile);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(dynamic_suite)
