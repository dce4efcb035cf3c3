/* test_runner.c — runner.c: arena planning by lifetimes, batching (a batch of
 * B equals B single runs), readable kept values, refusals. */
#include "check_main.h"
#include "graph_fixture.h"

#include "engine/passes.h"
#include "engine/runner.h"

#include <math.h>

static struct cd_model *prepared(const char *keep)
{
    struct cd_err err = { 0 };
    struct cd_model *m = fx_resblock_model(keep);
    ck_assert_int_eq(cd_graph_toposort(&m->g, &err), CD_OK);
    ck_assert_msg(cd_graph_infer_shapes(&m->g, &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(cd_passes_run(&m->g, NULL, &err) == CD_OK, "%s", err.msg);
    return m;
}

START_TEST(arena_reuses_dead_values)
{
    struct cd_err err = { 0 };
    struct cd_model *m = prepared(NULL);
    struct cd_backend *be = NULL;
    struct cd_runner *r = NULL;
    ck_assert_int_eq(cd_backend_ref_init(&be, &err), CD_OK);
    ck_assert_msg(cd_runner_init(&r, m, be, 4, &err) == CD_OK, "%s", err.msg);
    size_t sum = 0;
    for (int v = 0; v < m->g.n_values; v++)
        if (m->g.values[v].alias_of < 0 && (m->g.values[v].producer >= 0 ||
                                            m->g.values[v].is_input))
            sum += ((size_t)cd_shape_numel(&m->g.values[v].shape) * 4 + 15) / 16 *
                   16 * sizeof(float);
    /* x, c1 and c2 are 3*81, 8*81, 8*81 floats a sample: x dies after c1,
     * so c2 can take its place; the plan must be smaller than the sum. */
    ck_assert_uint_lt(cd_runner_arena_bytes(r), sum);
    ck_assert_uint_gt(cd_runner_arena_bytes(r), 0);
    ck_assert_uint_eq(cd_runner_weight_bytes(r) % 64, 0);
    cd_runner_free(r);
    cd_backend_free(be);
    cd_model_unref(m);
}
END_TEST

START_TEST(batch_equals_single_runs)
{
    struct cd_err err = { 0 };
    struct cd_model *m = prepared(NULL);
    struct cd_backend *be = NULL;
    struct cd_runner *r = NULL;
    ck_assert_int_eq(cd_backend_ref_init(&be, &err), CD_OK);
    ck_assert_int_eq(cd_runner_init(&r, m, be, 3, &err), CD_OK);
    float x[3 * 243], yb[15], y1[5];
    unsigned s = 3;
    for (int i = 0; i < 3 * 243; i++)
        x[i] = fx_rand(&s);
    ck_assert_int_eq(cd_runner_run(r, x, 3, &err), CD_OK);
    ck_assert_int_eq(cd_runner_read_output(r, 0, yb, 3, &err), CD_OK);
    for (int b = 0; b < 3; b++) {
        ck_assert_int_eq(cd_runner_run(r, x + b * 243, 1, &err), CD_OK);
        ck_assert_int_eq(cd_runner_read_output(r, 0, y1, 1, &err), CD_OK);
        for (int k = 0; k < 5; k++)
            ck_assert_float_eq_tol(y1[k], yb[b * 5 + k], 1e-6f);
    }
    ck_assert_int_eq(cd_runner_run(r, x, 4, &err), CD_ERANGE);
    ck_assert_int_eq(cd_runner_run(r, x, 0, &err), CD_ERANGE);
    cd_runner_free(r);
    cd_backend_free(be);
    cd_model_unref(m);
}
END_TEST

START_TEST(kept_value_is_readable)
{
    struct cd_err err = { 0 };
    struct cd_model *m = prepared("r2");
    struct cd_backend *be = NULL;
    struct cd_runner *r = NULL;
    ck_assert_int_eq(cd_backend_ref_init(&be, &err), CD_OK);
    ck_assert_int_eq(cd_runner_init(&r, m, be, 1, &err), CD_OK);
    float x[243] = { 0 }, act[8 * 81];
    for (int i = 0; i < 243; i++)
        x[i] = (float)(i % 7) - 3.0f;
    struct cd_shape s;
    ck_assert_int_eq(cd_runner_run(r, x, 1, &err), CD_OK);
    ck_assert_msg(cd_runner_read_value(r, "r2", act, 1, &s, &err) == CD_OK, "%s",
                  err.msg);
    ck_assert_int_eq(s.ndim, 4);
    ck_assert_int_eq(s.dim[1], 8);
    for (int i = 0; i < 8 * 81; i++)
        ck_assert(act[i] >= 0.0f); /* after relu */
    ck_assert_int_eq(cd_runner_read_value(r, "gp", act, 1, &s, &err), CD_EINVAL);
    ck_assert_int_eq(cd_runner_read_value(r, "nope", act, 1, &s, &err), CD_EINVAL);
    cd_runner_free(r);
    cd_backend_free(be);
    cd_model_unref(m);
}
END_TEST

static Suite *runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, arena_reuses_dead_values);
    tcase_add_test(tc, batch_equals_single_runs);
    tcase_add_test(tc, kept_value_is_readable);
    suite_add_tcase(s, tc);
    return s;
}

CD_TEST_MAIN(runner_suite)
