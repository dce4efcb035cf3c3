/* test_ops_cl_conv_dw.c — every depthwise convolution kernel
 * (daemon/engine/ops_cl_conv_dw.c: fixed K x K, large, generic) forced in
 * turn on edge shapes, compared with the C reference: widths that are not
 * a multiple of 16 and rows wider than one 64-column chunk, tiny planes
 * (1x1, 3x5), asymmetric and no padding, stride 2 with odd sizes, dilation
 * and 1-D (generic only), several channels per work-item with a partial
 * last block, batch 1 to 3, fused bias/activation/residual. Each variant
 * must have run on at least MIN_CASES shapes; then the per-shape choice on
 * every shape. */
#include "engine/cl_backend.h"
#include "engine/ops_cl_conv.h"
#include "engine/op_shape.h"
#include "harness_check.h"
#include "op_harness.h"

#include <check.h>

#define TOL 2e-5
#define MIN_CASES 6

struct dspec {
    int nsp, c;
    int in[2], k[2], s[2], d[2], pb[2], pe[2];
    int bias, act, residual, batch;
};

static const struct dspec specs[] = {
    /* 3x3 s1: W 37 (a partial tile), residual + relu6, batch 3 */
    { 2, 5, { 19, 37 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_RELU6, .residual = 1, .batch = 3 },
    /* 3x3 s2, odd sizes */
    { 2, 8, { 17, 33 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .batch = 2 },
    /* 1x1 plane (all taps but the centre are padding) */
    { 2, 3, { 1, 1 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 }, .bias = 1,
      .act = CD_ACT_RELU, .batch = 2 },
    /* 3x5 plane */
    { 2, 4, { 3, 5 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .act = CD_ACT_GELU, .residual = 1, .batch = 1 },
    /* 3x3 s1 unpadded, 130-wide rows: three 64-column chunks */
    { 2, 2, { 9, 130 }, { 3, 3 }, .act = CD_ACT_SILU, .batch = 2 },
    /* 3x3 asymmetric padding */
    { 2, 3, { 10, 21 }, { 3, 3 }, .pb = { 0, 2 }, .pe = { 2, 0 },
      .bias = 1, .residual = 1, .batch = 3 },
    /* 151 channels on a small plane: 2 channels per work-item, a partial
     * last block */
    { 2, 151, { 5, 6 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_HARDSWISH, .batch = 1 },
    /* 5x5 s1: 70-wide rows (a chunk and a partial one) */
    { 2, 6, { 20, 70 }, { 5, 5 }, .pb = { 2, 2 }, .pe = { 2, 2 },
      .act = CD_ACT_SILU, .residual = 1, .batch = 2 },
    /* 5x5 s2, odd sizes */
    { 2, 3, { 23, 41 }, { 5, 5 }, { 2, 2 }, .pb = { 2, 2 }, .pe = { 2, 2 },
      .bias = 1, .batch = 1 },
    /* 7x7 s1 */
    { 2, 4, { 14, 30 }, { 7, 7 }, .pb = { 3, 3 }, .pe = { 3, 3 },
      .act = CD_ACT_GELU_TANH, .batch = 3 },
    /* 7x7 s1 on 7x7 planes (convnext's last stage), residual */
    { 2, 20, { 7, 7 }, { 7, 7 }, .pb = { 3, 3 }, .pe = { 3, 3 },
      .bias = 1, .residual = 1, .batch = 2 },
    /* 7x7 s2 on 15x15 */
    { 2, 5, { 15, 15 }, { 7, 7 }, { 2, 2 }, .pb = { 3, 3 }, .pe = { 3, 3 },
      .bias = 1, .act = CD_ACT_LEAKY_RELU, .batch = 1 },
    /* 7x7 s1 on 56x56 (convnext's first stage, 4 tiles per row) */
    { 2, 3, { 56, 56 }, { 7, 7 }, .pb = { 3, 3 }, .pe = { 3, 3 },
      .bias = 1, .batch = 1 },
    /* 13x13 (large kernels) */
    { 2, 3, { 20, 40 }, { 13, 13 }, .pb = { 6, 6 }, .pe = { 6, 6 },
      .bias = 1, .act = CD_ACT_GELU, .residual = 1, .batch = 2 },
    /* dilated 3x3 and 3x3 stride 3: generic only */
    { 2, 3, { 11, 9 }, { 3, 3 }, .d = { 2, 3 }, .pb = { 2, 3 },
      .pe = { 2, 3 }, .bias = 1, .act = CD_ACT_SIGMOID },
    { 2, 4, { 13, 20 }, { 3, 3 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .batch = 2 },
    /* 1-D, k 9: generic only */
    { 1, 8, { 37 }, { 9 }, .pb = { 4 }, .pe = { 4 }, .bias = 1 },
};
#define N_SPECS ((int)(sizeof specs / sizeof specs[0]))

/* The harness case of s, and its conv geometry for variant_ok. */
static int make_case(const struct dspec *v, struct cd_harness_case *hc,
                     struct cd_cl_conv_geo *g)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_CONV;
    cd_attrs_default(&hc->a, CD_OP_CONV);
    hc->a.nsp = v->nsp;
    hc->a.groups = v->c;
    hc->a.act = v->act;
    hc->a.act_alpha = 0.1f;
    hc->a.act_beta = 0.7f;
    hc->in[0].ndim = hc->w[0].ndim = 2 + v->nsp;
    hc->in[0].dim[0] = 1;
    hc->in[0].dim[1] = v->c;
    hc->w[0].dim[0] = v->c;
    hc->w[0].dim[1] = 1;
    for (int i = 0; i < v->nsp; i++) {
        hc->in[0].dim[2 + i] = v->in[i];
        hc->w[0].dim[2 + i] = v->k[i];
        hc->a.stride[i] = v->s[i] ? v->s[i] : 1;
        hc->a.dilation[i] = v->d[i] ? v->d[i] : 1;
        hc->a.pad_begin[i] = v->pb[i];
        hc->a.pad_end[i] = v->pe[i];
    }
    if (v->bias) {
        hc->w[1].ndim = 1;
        hc->w[1].dim[0] = v->c;
    }
    hc->n_in = 1;
    hc->batch = v->batch ? v->batch : 1;
    struct cd_err err = { 0 };
    struct cd_shape out;
    if (cd_shape_conv(&hc->a, 1, hc->in, hc->w, &out, &err) != CD_OK)
        return -1;
    hc->a.residual = v->residual;
    if (v->residual) {
        hc->n_in = 2;
        hc->in[1] = out;
    }
    struct cd_tref in = { .shape = hc->in[0] };
    struct cd_exec_node e = { .name = "geo", .op = CD_OP_CONV, .a = &hc->a,
                              .n_in = 1, .in = &in };
    e.has_w[0] = true;
    e.w[0].shape = hc->w[0];
    e.out.shape = out;
    if (cd_cl_conv_geo(&e, g, &err) != CD_OK)
        return -1;
    return cd_cl_conv_is_depthwise(g) ? 0 : -1;
}

/* _i = depthwise variant (CD_DW_GENERIC ..) */
START_TEST(dw_variant_matches_reference)
{
    int v = _i;
    struct cd_backend *cl = cd_harness_cl();
    if (!cl)
        return;
    int ran = 0;
    for (int i = 0; i < N_SPECS; i++) {
        struct cd_harness_case hc;
        struct cd_cl_conv_geo g;
        char what[96];
        ck_assert_msg(make_case(&specs[i], &hc, &g) == 0, "spec %d", i);
        if (!cd_cl_conv_dw_variant_ok(cl->impl, &g, v))
            continue;
        snprintf(what, sizeof what, "depthwise %s, spec %d",
                 cd_dw_variant_name(v), i);
        cd_cl_conv_dw_force(cl->impl, v);
        ck_assert_int_eq(cd_cl_conv_dw_pick(cl->impl, &g), v);
        harness_check_cl(&hc, 700 + (unsigned)i, TOL, what);
        cd_cl_conv_dw_force(cl->impl, CD_DW_AUTO);
        ran++;
    }
    ck_assert_msg(ran >= (v == CD_DW_LARGE ? 4 : MIN_CASES),
                  "depthwise %s ran on only %d shapes",
                  cd_dw_variant_name(v), ran);
}
END_TEST

/* Without forcing: the per-shape choice fits and matches. */
START_TEST(dw_choice_matches_reference)
{
    struct cd_backend *cl = cd_harness_cl();
    if (!cl)
        return;
    struct cd_harness_case hc;
    struct cd_cl_conv_geo g;
    char what[64];
    ck_assert(make_case(&specs[_i], &hc, &g) == 0);
    int v = cd_cl_conv_dw_pick(cl->impl, &g);
    ck_assert_msg(cd_cl_conv_dw_variant_ok(cl->impl, &g, v), "picked %s, "
                  "which does not fit spec %d", cd_dw_variant_name(v), _i);
    snprintf(what, sizeof what, "depthwise choice (%s), spec %d",
             cd_dw_variant_name(v), _i);
    harness_check_cl(&hc, 900 + (unsigned)_i, TOL, what);
}
END_TEST

/* A forced variant that does not fit falls back to the per-shape choice;
 * out-of-range variants are ignored. */
START_TEST(dw_force_falls_back)
{
    struct cd_backend *cl = cd_harness_cl();
    if (!cl)
        return;
    struct cd_harness_case hc;
    struct cd_cl_conv_geo g;
    ck_assert(make_case(&specs[N_SPECS - 1], &hc, &g) == 0); /* 1-D */
    int chosen = cd_cl_conv_dw_pick(cl->impl, &g);
    ck_assert_int_eq(chosen, CD_DW_GENERIC);
    cd_cl_conv_dw_force(cl->impl, CD_DW_FIXED);
    ck_assert_int_eq(cd_cl_conv_dw_pick(cl->impl, &g), CD_DW_GENERIC);
    cd_cl_conv_dw_force(cl->impl, CD_DW_VARIANT_COUNT + 3);
    ck_assert_int_eq(((struct cd_cl_backend *)cl->impl)->dw_force,
                     CD_DW_AUTO);
    ck_assert_str_eq(cd_dw_variant_name(CD_DW_FIXED), "fixed");
    ck_assert_str_eq(cd_dw_variant_name(-1), "?");
}
END_TEST

static Suite *conv_dw_suite(void)
{
    Suite *s = suite_create("ops_cl_conv_dw");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, dw_variant_matches_reference, CD_DW_GENERIC,
                        CD_DW_VARIANT_COUNT);
    tcase_add_loop_test(tc, dw_choice_matches_reference, 0, N_SPECS);
    tcase_add_test(tc, dw_force_falls_back);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(conv_dw_suite)
