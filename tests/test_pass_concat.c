/* test_pass_concat.c — pass_concat.c (growing concats chained and laid in
 * place) and the batchnorm + activation fusion of passes.c, on a small
 * DenseNet-like graph built in memory: the rewritten graph must give the
 * unrewritten graph's outputs on the reference backend and on OpenCL, at
 * batch 3 (strided channel prefixes), and the pass must refuse the cases
 * where a prefix would be read by an op without batch strides or must stay
 * readable. */
#include "check_main.h"
#include "graph_fixture.h"
#include "op_harness.h"

#include "engine/passes.h"
#include "engine/runner.h"

#include <math.h>

#define BATCH 3
#define N_LAYERS 3

enum variant {
    PLAIN,        /* every layer's batchnorm reads the previous concat */
    SIDE_READER,  /* layer 2's 1x1 conv reads cat_1 directly (no batchnorm) */
    KEEP_CAT2,    /* cat_2 is the CAM layer: it must stay readable */
};

static int fx_bn(struct cd_graph *g, const char *name, const char *in, int c,
                 unsigned seed)
{
    int id = fx_node(g, name, CD_OP_BATCHNORM, 1, (const char *[]){ in });
    char nm[64];
    const char *slot[4] = { "g", "b", "m", "v" };
    for (int j = 0; j < 4; j++) {
        snprintf(nm, sizeof nm, "%s.%s", name, slot[j]);
        g->nodes[id].w[j] = fx_weight(g, nm, 1, (int64_t[]){ c }, seed + j,
                                      j == 3 ? 0.5f : 0.0f);
    }
    return id;
}

static int fx_conv(struct cd_graph *g, const char *name, const char *in,
                   int cout, int cin, int k, unsigned seed)
{
    int id = fx_node(g, name, CD_OP_CONV, 1, (const char *[]){ in });
    char nm[64];
    snprintf(nm, sizeof nm, "%s.w", name);
    g->nodes[id].w[0] = fx_weight(g, nm, 4, (int64_t[]){ cout, cin, k, k },
                                  seed, 0);
    for (int d = 0; d < 2; d++)
        g->nodes[id].a.pad_begin[d] = g->nodes[id].a.pad_end[d] = k / 2;
    return id;
}

/* x(1,3,6,6) -> conv c0 (8) -> bn0 -> relu -> maxpool 3x3/1 p0 -> three
 * dense layers (bn -> relu -> conv1x1 (4) -> bn -> relu -> conv3x3 (2);
 * cat_k = concat(p0, d_1..d_k)) -> bn_t -> sigmoid -> conv1x1 (5)
 * -> global_avgpool -> flatten -> linear (3, 5). */
static struct cd_model *dense_model(enum variant v)
{
    struct cd_model *m = calloc(1, sizeof *m);
    m->refcount = 1;
    m->name = strdup("dense-fixture");
    struct cd_graph *g = &m->g;
    cd_graph_init(g);
    int x = cd_graph_add_value(g, "x");
    g->values[x].is_input = true;
    g->values[x].shape = cd_shape_make(4, (int64_t[]){ 1, 3, 6, 6 });
    g->n_inputs = 1;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = x;
    fx_conv(g, "c0", "x", 8, 3, 3, 1);
    fx_bn(g, "bn0", "c0", 8, 2);
    fx_node(g, "r0", CD_OP_RELU, 1, (const char *[]){ "bn0" });
    int id = fx_node(g, "p0", CD_OP_MAXPOOL, 1, (const char *[]){ "r0" });
    g->nodes[id].a.nsp = 2;
    for (int d = 0; d < 2; d++) {
        g->nodes[id].a.kernel[d] = 3;
        g->nodes[id].a.pad_begin[d] = g->nodes[id].a.pad_end[d] = 1;
    }
    const char *cat_in[N_LAYERS + 1] = { "p0" };
    char nm[6][32], prev[32] = "p0";
    for (int k = 1; k <= N_LAYERS; k++) {
        int cin = 8 + 2 * (k - 1);
        unsigned s = 10u * k;
        snprintf(nm[0], 32, "bn1_%d", k);
        snprintf(nm[1], 32, "relu1_%d", k);
        snprintf(nm[2], 32, "conv1_%d", k);
        snprintf(nm[3], 32, "bn2_%d", k);
        snprintf(nm[4], 32, "relu2_%d", k);
        snprintf(nm[5], 32, "d_%d", k);
        if (v == SIDE_READER && k == 2) {
            fx_conv(g, nm[2], prev, 4, cin, 1, s + 5);
        } else {
            fx_bn(g, nm[0], prev, cin, s);
            fx_node(g, nm[1], CD_OP_RELU, 1, (const char *[]){ nm[0] });
            fx_conv(g, nm[2], nm[1], 4, cin, 1, s + 5);
        }
        fx_bn(g, nm[3], nm[2], 4, s + 6);
        fx_node(g, nm[4], CD_OP_RELU, 1, (const char *[]){ nm[3] });
        fx_conv(g, nm[5], nm[4], 2, 4, 3, s + 9);
        cat_in[k] = g->values[g->nodes[g->n_nodes - 1].out].name;
        snprintf(prev, sizeof prev, "cat_%d", k);
        fx_node(g, prev, CD_OP_CONCAT, k + 1, cat_in);
    }
    fx_bn(g, "bn_t", prev, 8 + 2 * N_LAYERS, 60);
    fx_node(g, "sig_t", CD_OP_SIGMOID, 1, (const char *[]){ "bn_t" });
    fx_conv(g, "conv_t", "sig_t", 5, 8 + 2 * N_LAYERS, 1, 65);
    fx_node(g, "gp", CD_OP_GLOBAL_AVGPOOL, 1, (const char *[]){ "conv_t" });
    fx_node(g, "fl", CD_OP_FLATTEN, 1, (const char *[]){ "gp" });
    id = fx_node(g, "fc", CD_OP_LINEAR, 1, (const char *[]){ "fl" });
    g->nodes[id].w[0] = fx_weight(g, "fc.w", 2, (int64_t[]){ 3, 5 }, 70, 0);
    g->nodes[id].w[1] = fx_weight(g, "fc.b", 1, (int64_t[]){ 3 }, 71, 0);
    int out = cd_graph_find_value(g, "fc");
    g->values[out].is_output = true;
    g->n_outputs = 1;
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = out;
    if (v == KEEP_CAT2)
        g->values[cd_graph_find_value(g, "cat_2")].keep = true;
    return m;
}

static void prepare(struct cd_model *m, bool passes, struct cd_pass_stats *st)
{
    struct cd_err err = { 0 };
    ck_assert_msg(cd_graph_toposort(&m->g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_graph_infer_shapes(&m->g, &err) == CD_OK, "%s", err.msg);
    if (passes)
        ck_assert_msg(cd_passes_run(&m->g, st, &err) == CD_OK, "%s", err.msg);
}

/* Runs m on be for BATCH samples; reads the output (3 per sample) and, when
 * kept is non-NULL, the kept value cat_2 (14 x 6 x 6 per sample). */
static void run(struct cd_model *m, struct cd_backend *be, const float *x,
                float *out, float *kept)
{
    struct cd_err err = { 0 };
    struct cd_runner *r = NULL;
    ck_assert_msg(cd_runner_init(&r, m, be, BATCH, &err) == CD_OK, "%s",
                  err.msg);
    ck_assert_msg(cd_runner_run(r, x, BATCH, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_runner_read_output(r, 0, out, BATCH, &err) == CD_OK,
                  "%s", err.msg);
    if (kept)
        ck_assert_msg(cd_runner_read_value(r, "cat_2", kept, BATCH, NULL,
                                           &err) == CD_OK, "%s", err.msg);
    cd_runner_free(r);
}

static void close_enough(const float *want, const float *got, int n,
                         const char *what)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(want[i] - got[i]) <= 1e-4f * (1 + fabsf(want[i])),
                      "%s[%d]: %g vs %g", what, i, want[i], got[i]);
}

#define KEPT_N (BATCH * 12 * 36)

/* Unrewritten graph on ref vs rewritten graph on ref and OpenCL. */
static void check_variant(enum variant v, int want_inplace)
{
    struct cd_model *a = dense_model(v), *b = dense_model(v);
    struct cd_pass_stats st;
    prepare(a, false, NULL);
    prepare(b, true, &st);
    ck_assert_int_eq(st.n_concat_chained, N_LAYERS - 1);
    ck_assert_int_eq(st.n_concat_inplace, want_inplace);
    ck_assert_int_eq(st.n_norm_act_fused, v == SIDE_READER ? 3 : 4);
    float x[BATCH * 3 * 36], want[BATCH * 3], got[BATCH * 3];
    float kw[KEPT_N], kg[KEPT_N];
    unsigned s = 5;
    for (size_t i = 0; i < sizeof x / sizeof *x; i++)
        x[i] = fx_rand(&s);
    bool keep = v == KEEP_CAT2;
    run(a, cd_harness_ref(), x, want, keep ? kw : NULL);
    run(b, cd_harness_ref(), x, got, keep ? kg : NULL);
    close_enough(want, got, BATCH * 3, "ref out");
    if (keep)
        close_enough(kw, kg, KEPT_N, "ref cat_2");
    struct cd_backend *cl = cd_harness_cl();
    if (cl) {
        run(b, cl, x, got, keep ? kg : NULL);
        close_enough(want, got, BATCH * 3, "opencl out");
        if (keep)
            close_enough(kw, kg, KEPT_N, "opencl cat_2");
    }
    cd_model_unref(a);
    cd_model_unref(b);
}

START_TEST(dense_block_in_place)
{
    check_variant(PLAIN, N_LAYERS - 1);
}
END_TEST

START_TEST(prefix_read_by_conv_is_copied)
{
    /* cat_1 feeds a conv: it keeps its own buffer; cat_2 -> cat_3 still
     * in place. */
    check_variant(SIDE_READER, 1);
}
END_TEST

START_TEST(kept_prefix_stays_contiguous)
{
    /* cat_1 may live inside cat_2 (cat_2 is a whole buffer), but cat_2 may
     * not become a strided view of cat_3. */
    check_variant(KEEP_CAT2, 1);
}
END_TEST

START_TEST(chained_concat_reads_prefix)
{
    struct cd_model *m = dense_model(PLAIN);
    struct cd_pass_stats st;
    prepare(m, true, &st);
    struct cd_graph *g = &m->g;
    int cat3 = cd_graph_find_value(g, "cat_3");
    const struct cd_node *n = &g->nodes[g->values[cat3].producer];
    ck_assert_int_eq(n->n_in, 2);
    ck_assert_int_eq(n->in[0], cd_graph_find_value(g, "cat_2"));
    ck_assert_int_eq(g->values[cd_graph_find_value(g, "cat_1")].alias_of,
                     cd_graph_find_value(g, "cat_2"));
    ck_assert_int_eq(g->values[cd_graph_find_value(g, "cat_2")].alias_of, cat3);
    ck_assert_int_lt(g->values[cat3].alias_of, 0);
    cd_model_unref(m);
}
END_TEST

START_TEST(strided_read_by_conv_is_refused)
{
    /* The planner's safety net: a conv made to read the strided cat_1 after
     * the pass must be refused at plan time, naming the node. */
    struct cd_model *m = dense_model(PLAIN);
    struct cd_pass_stats st;
    prepare(m, true, &st);
    struct cd_graph *g = &m->g;
    int conv = -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead && !strcmp(g->nodes[i].name, "conv1_2"))
            conv = i; /* now producing relu2_2: bn2 folded, relu fused */
    ck_assert_int_ge(conv, 0);
    g->nodes[conv].in[0] = cd_graph_find_value(g, "cat_1");
    struct cd_err err = { 0 };
    struct cd_runner *r = NULL;
    ck_assert_int_ne(cd_runner_init(&r, m, cd_harness_ref(), BATCH, &err),
                     CD_OK);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err.msg, "strided view"), "message: %s", err.msg);
    cd_model_unref(m);
}
END_TEST

static Suite *pass_concat_suite(void)
{
    Suite *s = suite_create("pass_concat");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, dense_block_in_place);
    tcase_add_test(tc, prefix_read_by_conv_is_copied);
    tcase_add_test(tc, kept_prefix_stays_contiguous);
    tcase_add_test(tc, chained_concat_reads_prefix);
    tcase_add_test(tc, strided_read_by_conv_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

CD_TEST_MAIN(pass_concat_suite)
