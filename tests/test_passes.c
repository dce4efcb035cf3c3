/* test_passes.c — graph.c (toposort, shape inference) and passes.c (BN fold,
 * epilogue fusion, identity drop, views): the rewritten graph must compute
 * the same outputs as the original on the reference backend. */
#include "check_main.h"
#include "graph_fixture.h"

#include "engine/passes.h"
#include "engine/runner.h"

#include <math.h>

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

static void input(float *x, size_t n)
{
    unsigned s = 7;
    for (size_t i = 0; i < n; i++)
        x[i] = fx_rand(&s);
}

START_TEST(passes_preserve_outputs)
{
    struct cd_err err = { 0 };
    struct cd_model *a = fx_resblock_model(NULL), *b = fx_resblock_model(NULL);
    ck_assert_msg(cd_graph_toposort(&a->g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_graph_infer_shapes(&a->g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_graph_toposort(&b->g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_graph_infer_shapes(&b->g, &err) == CD_OK, "%s", err.msg);
    struct cd_pass_stats st;
    ck_assert_msg(cd_passes_run(&b->g, &st, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(st.n_bn_folded, 2);
    ck_assert_int_eq(st.n_residual_fused, 1);
    ck_assert_int_eq(st.n_act_fused, 2);
    ck_assert_int_eq(st.n_aliased, 1);
    ck_assert_int_eq(b->g.n_nodes, 5); /* c1, c2, gp, fl, fc */
    float x[2 * 3 * 81], ya[10], yb[10];
    input(x, sizeof x / sizeof *x);
    run_ref(a, x, 2, ya);
    run_ref(b, x, 2, yb);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(fabsf(ya[i] - yb[i]) <= 1e-5f * (1 + fabsf(ya[i])),
                      "out[%d]: %g vs %g", i, ya[i], yb[i]);
    cd_model_unref(a);
    cd_model_unref(b);
}
END_TEST

START_TEST(kept_value_is_not_fused)
{
    struct cd_err err = { 0 };
    struct cd_model *m = fx_resblock_model("bn2");
    ck_assert_int_eq(cd_graph_toposort(&m->g, &err), CD_OK);
    ck_assert_int_eq(cd_graph_infer_shapes(&m->g, &err), CD_OK);
    struct cd_pass_stats st;
    ck_assert_int_eq(cd_passes_run(&m->g, &st, &err), CD_OK);
    /* bn2 folds into c2 (the folded conv now produces "bn2"), but the add
     * cannot be fused because bn2 must stay readable. */
    ck_assert_int_eq(st.n_bn_folded, 2);
    ck_assert_int_eq(st.n_residual_fused, 0);
    ck_assert_int_ge(cd_graph_find_value(&m->g, "bn2"), 0);
    cd_model_unref(m);
}
END_TEST

START_TEST(cycle_is_refused)
{
    struct cd_err err = { 0 };
    struct cd_model *m = fx_resblock_model(NULL);
    /* make c1 read r2: c1 -> ... -> r2 -> c1 */
    int c1 = 0;
    ck_assert_str_eq(m->g.nodes[c1].name, "c1");
    m->g.nodes[c1].in[0] = cd_graph_find_value(&m->g, "r2");
    ck_assert_int_eq(cd_graph_toposort(&m->g, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "cycle"));
    cd_model_unref(m);
}
END_TEST

START_TEST(shape_error_names_node)
{
    struct cd_err err = { 0 };
    struct cd_model *m = fx_resblock_model(NULL);
    /* fc expects 8 features; give it a (5, 7) weight */
    int fc = m->g.n_nodes - 1;
    int w = m->g.nodes[fc].w[0];
    m->g.weights[w].shape = cd_shape_make(2, (int64_t[]){ 5, 7 });
    ck_assert_int_eq(cd_graph_toposort(&m->g, &err), CD_OK);
    ck_assert_int_ne(cd_graph_infer_shapes(&m->g, &err), CD_OK);
    ck_assert_msg(strstr(err.msg, "\"fc\""), "message: %s", err.msg);
    cd_model_unref(m);
}
END_TEST

static Suite *passes_suite(void)
{
    Suite *s = suite_create("passes");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, passes_preserve_outputs);
    tcase_add_test(tc, kept_value_is_not_fused);
    tcase_add_test(tc, cycle_is_refused);
    tcase_add_test(tc, shape_error_names_node);
    suite_add_tcase(s, tc);
    return s;
}

CD_TEST_MAIN(passes_suite)
