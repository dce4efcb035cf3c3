/* test_conv_select.c — the per-layer conv kernel selection
 * (daemon/engine/conv_select.c): the load-time tuner writes its choice to
 * the tuning cache next to the program binary, a second backend on the
 * same cache reuses it without timing anything, unreadable or hostile cache
 * lines are skipped, CONVD_CONV_TUNE_MS=0 gives the heuristic, and a layer
 * run without prepare still matches the C reference. */
#include "engine/cl_backend.h"
#include "engine/cl_program.h"
#include "engine/conv_select.h"
#include "engine/op_shape.h"
#include "harness_check.h"
#include "op_harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A 3x3 pad-1 conv 24 -> 48 on 14x14, its weights uploaded to b. */
struct node {
    struct cd_attrs a;
    struct cd_tref in;
    struct cd_exec_node e;
};

static void make_node(struct node *n)
{
    memset(n, 0, sizeof *n);
    cd_attrs_default(&n->a, CD_OP_CONV);
    n->a.nsp = 2;
    n->a.groups = 1;
    n->a.act = CD_ACT_RELU;
    for (int i = 0; i < 2; i++)
        n->a.pad_begin[i] = n->a.pad_end[i] = 1;
    n->in.shape = cd_shape_make(4, (int64_t[]){ 1, 24, 14, 14 });
    n->in.off = 0;
    n->e = (struct cd_exec_node){ .name = "conv", .op = CD_OP_CONV,
                                  .a = &n->a, .n_in = 1, .in = &n->in };
    n->e.has_w[0] = n->e.has_w[1] = true;
    n->e.w[0].shape = cd_shape_make(4, (int64_t[]){ 48, 24, 3, 3 });
    n->e.w[1].shape = cd_shape_make(1, (int64_t[]){ 48 });
    n->e.w[1].off = 48 * 24 * 9;
    n->e.out.shape = cd_shape_make(4, (int64_t[]){ 1, 48, 14, 14 });
    n->e.out.off = 4 * 24 * 14 * 14;
}

/* One cache dir for the whole binary, made before the tests fork; the
 * first backend in it builds and caches the program binary, the others
 * load it. (No OpenCL in the parent: POCL's threads do not survive fork.) */
static char cache_dir[64];

static void setup(void)
{
    snprintf(cache_dir, sizeof cache_dir, "/tmp/convd-tune-XXXXXX");
    if (!mkdtemp(cache_dir))
        cache_dir[0] = '\0';
}

static void teardown(void)
{
    char cmd[128];
    if (!cache_dir[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", cache_dir);
}

/* Removes the tuning results from dir (the program binary stays). */
static void clear_tune(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*.tune", dir);
    ck_assert(system(cmd) == 0);
}

/* A fresh OpenCL backend on cache dir `dir`, with n's buffers and weights;
 * NULL when there is no OpenCL device and CONVD_ALLOW_NO_OPENCL is set. */
static struct cd_backend *backend_for(const char *dir, struct node *n)
{
    struct cd_backend *b = NULL;
    struct cd_err err = { 0 };
    ck_assert_msg(dir[0], "no temporary cache dir");
    if (cd_backend_cl_init(&b, "auto", dir, &err) != CD_OK) {
        ck_assert_msg(getenv("CONVD_ALLOW_NO_OPENCL") != NULL, "%s", err.msg);
        return NULL;
    }
    size_t nw = 48 * 24 * 9 + 48;
    float *w = malloc(nw * sizeof *w);
    ck_assert(w);
    for (size_t i = 0; i < nw; i++)
        w[i] = (float)((i * 37) % 17) / 17.0f - 0.5f;
    ck_assert(b->i->alloc(b, 8 * (24 + 48) * 14 * 14, nw, &err) == CD_OK);
    ck_assert(b->i->upload_weights(b, 0, w, nw, &err) == CD_OK);
    free(w);
    make_node(n);
    return b;
}

static int count_lines(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cat %s/*.tune 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

START_TEST(tuned_choice_is_cached_and_reused)
{
    const char *dir = cache_dir;
    struct node n;
    struct cd_err err = { 0 };
    clear_tune(dir);
    setenv("CONVD_CONV_TUNE_MS", "100000", 1);
    struct cd_backend *b = backend_for(dir, &n);
    if (!b)
        return;
    ck_assert_msg(b->i->prepare(b, &n.e, 4, &err) == CD_OK, "%s", err.msg);
    int v1 = cd_conv_select_variant(b->impl, &n.e, 1, &err);
    int v4 = cd_conv_select_variant(b->impl, &n.e, 4, &err);
    struct cd_cl_conv_geo g;
    ck_assert(cd_cl_conv_geo(&n.e, &g, &err) == CD_OK);
    ck_assert(cd_cl_conv_variant_ok(&g, v1) && cd_cl_conv_variant_ok(&g, v4));
    /* batch 1 and batch 4 results */
    ck_assert_int_eq(count_lines(dir), 2);
    cd_backend_free(b);

    /* a second backend reads them back and times nothing new */
    b = backend_for(dir, &n);
    ck_assert_msg(b->i->prepare(b, &n.e, 4, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(count_lines(dir), 2);
    ck_assert_int_eq(cd_conv_select_variant(b->impl, &n.e, 1, &err), v1);
    ck_assert_int_eq(cd_conv_select_variant(b->impl, &n.e, 4, &err), v4);
    cd_backend_free(b);
    unsetenv("CONVD_CONV_TUNE_MS");
}
END_TEST

START_TEST(hostile_cache_lines_are_skipped)
{
    const char *dir = cache_dir;
    char path[600];
    struct node n;
    struct cd_err err = { 0 };
    clear_tune(dir);
    setenv("CONVD_CONV_TUNE_MS", "0", 1);
    struct cd_backend *b = backend_for(dir, &n);
    if (!b)
        return;
    /* the cache file of this backend: the program binary's, .tune */
    ck_assert(cd_cl_program_cache_path(b->impl, dir, path, sizeof path,
                                       &err) == CD_OK);
    strcpy(path + strlen(path) - 4, ".tune");
    FILE *f = fopen(path, "w");
    ck_assert(f);
    /* garbage, an unknown variant, a variant that cannot run this
     * geometry (gemm is 1x1 only), non-positive sizes, a truncated line */
    fprintf(f, "not a line\n");
    fprintf(f, "24 48 1 2 1 14 14 1 3 3 1 1 1 1 1 1 0 1 1 1 14 14 1 warp9\n");
    fprintf(f, "24 48 1 2 1 14 14 1 3 3 1 1 1 1 1 1 0 1 1 1 14 14 1 gemm\n");
    fprintf(f, "24 48 1 2 1 14 14 1 3 3 1 0 0 1 1 1 0 1 1 1 14 14 1 tile\n");
    fprintf(f, "24 48 1 2 1 14 14 1 3 3 1 1 1\n");
    fclose(f);
    ck_assert_msg(b->i->prepare(b, &n.e, 1, &err) == CD_OK, "%s", err.msg);
    struct cd_cl_conv_geo g;
    ck_assert(cd_cl_conv_geo(&n.e, &g, &err) == CD_OK);
    ck_assert_int_eq(cd_conv_select_variant(b->impl, &n.e, 1, &err),
                     cd_conv_select_heuristic(&g, 1));
    /* tuning off: nothing appended */
    ck_assert_int_eq(count_lines(dir), 5);
    cd_backend_free(b);

    /* a valid line for this geometry is obeyed */
    f = fopen(path, "a");
    ck_assert(f);
    fprintf(f, "24 48 1 2 1 14 14 1 3 3 1 1 1 1 1 1 0 1 1 1 14 14 1 pk8x3\n");
    fclose(f);
    b = backend_for(dir, &n);
    ck_assert_msg(b->i->prepare(b, &n.e, 1, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(cd_conv_select_variant(b->impl, &n.e, 1, &err),
                     CD_CONV_PK8X3);
    cd_backend_free(b);
    unsetenv("CONVD_CONV_TUNE_MS");
}
END_TEST

/* A conv run without prepare (as the op tests do) gets its plan at the
 * first run, with the heuristic's variant, and matches the reference. */
START_TEST(unprepared_layer_matches_reference)
{
    struct cd_harness_case hc;
    memset(&hc, 0, sizeof hc);
    hc.op = CD_OP_CONV;
    cd_attrs_default(&hc.a, CD_OP_CONV);
    hc.a.nsp = 2;
    hc.a.groups = 1;
    hc.a.act = CD_ACT_RELU;
    hc.a.stride[0] = hc.a.stride[1] = 2;
    for (int i = 0; i < 2; i++)
        hc.a.pad_begin[i] = hc.a.pad_end[i] = 1;
    hc.n_in = 1;
    hc.batch = 3;
    hc.in[0] = cd_shape_make(4, (int64_t[]){ 1, 20, 15, 29 });
    hc.w[0] = cd_shape_make(4, (int64_t[]){ 40, 20, 3, 3 });
    hc.w[1] = cd_shape_make(1, (int64_t[]){ 40 });
    /* plans are made on first run without prepare: the heuristic's */
    harness_check_cl(&hc, 77, 2e-5, "unprepared conv");
}
END_TEST

static Suite *conv_select_suite(void)
{
    Suite *s = suite_create("conv_select");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, tuned_choice_is_cached_and_reused);
    tcase_add_test(tc, hostile_cache_lines_are_skipped);
    tcase_add_test(tc, unprepared_layer_matches_reference);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(conv_select_suite)
