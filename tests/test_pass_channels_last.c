/* test_pass_channels_last.c — pass_channels_last.c on a ConvNeXt-like block
 * built in memory (depthwise conv -> permute(0,2,3,1) -> layernorm(last)
 * -> linear -> gelu -> linear -> permute(0,3,1,2) -> layer-scale mul ->
 * residual add): the rewritten graph must give the unrewritten graph's
 * outputs on the reference backend and on OpenCL at batch 3, both with the
 * layer scale folded across the permute (the default pipeline) and with the
 * whole sandwich run on NCHW (1x1 convs, residual fused); and the passes
 * must leave every near miss alone. */
#include "check_main.h"
#include "graph_fixture.h"
#include "op_harness.h"

#include "engine/passes.h"
#include "engine/runner.h"

#include <math.h>

#define BATCH 3
#define C 8
#define HW 5
#define OUT_N (C * HW * HW)

enum variant {
    PLAIN,       /* the block as torchvision's ConvNeXt has it */
    KEEP_L2,     /* l2 is the CAM layer: nothing may fold into it */
    BAD_PERM,    /* the closing permute is (0,3,2,1): H and W swapped */
    FULL_SCALE,  /* the mul's constant is (C,H,W), not per channel */
    W_SCALE,     /* the mul's constant is (1,1,W): per column, not channel */
    L2_ACT,      /* l2 has a relu after it: the scale may not fold */
};

static int fx_linear(struct cd_graph *g, const char *name, const char *in,
                     int n, int k, unsigned seed)
{
    int id = fx_node(g, name, CD_OP_LINEAR, 1, (const char *[]){ in });
    char nm[64];
    snprintf(nm, sizeof nm, "%s.w", name);
    g->nodes[id].w[0] = fx_weight(g, nm, 2, (int64_t[]){ n, k }, seed, 0);
    snprintf(nm, sizeof nm, "%s.b", name);
    g->nodes[id].w[1] = fx_weight(g, nm, 1, (int64_t[]){ n }, seed + 1, 0);
    return id;
}

static void set_perm(struct cd_graph *g, int id, int p1, int p2, int p3)
{
    g->nodes[id].a.n_perm = 4;
    g->nodes[id].a.perm[0] = 0;
    g->nodes[id].a.perm[1] = p1;
    g->nodes[id].a.perm[2] = p2;
    g->nodes[id].a.perm[3] = p3;
}

/* x(1,C,5,5) -> dw 3x3 pad 1 -> p1 -> ln -> l1 (4C) -> gelu -> l2 (C)
 * [-> relu] -> p2 -> ms (mul by (C,1,1), reverse) -> res (add x) = output. */
static struct cd_model *block_model(enum variant v)
{
    struct cd_model *m = calloc(1, sizeof *m);
    m->refcount = 1;
    m->name = strdup("convnext-fixture");
    struct cd_graph *g = &m->g;
    cd_graph_init(g);
    int x = cd_graph_add_value(g, "x");
    g->values[x].is_input = true;
    g->values[x].shape = cd_shape_make(4, (int64_t[]){ 1, C, HW, HW });
    g->n_inputs = 1;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = x;
    int id = fx_node(g, "dw", CD_OP_CONV, 1, (const char *[]){ "x" });
    g->nodes[id].w[0] = fx_weight(g, "dw.w", 4, (int64_t[]){ C, 1, 3, 3 }, 1, 0);
    g->nodes[id].w[1] = fx_weight(g, "dw.b", 1, (int64_t[]){ C }, 2, 0);
    g->nodes[id].a.groups = C;
    for (int d = 0; d < 2; d++)
        g->nodes[id].a.pad_begin[d] = g->nodes[id].a.pad_end[d] = 1;
    set_perm(g, fx_node(g, "p1", CD_OP_PERMUTE, 1, (const char *[]){ "dw" }),
             2, 3, 1);
    id = fx_node(g, "ln", CD_OP_LAYERNORM, 1, (const char *[]){ "p1" });
    g->nodes[id].a.axis = -1;
    g->nodes[id].a.eps = 1e-6f;
    g->nodes[id].w[0] = fx_weight(g, "ln.w", 1, (int64_t[]){ C }, 3, 0.5f);
    g->nodes[id].w[1] = fx_weight(g, "ln.b", 1, (int64_t[]){ C }, 4, 0);
    fx_linear(g, "l1", "ln", 4 * C, C, 5);
    fx_node(g, "act", CD_OP_GELU, 1, (const char *[]){ "l1" });
    fx_linear(g, "l2", "act", C, 4 * C, 7);
    const char *last = "l2";
    if (v == L2_ACT) {
        fx_node(g, "r2", CD_OP_RELU, 1, (const char *[]){ "l2" });
        last = "r2";
    }
    id = fx_node(g, "p2", CD_OP_PERMUTE, 1, (const char *[]){ last });
    if (v == BAD_PERM)
        set_perm(g, id, 3, 2, 1);
    else
        set_perm(g, id, 3, 1, 2);
    id = fx_node(g, "ms", CD_OP_MUL, 1, (const char *[]){ "p2" });
    g->nodes[id].a.reverse = 1;
    int64_t sd[3] = { C, 1, 1 };
    if (v == FULL_SCALE)
        sd[1] = sd[2] = HW;
    if (v == W_SCALE) {
        sd[0] = 1;
        sd[2] = HW;
    }
    g->nodes[id].w[0] = fx_weight(g, "ms.s", 3, sd, 9, 0.5f);
    int out = g->nodes[fx_node(g, "res", CD_OP_ADD, 2,
                               (const char *[]){ "ms", "x" })].out;
    g->values[out].is_output = true;
    g->n_outputs = 1;
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = out;
    if (v == KEEP_L2)
        g->values[cd_graph_find_value(g, "l2")].keep = true;
    return m;
}

enum pipeline { NONE, DEFAULT, NCHW };

/* NONE: shapes only; DEFAULT: cd_passes_run; NCHW: the sandwich rewrite
 * first, then cd_passes_run (scale fold into the 1x1 conv, residual fused). */
static void prepare(struct cd_model *m, enum pipeline p,
                    struct cd_pass_stats *st, int *n_sandwich)
{
    struct cd_err err = { 0 };
    struct cd_graph *g = &m->g;
    ck_assert_msg(cd_graph_toposort(g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_graph_infer_shapes(g, &err) == CD_OK, "%s", err.msg);
    if (p == NCHW) {
        struct cd_pass_stats first = { 0 };
        ck_assert_msg(cd_pass_channels_first(g, &first, &err) == CD_OK, "%s",
                      err.msg);
        *n_sandwich = first.n_permute_pairs_dropped;
        ck_assert_msg(cd_graph_toposort(g, &err) == CD_OK, "%s", err.msg);
        ck_assert_msg(cd_graph_infer_shapes(g, &err) == CD_OK, "%s", err.msg);
    }
    if (p != NONE)
        ck_assert_msg(cd_passes_run(g, st, &err) == CD_OK, "%s", err.msg);
}

static void run(struct cd_model *m, struct cd_backend *be, const float *x,
                float *out)
{
    struct cd_err err = { 0 };
    struct cd_runner *r = NULL;
    ck_assert_msg(cd_runner_init(&r, m, be, BATCH, &err) == CD_OK, "%s",
                  err.msg);
    ck_assert_msg(cd_runner_run(r, x, BATCH, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_runner_read_output(r, 0, out, BATCH, &err) == CD_OK,
                  "%s", err.msg);
    cd_runner_free(r);
}

static void close_enough(const float *want, const float *got, int n,
                         const char *what)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(want[i] - got[i]) <= 1e-4f * (1 + fabsf(want[i])),
                      "%s[%d]: %g vs %g", what, i, want[i], got[i]);
}

static int live_ops(const struct cd_graph *g, enum cd_op op)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += !g->nodes[i].dead && g->nodes[i].op == op;
    return n;
}

/* Unrewritten graph on ref vs the rewritten one on ref and OpenCL; returns
 * the pass statistics of the rewritten one. */
static struct cd_pass_stats check(enum variant v, enum pipeline p,
                                  int *n_sandwich, struct cd_model **keep)
{
    struct cd_model *a = block_model(v), *b = block_model(v);
    struct cd_pass_stats st = { 0 };
    *n_sandwich = 0;
    prepare(a, NONE, NULL, NULL);
    prepare(b, p, &st, n_sandwich);
    static float x[BATCH * OUT_N], want[BATCH * OUT_N], got[BATCH * OUT_N];
    unsigned s = 11;
    for (int i = 0; i < BATCH * OUT_N; i++)
        x[i] = fx_rand(&s) * 2.0f;
    run(a, cd_harness_ref(), x, want);
    run(b, cd_harness_ref(), x, got);
    close_enough(want, got, BATCH * OUT_N, "ref");
    struct cd_backend *cl = cd_harness_cl();
    if (cl) {
        run(b, cl, x, got);
        close_enough(want, got, BATCH * OUT_N, "opencl");
    }
    cd_model_unref(a);
    *keep = b;
    return st;
}

START_TEST(layer_scale_folds_across_permute)
{
    int sw;
    struct cd_model *m;
    struct cd_pass_stats st = check(PLAIN, DEFAULT, &sw, &m);
    ck_assert_int_eq(st.n_scale_folded, 1);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_MUL), 0);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_PERMUTE), 2);
    /* the scaled copy is new: the model's own l2 weight is untouched */
    const struct cd_node *l2 = &m->g.nodes[m->g.values[
        cd_graph_find_value(&m->g, "l2")].producer];
    ck_assert_int_ne(l2->w[0], cd_graph_find_weight(&m->g, "l2.w"));
    cd_model_unref(m);
}
END_TEST

START_TEST(sandwich_runs_on_nchw)
{
    int sw;
    struct cd_model *m;
    struct cd_pass_stats st = check(PLAIN, NCHW, &sw, &m);
    ck_assert_int_eq(sw, 1);
    ck_assert_int_eq(st.n_scale_folded, 1);
    ck_assert_int_eq(st.n_residual_fused, 1);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_PERMUTE), 0);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_LINEAR), 0);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_ADD), 0);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_CONV), 3);
    cd_model_unref(m);
}
END_TEST

START_TEST(kept_value_blocks_both)
{
    int sw;
    struct cd_model *m;
    struct cd_pass_stats st = check(KEEP_L2, NCHW, &sw, &m);
    ck_assert_int_eq(sw, 0);
    ck_assert_int_eq(st.n_scale_folded, 0);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_MUL), 1);
    cd_model_unref(m);
}
END_TEST

START_TEST(swapped_permute_is_not_a_sandwich)
{
    int sw;
    struct cd_model *m;
    /* perm (0,3,2,1) transposes H and W: no NCHW rewrite; its dim 1 is
     * still the linear's last dim, so the scale folds across it */
    struct cd_pass_stats st = check(BAD_PERM, NCHW, &sw, &m);
    ck_assert_int_eq(sw, 0);
    ck_assert_int_eq(st.n_scale_folded, 1);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_PERMUTE), 2);
    cd_model_unref(m);
}
END_TEST

START_TEST(scale_along_width_is_not_folded)
{
    int sw;
    struct cd_model *m;
    /* (1,1,W) varies along dim 3, which the permute takes from the
     * linear's dim 2 (W), not its output features */
    struct cd_pass_stats st = check(W_SCALE, DEFAULT, &sw, &m);
    ck_assert_int_eq(st.n_scale_folded, 0);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_MUL), 1);
    cd_model_unref(m);
    st = check(W_SCALE, NCHW, &sw, &m);
    ck_assert_int_eq(sw, 1);
    ck_assert_int_eq(st.n_scale_folded, 0);
    cd_model_unref(m);
}
END_TEST

START_TEST(full_tensor_scale_is_not_folded)
{
    int sw;
    struct cd_model *m;
    struct cd_pass_stats st = check(FULL_SCALE, NCHW, &sw, &m);
    ck_assert_int_eq(sw, 1);
    ck_assert_int_eq(st.n_scale_folded, 0);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_MUL), 1);
    cd_model_unref(m);
}
END_TEST

START_TEST(scale_after_activation_is_not_folded)
{
    int sw;
    struct cd_model *m;
    /* relu(l2) * s: the chain still runs on NCHW (relu fused into the 1x1
     * conv), but the scale stays a mul */
    struct cd_pass_stats st = check(L2_ACT, NCHW, &sw, &m);
    ck_assert_int_eq(sw, 1);
    ck_assert_int_eq(st.n_scale_folded, 0);
    ck_assert_int_eq(live_ops(&m->g, CD_OP_MUL), 1);
    cd_model_unref(m);
    struct cd_pass_stats st2 = check(L2_ACT, DEFAULT, &sw, &m);
    ck_assert_int_eq(st2.n_scale_folded, 0);
    cd_model_unref(m);
}
END_TEST

static Suite *pass_channels_last_suite(void)
{
    Suite *s = suite_create("pass_channels_last");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, layer_scale_folds_across_permute);
    tcase_add_test(tc, sandwich_runs_on_nchw);
    tcase_add_test(tc, kept_value_blocks_both);
    tcase_add_test(tc, swapped_permute_is_not_a_sandwich);
    tcase_add_test(tc, scale_along_width_is_not_folded);
    tcase_add_test(tc, full_tensor_scale_is_not_folded);
    tcase_add_test(tc, scale_after_activation_is_not_folded);
    suite_add_tcase(s, tc);
    return s;
}

CD_TEST_MAIN(pass_channels_last_suite)
