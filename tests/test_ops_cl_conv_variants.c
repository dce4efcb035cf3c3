/* test_ops_cl_conv_variants.c — every convolution kernel variant the
 * per-layer selection (daemon/engine/conv_select.c) can pick, forced in
 * turn on shapes with odd sizes, stride 2, asymmetric padding, dilation,
 * groups, 1-D and 3-D pointwise, channel counts that are not a multiple of
 * 16, rows wider than the border staging buffer, batch 1 and 3 and fused
 * bias/activation/residual, each compared with the C reference, the packed
 * kernels both on a zero-padded copy of the input and testing the borders
 * themselves. Each variant must have run on at least MIN_CASES shapes. */
#include "engine/cl_backend.h"
#include "engine/conv_select.h"
#include "engine/op_shape.h"
#include "harness_check.h"
#include "op_harness.h"

#include <check.h>

#define TOL 2e-5
#define MIN_CASES 6

struct vspec {
    int nsp, cin, cout, groups;
    int in[3], k[3], s[3], d[3], pb[3], pe[3];
    int bias, act, residual, batch;
};

static const struct vspec specs[] = {
    /* 3x3 pad 1: Cout not a multiple of 16, residual, batch 3 */
    { 2, 19, 40, 1, { 13, 30 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_RELU, .residual = 1, .batch = 3 },
    /* 3x3 stride 2, odd sizes */
    { 2, 8, 33, 1, { 17, 31 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .act = CD_ACT_LEAKY_RELU, .batch = 1 },
    /* pointwise: HW = 99, not a multiple of any tile, residual */
    { 2, 24, 70, 1, { 9, 11 }, { 1, 1 }, .bias = 1, .act = CD_ACT_GELU,
      .residual = 1, .batch = 3 },
    /* grouped pointwise, 24 output channels per group */
    { 2, 32, 48, 2, { 10, 13 }, { 1, 1 }, .act = CD_ACT_SIGMOID,
      .residual = 1, .batch = 3 },
    /* 1x1 stride 2 */
    { 2, 16, 48, 1, { 15, 15 }, { 1, 1 }, { 2, 2 }, .bias = 1, .batch = 1 },
    /* 7x7 stride 2 stem, 3 input channels */
    { 2, 3, 20, 1, { 33, 35 }, { 7, 7 }, { 2, 2 }, .pb = { 3, 3 },
      .pe = { 3, 3 }, .act = CD_ACT_RELU, .batch = 3 },
    /* dilation 2 */
    { 2, 12, 32, 1, { 20, 23 }, { 3, 3 }, .d = { 2, 2 }, .pb = { 2, 2 },
      .pe = { 2, 2 }, .bias = 1, .act = CD_ACT_SILU, .batch = 3 },
    /* groups 2, Cout_g 20 */
    { 2, 16, 40, 2, { 12, 18 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .residual = 1, .batch = 1 },
    /* asymmetric padding, 3x2 kernel */
    { 2, 5, 17, 1, { 9, 10 }, { 3, 2 }, .pb = { 1, 0 }, .pe = { 2, 1 },
      .act = CD_ACT_HARDSWISH, .batch = 3 },
    /* 1-D stride 1 and stride 2 */
    { 1, 6, 36, 1, { 50 }, { 5 }, .pb = { 2 }, .pe = { 2 }, .bias = 1,
      .act = CD_ACT_TANH, .batch = 3 },
    { 1, 8, 16, 1, { 41 }, { 3 }, { 2 }, .pb = { 1 }, .pe = { 1 },
      .batch = 1 },
    /* a 1x31 dilated row wider than the staging buffer */
    { 2, 4, 16, 1, { 3, 40 }, { 1, 31 }, .d = { 1, 3 }, .pb = { 0, 45 },
      .pe = { 0, 45 }, .bias = 1, .batch = 1 },
    /* 3-D pointwise */
    { 3, 8, 20, 1, { 3, 4, 5 }, { 1, 1, 1 }, .bias = 1, .act = CD_ACT_CLAMP,
      .batch = 3 },
    /* 7-wide rows (resnet's last stage), 64 channels */
    { 2, 32, 64, 1, { 7, 7 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_RELU, .residual = 1, .batch = 3 },
    /* 14x14, stride 2 from 28x28 with 48 channels */
    { 2, 20, 48, 1, { 28, 28 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .act = CD_ACT_RELU6, .batch = 1 },
    /* 56-wide rows: interior and border tiles */
    { 2, 16, 32, 1, { 6, 56 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .residual = 1, .batch = 3 },
    /* 3x3 stride 1 for Winograd: 14x14 (partial last tile row/column,
     * 4 tiles of 16 per tile row), C and K not multiples of 16, relu */
    { 2, 21, 37, 1, { 14, 14 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_RELU, .residual = 1, .batch = 2 },
    /* 56x56: 14 tiles per row, T = 196 not a multiple of 7 or 14 */
    { 2, 8, 16, 1, { 56, 56 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .batch = 1 },
    /* unpadded 3x3 (valid conv), odd sizes, 80 tiles per row (several
     * 16-tile blocks), K = 70 (a partial channel vector past 4 blocks) */
    { 2, 5, 70, 1, { 11, 322 }, { 3, 3 }, .act = CD_ACT_SILU, .batch = 1 },
    /* 56x57 at batch 2: Winograd in one pass per sample (its scratch per
     * sample is over half its cache budget), 15 tiles per tile row */
    { 2, 40, 24, 1, { 56, 57 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_RELU, .residual = 1, .batch = 2 },
    /* 15x17, 32->48 at batch 2: 40 tiles, the heuristic's Winograd pick */
    { 2, 32, 48, 1, { 15, 17 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_LEAKY_RELU, .residual = 1, .batch = 2 },
    /* asymmetric padding 2/0 on a 3x3, batch 3 */
    { 2, 9, 20, 1, { 10, 9 }, { 3, 3 }, .pb = { 2, 0 }, .pe = { 0, 2 },
      .residual = 1, .batch = 3 },
};
#define N_SPECS ((int)(sizeof specs / sizeof specs[0]))

/* The harness case of s, and its conv geometry for variant_ok. */
static int make_case(const struct vspec *v, struct cd_harness_case *hc,
                     struct cd_cl_conv_geo *g)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_CONV;
    cd_attrs_default(&hc->a, CD_OP_CONV);
    hc->a.nsp = v->nsp;
    hc->a.groups = v->groups;
    hc->a.act = v->act;
    hc->a.act_alpha = v->act == CD_ACT_CLAMP ? -0.5f : 0.1f;
    hc->a.act_beta = 0.7f;
    hc->in[0].ndim = hc->w[0].ndim = 2 + v->nsp;
    hc->in[0].dim[0] = 1;
    hc->in[0].dim[1] = v->cin;
    hc->w[0].dim[0] = v->cout;
    hc->w[0].dim[1] = v->cin / v->groups;
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
        hc->w[1].dim[0] = v->cout;
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
    /* the geometry the dispatcher derives, via a node like the harness's */
    struct cd_tref in = { .shape = hc->in[0] };
    struct cd_exec_node e = { .name = "geo", .op = CD_OP_CONV, .a = &hc->a,
                              .n_in = 1, .in = &in };
    e.has_w[0] = true;
    e.w[0].shape = hc->w[0];
    e.out.shape = out;
    return cd_cl_conv_geo(&e, g, &err) == CD_OK ? 0 : -1;
}

/* _i = 2 * variant + (packed kernels on unpadded input) */
START_TEST(variant_matches_reference)
{
    int v = _i / 2;
    bool unpadded = _i % 2;
    struct cd_backend *cl = cd_harness_cl();
    if (!cl)
        return;
    int ran = 0;
    for (int i = 0; i < N_SPECS; i++) {
        struct cd_harness_case hc;
        struct cd_cl_conv_geo g;
        char what[96];
        ck_assert_msg(make_case(&specs[i], &hc, &g) == 0, "spec %d", i);
        if (!cd_cl_conv_variant_ok(&g, v))
            continue;
        snprintf(what, sizeof what, "variant %s%s, spec %d",
                 cd_conv_variant_name(v), unpadded ? " unpadded" : "", i);
        cd_conv_select_force(cl->impl, v);
        cd_conv_select_padding(cl->impl, !unpadded);
        harness_check_cl(&hc, 300 + (unsigned)i, TOL, what);
        cd_conv_select_padding(cl->impl, true);
        cd_conv_select_force(cl->impl, -1);
        ran++;
    }
    bool gemm = v == CD_CONV_GEMM || v == CD_CONV_GEMM32;
    ck_assert_msg(gemm ? ran >= 2 : ran >= MIN_CASES,
                  "variant %s ran on only %d shapes",
                  cd_conv_variant_name(v), ran);
}
END_TEST

/* Without forcing, the heuristic's choice for each spec. */
START_TEST(heuristic_matches_reference)
{
    struct cd_harness_case hc;
    struct cd_cl_conv_geo g;
    char what[64];
    ck_assert(make_case(&specs[_i], &hc, &g) == 0);
    int v = cd_conv_select_heuristic(&g, hc.batch);
    ck_assert_msg(cd_cl_conv_variant_ok(&g, v), "heuristic picked %s, which "
                  "does not fit spec %d", cd_conv_variant_name(v), _i);
    snprintf(what, sizeof what, "heuristic (%s), spec %d",
             cd_conv_variant_name(v), _i);
    harness_check_cl(&hc, 500 + (unsigned)_i, TOL, what);
}
END_TEST

static Suite *conv_variants_suite(void)
{
    Suite *s = suite_create("ops_cl_conv_variants");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, variant_matches_reference, 0,
                        2 * CD_CONV_VARIANT_COUNT);
    tcase_add_loop_test(tc, heuristic_matches_reference, 0, N_SPECS);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(conv_variants_suite)
