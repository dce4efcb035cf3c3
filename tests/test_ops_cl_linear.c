/* test_ops_cl_linear.c — every kernel variant of the linear op
 * (daemon/engine/ops_cl_linear.c), forced in turn, and the per-shape
 * choice, compared with the C reference on shapes with tails: K not a
 * multiple of 16, N not a multiple of any tile width, rows not a multiple
 * of any tile height, 1 to 3 rows, K = 1, N < 16, with and without bias,
 * every fused activation (GELU included) and residual; the packed variants
 * also with several column and row tiles per work-item, the last ones
 * partial. */
#include "engine/cl_backend.h"
#include "engine/conv_select.h"
#include "harness_check.h"
#include "op_harness.h"

#include <check.h>

#define TOL 2e-5

struct lspec {
    int lead[2];       /* leading per-sample dims (0: absent) */
    int k, n, bias, act, residual, batch;
};

static const struct lspec specs[] = {
    /* 1 to 3 rows */
    { { 0 }, 37, 19, 1, CD_ACT_RELU, 1, 3 },
    { { 0 }, 17, 33, 0, CD_ACT_NONE, 0, 2 },
    { { 0 }, 16, 16, 0, CD_ACT_GELU, 0, 1 },
    /* a classifier head at batch 8 */
    { { 0 }, 512, 1000, 1, CD_ACT_NONE, 0, 8 },
    /* rank 4, 105 rows, K 33, N 21 */
    { { 5, 7 }, 33, 21, 1, CD_ACT_SILU, 1, 3 },
    /* convnext-like: K 96, N 50, 26 rows, GELU */
    { { 13 }, 96, 50, 1, CD_ACT_GELU, 0, 2 },
    /* K 130, N 70, 23 rows, tanh GELU, residual */
    { { 23 }, 130, 70, 0, CD_ACT_GELU_TANH, 1, 1 },
    /* everything a multiple of every tile: 96 rows, 64 x 64 */
    { { 48 }, 64, 64, 1, CD_ACT_HARDSWISH, 0, 2 },
    /* K 1 */
    { { 7 }, 1, 5, 1, CD_ACT_LEAKY_RELU, 0, 1 },
    /* N 3 < 16 */
    { { 50 }, 200, 3, 1, CD_ACT_SIGMOID, 1, 1 },
    /* 250 rows, N 100: several row and column tiles per work-item */
    { { 10, 25 }, 40, 100, 1, CD_ACT_GELU, 1, 1 },
    { { 31 }, 24, 130, 0, CD_ACT_CLAMP, 0, 3 },
};
#define N_SPECS ((int)(sizeof specs / sizeof specs[0]))

/* Column x row tiles per work-item forced on the packed variants (0 x 0:
 * the automatic tiling). */
static const struct cd_cl_linear_tiling tilings[] = {
    { 0, 0 }, { 1, 1 }, { 2, 3 }, { 3, 2 }, { 4, 5 },
};
#define N_TILINGS ((int)(sizeof tilings / sizeof tilings[0]))

static void make_case(const struct lspec *s, struct cd_harness_case *hc)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_LINEAR;
    cd_attrs_default(&hc->a, CD_OP_LINEAR);
    hc->a.act = s->act;
    hc->a.act_alpha = s->act == CD_ACT_CLAMP ? -0.5f : 0.1f;
    hc->a.act_beta = 0.7f;
    hc->a.residual = s->residual;
    int nd = 0;
    hc->in[0].dim[nd++] = 1;
    for (int i = 0; i < 2 && s->lead[i]; i++)
        hc->in[0].dim[nd++] = s->lead[i];
    hc->in[0].dim[nd++] = s->k;
    hc->in[0].ndim = nd;
    hc->w[0].ndim = 2;
    hc->w[0].dim[0] = s->n;
    hc->w[0].dim[1] = s->k;
    if (s->bias) {
        hc->w[1].ndim = 1;
        hc->w[1].dim[0] = s->n;
    }
    hc->n_in = s->residual ? 2 : 1;
    hc->in[1] = hc->in[0];
    hc->in[1].dim[nd - 1] = s->n;
    hc->batch = s->batch;
}

/* _i = variant * N_TILINGS + tiling (dot-product variants: tiling 0 only) */
START_TEST(variant_matches_reference)
{
    int v = _i / N_TILINGS, ti = _i % N_TILINGS;
    struct cd_backend *cl = cd_harness_cl();
    if (!cl || (ti > 0 && !cd_cl_linear_variant_packed(v)))
        return;
    for (int i = 0; i < N_SPECS; i++) {
        struct cd_harness_case hc;
        char what[96];
        make_case(&specs[i], &hc);
        snprintf(what, sizeof what, "variant %s tiling %dx%d, spec %d",
                 cd_linear_variant_name(v), tilings[ti].jper,
                 tilings[ti].rper, i);
        cd_conv_select_force_linear(cl->impl, v, &tilings[ti]);
        harness_check_cl(&hc, 700 + (unsigned)i, TOL, what);
        cd_conv_select_force_linear(cl->impl, -1, NULL);
    }
}
END_TEST

/* Without forcing: the variant and tiling each shape gets by default. */
START_TEST(default_matches_reference)
{
    struct cd_harness_case hc;
    char what[64];
    make_case(&specs[_i], &hc);
    snprintf(what, sizeof what, "default choice, spec %d", _i);
    harness_check_cl(&hc, 900 + (unsigned)_i, TOL, what);
}
END_TEST

/* The automatic tiling: at least one tile each way, and enough
 * work-items on a large layer to share out. */
START_TEST(tiling_in_range)
{
    const struct cd_cl_linear_geo g = { 3136, 96, 384 };
    for (int v = 0; v < CD_LINEAR_VARIANT_COUNT; v++)
        for (int b = 1; b <= 8; b *= 2) {
            struct cd_cl_linear_tiling t;
            cd_cl_linear_tiling(&g, v, b, &t);
            ck_assert_int_ge(t.jper, 1);
            ck_assert_int_ge(t.rper, 1);
            if (!cd_cl_linear_variant_packed(v))
                ck_assert(t.jper == 1 && t.rper == 1);
        }
    ck_assert(!strcmp(cd_linear_variant_name(CD_LINEAR_VARIANT_COUNT), "?"));
}
END_TEST

static Suite *linear_suite(void)
{
    Suite *s = suite_create("ops_cl_linear");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, variant_matches_reference, 0,
                        CD_LINEAR_VARIANT_COUNT * N_TILINGS);
    tcase_add_loop_test(tc, default_matches_reference, 0, N_SPECS);
    tcase_add_test(tc, tiling_in_range);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(linear_suite)
