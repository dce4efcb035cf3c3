/* test_reparam.c — pass_reparam.c (UniRepLKNet dilated re-param merge): the
 * merged graph (one depthwise conv) computes what the unmerged training form
 * (large depthwise conv + dilated small-kernel branches, each with BatchNorm,
 * summed) computes, on the reference backend with random data; the pass
 * refuses non-centred paddings, differing strides, non-depthwise branches and
 * observable branch values, and counts what it merged. Also: the OpenCL
 * large-kernel depthwise path (cd_conv_dwlk, which runs merged kernels)
 * against the C reference for k = 5..31, odd sizes and fused epilogues. */
#include "check_main.h"
#include "graph_fixture.h"
#include "op_harness.h"

#include "engine/op_shape.h"
#include "engine/passes.h"
#include "engine/runner.h"

#include <math.h>

struct branch {
    int k, dil, stride, groups1; /* groups1: a dense (groups = 1) branch */
    int pb_shift;                /* moves padding off-centre (same size) */
    bool keep;                   /* branch value observable */
};

/* x (1,C,H,W) -> for each branch: conv -> bn; left-deep add chain -> relu. */
static struct cd_model *build(int c, int h, int w, const struct branch *br,
                              int nb, unsigned seed)
{
    struct cd_model *m = calloc(1, sizeof *m);
    m->refcount = 1;
    m->name = strdup("reparam");
    struct cd_graph *g = &m->g;
    cd_graph_init(g);
    int x = cd_graph_add_value(g, "x");
    g->values[x].is_input = true;
    g->values[x].shape = cd_shape_make(4, (int64_t[]){ 1, c, h, w });
    g->n_inputs = 1;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = x;
    char prev[32] = "", nm[32], bn[32], wn[48];
    for (int i = 0; i < nb; i++) {
        snprintf(nm, sizeof nm, "conv%d", i);
        int id = fx_node(g, nm, CD_OP_CONV, 1, (const char *[]){ "x" });
        struct cd_node *n = &g->nodes[id];
        int cin = br[i].groups1 ? c : 1;
        n->a.groups = br[i].groups1 ? 1 : c;
        int span = br[i].dil * (br[i].k - 1);
        for (int j = 0; j < 2; j++) {
            n->a.stride[j] = br[i].stride ? br[i].stride : 1;
            n->a.dilation[j] = br[i].dil;
            n->a.pad_begin[j] = span / 2 + br[i].pb_shift;
            n->a.pad_end[j] = span / 2 - br[i].pb_shift;
        }
        snprintf(wn, sizeof wn, "%s.w", nm);
        int wid = fx_weight(g, wn, 4, (int64_t[]){ c, cin, br[i].k, br[i].k },
                            seed + 10 * i, 0);
        g->nodes[id].w[0] = wid;
        snprintf(bn, sizeof bn, "bn%d", i);
        id = fx_node(g, bn, CD_OP_BATCHNORM, 1, (const char *[]){ nm });
        const char *slot[4] = { "g", "b", "m", "v" };
        for (int j = 0; j < 4; j++) {
            snprintf(wn, sizeof wn, "%s.%s", bn, slot[j]);
            g->nodes[id].w[j] = fx_weight(g, wn, 1, (int64_t[]){ c },
                                          seed + 10 * i + j + 1,
                                          j == 3 ? 0.5f : 0.0f);
        }
        if (br[i].keep)
            g->values[cd_graph_find_value(g, bn)].keep = true;
        if (i == 0) {
            snprintf(prev, sizeof prev, "%s", bn);
        } else {
            snprintf(nm, sizeof nm, "add%d", i);
            fx_node(g, nm, CD_OP_ADD, 2, (const char *[]){ prev, bn });
            snprintf(prev, sizeof prev, "%s", nm);
        }
    }
    fx_node(g, "out", CD_OP_RELU, 1, (const char *[]){ prev });
    int out = cd_graph_find_value(g, "out");
    g->values[out].is_output = true;
    g->n_outputs = 1;
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = out;
    return m;
}

#define BR(k_, d_) { .k = k_, .dil = d_ }
#define BRS(k_, d_, s_) { .k = k_, .dil = d_, .stride = s_ }

static void run_ref(struct cd_model *m, const float *x, int batch, float *out)
{
    struct cd_err err = { 0 };
    struct cd_backend *be = NULL;
    struct cd_runner *r = NULL;
    ck_assert_int_eq(cd_backend_ref_init(&be, &err), CD_OK);
    ck_assert_msg(cd_runner_init(&r, m, be, batch, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_runner_run(r, x, batch, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_runner_read_output(r, 0, out, batch, &err) == CD_OK, "%s",
                  err.msg);
    cd_runner_free(r);
    cd_backend_free(be);
}

/* Runs the training form and the passes' result on the same random batch;
 * returns the pass stats and the merged graph's live node count. */
static struct cd_pass_stats check_equal(int c, int h, int w,
                                        const struct branch *br, int nb,
                                        int *n_nodes)
{
    struct cd_err err = { 0 };
    struct cd_model *a = build(c, h, w, br, nb, 5), *b = build(c, h, w, br, nb, 5);
    ck_assert_msg(cd_graph_toposort(&a->g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_graph_infer_shapes(&a->g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_graph_toposort(&b->g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_graph_infer_shapes(&b->g, &err) == CD_OK, "%s", err.msg);
    struct cd_pass_stats st;
    ck_assert_msg(cd_passes_run(&b->g, &st, &err) == CD_OK, "%s", err.msg);
    *n_nodes = b->g.n_nodes;
    const struct cd_shape os = a->g.values[a->g.outputs[0]].shape;
    size_t nin = (size_t)2 * c * h * w, nout = (size_t)2 * cd_shape_numel(&os);
    float *x = malloc(nin * sizeof *x), *ya = malloc(nout * sizeof *ya),
          *yb = malloc(nout * sizeof *yb);
    unsigned s = 99;
    for (size_t i = 0; i < nin; i++)
        x[i] = fx_rand(&s);
    run_ref(a, x, 2, ya);
    run_ref(b, x, 2, yb);
    double mx = 0, md = 0;
    for (size_t i = 0; i < nout; i++) {
        mx = fmax(mx, fabs(ya[i]));
        md = fmax(md, fabs(ya[i] - yb[i]));
    }
    ck_assert_msg(md <= 1e-5 * fmax(1.0, mx), "max diff %g (max |ref| %g)", md, mx);
    free(x);
    free(ya);
    free(yb);
    cd_model_unref(a);
    cd_model_unref(b);
    return st;
}

START_TEST(merge_k13_unireplknet)
{
    /* UniRepLKNet K = 13: [13] + [5,7,3,3,3] dilations [1,2,3,4,5] */
    const struct branch br[] = { BR(13, 1), BR(5, 1), BR(7, 2), BR(3, 3),
                                 BR(3, 4), BR(3, 5) };
    int nn;
    struct cd_pass_stats st = check_equal(6, 17, 15, br, 6, &nn);
    ck_assert_int_eq(st.n_bn_folded, 6);
    ck_assert_int_eq(st.n_reparam_merged, 1);
    ck_assert_int_eq(st.n_act_fused, 1);
    ck_assert_int_eq(nn, 1); /* one depthwise conv with a fused relu */
}
END_TEST

START_TEST(merge_k31_and_stride2)
{
    /* branches wider than the "large" kernel: merged size is the max */
    const struct branch br[] = { BR(31, 1), BR(5, 1), BR(7, 3), BR(9, 3),
                                 BR(3, 5), BR(3, 7) };
    int nn;
    struct cd_pass_stats st = check_equal(3, 35, 33, br, 6, &nn);
    ck_assert_int_eq(st.n_reparam_merged, 1);
    ck_assert_int_eq(nn, 1);
    const struct branch s2[] = { BRS(7, 1, 2), BRS(3, 2, 2), BRS(3, 1, 2) };
    st = check_equal(4, 13, 11, s2, 3, &nn);
    ck_assert_int_eq(st.n_reparam_merged, 1);
    const struct branch big[] = { BR(3, 1), BR(5, 4) }; /* effective 17 > 3 */
    st = check_equal(2, 9, 9, big, 2, &nn);
    ck_assert_int_eq(st.n_reparam_merged, 1);
}
END_TEST

START_TEST(refuse_off_centre_padding)
{
    const struct branch br[] = { BR(7, 1), { .k = 3, .dil = 2, .pb_shift = 1 } };
    int nn;
    struct cd_pass_stats st = check_equal(4, 11, 9, br, 2, &nn);
    ck_assert_int_eq(st.n_reparam_merged, 0);
    ck_assert_int_eq(st.n_bn_folded, 2);
    ck_assert_int_gt(nn, 1);
}
END_TEST

START_TEST(refuse_different_strides)
{
    /* 1x1 spatial: stride 1 and 2 give the same shape, the pass must not
     * merge them anyway */
    const struct branch br[] = { BRS(3, 1, 1), BRS(3, 1, 2) };
    int nn;
    struct cd_pass_stats st = check_equal(4, 1, 1, br, 2, &nn);
    ck_assert_int_eq(st.n_reparam_merged, 0);
}
END_TEST

START_TEST(refuse_dense_and_observable)
{
    const struct branch dense[] = { BR(5, 1), { .k = 3, .dil = 1, .groups1 = 1 } };
    int nn;
    struct cd_pass_stats st = check_equal(4, 9, 7, dense, 2, &nn);
    ck_assert_int_eq(st.n_reparam_merged, 0);
    const struct branch kept[] = { BR(5, 1), { .k = 3, .dil = 2, .keep = true } };
    st = check_equal(4, 9, 7, kept, 2, &nn);
    ck_assert_int_eq(st.n_reparam_merged, 0);
    /* three branches, the last one dense: the depthwise pair still merges */
    const struct branch mix[] = { BR(5, 1), BR(3, 2), { .k = 3, .dil = 1, .groups1 = 1 } };
    st = check_equal(4, 9, 7, mix, 3, &nn);
    ck_assert_int_eq(st.n_reparam_merged, 1);
}
END_TEST

/* depthwise conv k x k, centred or asymmetric padding, on both backends */
static void dw_cl_case(int c, int h, int w, int kh, int kw, int pb, int pe,
                       int act, int residual, int batch, unsigned seed)
{
    struct cd_harness_case hc;
    memset(&hc, 0, sizeof hc);
    hc.op = CD_OP_CONV;
    cd_attrs_default(&hc.a, CD_OP_CONV);
    hc.a.nsp = 2;
    hc.a.groups = c;
    hc.a.act = act;
    hc.a.pad_begin[0] = hc.a.pad_begin[1] = pb;
    hc.a.pad_end[0] = hc.a.pad_end[1] = pe;
    hc.in[0] = cd_shape_make(4, (int64_t[]){ 1, c, h, w });
    hc.n_in = 1;
    hc.batch = batch;
    hc.w[0] = cd_shape_make(4, (int64_t[]){ c, 1, kh, kw });
    hc.w[1] = cd_shape_make(1, (int64_t[]){ c });
    if (residual) {
        struct cd_shape o;
        struct cd_err err = { 0 };
        ck_assert_int_eq(cd_shape_conv(&hc.a, 1, hc.in, hc.w, &o, &err), CD_OK);
        hc.in[1] = o;
        hc.n_in = 2;
        hc.a.residual = 1;
    }
    char msg[512] = "";
    double rel;
    int rc = cd_harness_compare(&hc, seed, 1e-5, &rel, msg, sizeof msg);
    ck_assert_msg(rc == CD_OK, "dw %dx%d c %d in %dx%d pad %d/%d: %s", kh, kw,
                  c, h, w, pb, pe, msg);
}

START_TEST(large_dw_cl_vs_ref)
{
    if (!cd_harness_cl()) {
        fprintf(stderr, "skip: no OpenCL backend\n");
        return;
    }
    static const int ks[] = { 5, 7, 9, 13, 17, 31 };
    static const int hw[][2] = { { 4, 5 }, { 13, 11 }, { 35, 33 }, { 56, 56 },
                                 { 19, 70 } };
    int n = 0;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 5; j++, n++) {
            int k = ks[i];
            dw_cl_case(3 + n % 4, hw[j][0], hw[j][1], k, k, k / 2, k / 2,
                       n % 3 == 0 ? CD_ACT_RELU : CD_ACT_NONE, n % 2,
                       1 + n % 3, (unsigned)n + 1);
        }
    /* rectangular, asymmetric padding, output smaller/larger than input */
    dw_cl_case(5, 17, 23, 13, 7, 2, 9, CD_ACT_GELU, 0, 2, 101);
    dw_cl_case(4, 33, 40, 31, 5, 15, 0, CD_ACT_NONE, 1, 2, 102);
    dw_cl_case(2, 31, 31, 31, 31, 0, 0, CD_ACT_NONE, 0, 3, 103);
}
END_TEST

static Suite *reparam_suite(void)
{
    Suite *s = suite_create("reparam");
    TCase *tc = tcase_create("merge");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, merge_k13_unireplknet);
    tcase_add_test(tc, merge_k31_and_stride2);
    tcase_add_test(tc, refuse_off_centre_padding);
    tcase_add_test(tc, refuse_different_strides);
    tcase_add_test(tc, refuse_dense_and_observable);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("large_dw");
    tcase_set_timeout(tl, 120);
    tcase_add_test(tl, large_dw_cl_vs_ref);
    suite_add_tcase(s, tl);
    return s;
}

CD_TEST_MAIN(reparam_suite)
