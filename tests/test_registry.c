/* test_registry.c — registry.c: a models folder with a good and a corrupted
 * model (failed with a reason, the other served), lookups by folder name,
 * reloads that keep the old version when the new one is broken, pick up new
 * folders and drop removed ones; one model loaded (swapped, or kept when the
 * new version is broken) or unloaded through the repository API, and the
 * index of every folder. Fixtures are copies of models/tiny-demo in a
 * mkdtemp folder. */
#include "check_main.h"
#include "model_fixture.h"

#include "server/config.h"
#include "server/metrics.h"
#include "server/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static struct cd_config cfg;

static void set_json(const char *name, const char *json)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s/model.json", root, name);
    fixture_write_text(p, json);
}

static void setup(void)
{
    cd_metrics_init();
    strcpy(root, "/tmp/cd_registry_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    fixture_make_model(root, "a-good", NULL);
    fixture_make_model(root, "b-broken",
                       "{\"format\": \"convd-model\", \"version\": 1,");
    fixture_make_model(root, ".hidden", NULL);
    char p[256];
    snprintf(p, sizeof p, "%s/no-model-json", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/README", root);
    fixture_write_text(p, "not a model\n");
    cd_config_defaults(&cfg);
    snprintf(cfg.models_dir, sizeof cfg.models_dir, "%s", root);
    snprintf(cfg.device, sizeof cfg.device, "ref");
    cfg.cache_dir[0] = '\0';
    cfg.batch.max_batch = 4;
}

static void teardown(void)
{
    fixture_rm_tree(root);
}

static struct cd_registry *open_reg(void)
{
    struct cd_registry *reg = NULL;
    struct cd_err err = { 0 };
    ck_assert_msg(cd_registry_init(&reg, &cfg, &err) == CD_OK, "%s", err.msg);
    return reg;
}

START_TEST(loads_good_and_records_broken)
{
    struct cd_registry *reg = open_reg();
    int ready = -1, failed = -1;
    cd_registry_counts(reg, &ready, &failed);
    ck_assert_int_eq(ready, 1);
    ck_assert_int_eq(failed, 1);
    ck_assert(!cd_registry_all_ready(reg));

    struct cd_served *a = cd_registry_get(reg, "a-good");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->state, CD_SERVED_READY);
    ck_assert_str_eq(a->reason, "");
    ck_assert_int_eq(a->version, 1);
    ck_assert_ptr_nonnull(a->model);
    ck_assert_str_eq(a->model->name, "tiny-demo"); /* served by folder name */
    ck_assert_uint_eq(cd_served_input_numel(a), 3 * 64 * 64);
    ck_assert_int_eq(cd_runner_max_batch(a->runner), 4);
    ck_assert_ptr_nonnull(a->stage_in);
    ck_assert_ptr_nonnull(a->stage_out);
    ck_assert_int_ge(a->metrics_slot, 0);

    struct cd_served *b = cd_registry_get(reg, "b-broken");
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(b->state, CD_SERVED_FAILED);
    ck_assert_msg(strlen(b->reason) > 0, "failed model without a reason");
    ck_assert_ptr_null(b->model);
    ck_assert_ptr_null(b->runner);

    ck_assert_ptr_null(cd_registry_get(reg, ".hidden"));
    ck_assert_ptr_null(cd_registry_get(reg, "no-model-json"));
    ck_assert_ptr_null(cd_registry_get(reg, "README"));
    ck_assert_ptr_null(cd_registry_get(reg, "tiny-demo"));

    struct cd_served **all = NULL;
    int n = 0;
    ck_assert_int_eq(cd_registry_list(reg, &all, &n), CD_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(all[0]->name, "a-good");
    ck_assert_str_eq(all[1]->name, "b-broken");
    for (int i = 0; i < n; i++)
        cd_served_unref(all[i]);
    free(all);

    cd_served_unref(a);
    cd_served_unref(b);
    cd_registry_free(reg);
}
END_TEST

START_TEST(missing_dir_fails)
{
    struct cd_registry *reg = (void *)1;
    struct cd_err err = { 0 };
    snprintf(cfg.models_dir, sizeof cfg.models_dir, "%s/nope", root);
    ck_assert_int_eq(cd_registry_init(&reg, &cfg, &err), CD_EIO);
    ck_assert_ptr_null(reg);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope"));
}
END_TEST

START_TEST(bad_device_fails_model_only)
{
    snprintf(cfg.device, sizeof cfg.device, "7:7");
    struct cd_registry *reg = open_reg();
    struct cd_served *a = cd_registry_get(reg, "a-good");
    ck_assert_int_eq(a->state, CD_SERVED_FAILED);
    ck_assert(a->reason[0]);
    cd_served_unref(a);
    cd_registry_free(reg);
}
END_TEST

static int n_retired;

static void retire_cb(struct cd_served *old, void *ctx)
{
    ck_assert_ptr_eq(ctx, &n_retired);
    n_retired++;
    cd_served_unref(old);
}

START_TEST(reload_keeps_old_on_failure)
{
    struct cd_registry *reg = open_reg();
    struct cd_err err = { 0 };
    struct cd_served *v1 = cd_registry_get(reg, "a-good");
    struct cd_served *b1 = cd_registry_get(reg, "b-broken");
    char old_reason[512];
    snprintf(old_reason, sizeof old_reason, "%s", b1->reason);

    set_json("a-good", "[1, 2");
    set_json("b-broken", "{}");
    n_retired = 0;
    ck_assert_int_eq(cd_registry_reload(reg, retire_cb, &n_retired, &err), CD_OK);

    struct cd_served *a = cd_registry_get(reg, "a-good");
    ck_assert_ptr_eq(a, v1);                 /* the old version keeps serving */
    ck_assert_int_eq(a->state, CD_SERVED_READY);
    ck_assert_int_eq(a->version, 1);
    struct cd_served *b = cd_registry_get(reg, "b-broken");
    ck_assert_ptr_ne(b, b1);                 /* failed stays failed, new reason */
    ck_assert_int_eq(b->state, CD_SERVED_FAILED);
    ck_assert_int_eq(b->version, 2);
    ck_assert_str_ne(b->reason, old_reason);
    ck_assert_int_eq(n_retired, 1);          /* only b-broken v1 */
    ck_assert_str_eq(b1->name, "b-broken");  /* still alive: we hold a ref */

    /* The kept version still runs. */
    ck_assert_int_eq(cd_runner_run(a->runner, a->stage_in, 1, &err), CD_OK);

    cd_served_unref(a);
    cd_served_unref(b);
    cd_served_unref(v1);
    cd_served_unref(b1);
    cd_registry_free(reg);
}
END_TEST

START_TEST(reload_adds_replaces_and_removes)
{
    struct cd_registry *reg = open_reg();
    struct cd_err err = { 0 };
    struct cd_served *v1 = cd_registry_get(reg, "a-good");
    fixture_make_model(root, "c-new", NULL);
    set_json("b-broken", "");
    n_retired = 0;
    ck_assert_int_eq(cd_registry_reload(reg, retire_cb, &n_retired, &err), CD_OK);
    ck_assert_int_eq(n_retired, 2);          /* a-good v1 and b-broken v1 */

    int ready, failed;
    cd_registry_counts(reg, &ready, &failed);
    ck_assert_int_eq(ready, 2);
    ck_assert_int_eq(failed, 1);
    struct cd_served *c = cd_registry_get(reg, "c-new");
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->state, CD_SERVED_READY);
    ck_assert_int_eq(c->version, 1);
    struct cd_served *a = cd_registry_get(reg, "a-good");
    ck_assert_ptr_ne(a, v1);
    ck_assert_int_eq(a->version, 2);
    ck_assert_int_eq(a->metrics_slot, v1->metrics_slot);
    /* The replaced version is alive while referenced and still runs. */
    ck_assert_int_eq(cd_runner_run(v1->runner, v1->stage_in, 1, &err), CD_OK);
    cd_served_unref(v1);
    cd_served_unref(a);
    cd_served_unref(c);

    /* Remove c-new and fix b-broken: all ready, c-new gone. */
    char p[256];
    snprintf(p, sizeof p, "%s/c-new", root);
    fixture_rm_tree(p);
    snprintf(p, sizeof p, "%s/b-broken/model.json", root);
    fixture_copy_file(FIXTURE_SRC "/model.json", p);
    n_retired = 0;
    ck_assert_int_eq(cd_registry_reload(reg, NULL, NULL, &err), CD_OK);
    ck_assert_ptr_null(cd_registry_get(reg, "c-new"));
    cd_registry_counts(reg, &ready, &failed);
    ck_assert_int_eq(ready, 2);
    ck_assert_int_eq(failed, 0);
    ck_assert(cd_registry_all_ready(reg));
    struct cd_served *b = cd_registry_get(reg, "b-broken");
    ck_assert_int_eq(b->version, 3);
    cd_served_unref(b);
    cd_registry_free(reg);
}
END_TEST

START_TEST(load_one_swaps_or_keeps)
{
    struct cd_registry *reg = open_reg();
    struct cd_err err = { 0 };
    struct cd_served *v1 = cd_registry_get(reg, "a-good");
    int version = 0;
    n_retired = 0;
    ck_assert_int_eq(cd_registry_load_one(reg, "a-good", retire_cb, &n_retired,
                                          &version, &err), CD_OK);
    ck_assert_int_eq(version, 2);
    ck_assert_int_eq(n_retired, 1);          /* v1 handed over to drain */
    struct cd_served *a = cd_registry_get(reg, "a-good");
    ck_assert_ptr_ne(a, v1);
    ck_assert_int_eq(a->version, 2);
    /* the retired version still runs for whoever holds it */
    ck_assert_int_eq(cd_runner_run(v1->runner, v1->stage_in, 1, &err), CD_OK);
    cd_served_unref(v1);

    /* A broken new version: the serving one stays, the reason comes back. */
    set_json("a-good", "{\"format\": 7");
    n_retired = 0;
    ck_assert_int_eq(cd_registry_load_one(reg, "a-good", retire_cb, &n_retired,
                                          &version, &err), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "version 2 keeps serving"));
    ck_assert_int_eq(n_retired, 0);
    struct cd_served *still = cd_registry_get(reg, "a-good");
    ck_assert_ptr_eq(still, a);
    ck_assert_int_eq(still->state, CD_SERVED_READY);
    cd_served_unref(still);
    cd_served_unref(a);

    /* Names: nothing outside models_dir, no hidden folders, no missing ones. */
    ck_assert_int_eq(cd_registry_load_one(reg, "../etc", NULL, NULL, NULL, &err), CD_EINVAL);
    ck_assert_int_eq(cd_registry_load_one(reg, ".hidden", NULL, NULL, NULL, &err), CD_EINVAL);
    ck_assert_int_eq(cd_registry_load_one(reg, "", NULL, NULL, NULL, &err), CD_EINVAL);
    ck_assert_int_eq(cd_registry_load_one(reg, "no-model-json", NULL, NULL, NULL, &err),
                     CD_EIO);
    ck_assert_int_eq(cd_registry_load_one(reg, "nope", NULL, NULL, NULL, &err), CD_EIO);

    /* A new folder that fails stays out of serving (readiness untouched)
     * and the index says why; fixed, it loads. */
    fixture_make_model(root, "c-new", "[");
    ck_assert_int_eq(cd_registry_load_one(reg, "c-new", NULL, NULL, &version, &err),
                     CD_EFORMAT);
    ck_assert_ptr_null(cd_registry_get(reg, "c-new"));
    char p[256];
    snprintf(p, sizeof p, "%s/c-new/model.json", root);
    fixture_copy_file(FIXTURE_SRC "/model.json", p);
    ck_assert_int_eq(cd_registry_load_one(reg, "c-new", NULL, NULL, &version, &err), CD_OK);
    ck_assert_int_eq(version, 2);            /* versions never go back */
    cd_registry_free(reg);
}
END_TEST

START_TEST(unload_one_and_index)
{
    struct cd_registry *reg = open_reg();
    struct cd_err err = { 0 };
    struct cd_served *held = cd_registry_get(reg, "a-good");
    n_retired = 0;
    ck_assert_int_eq(cd_registry_unload_one(reg, "a-good", retire_cb, &n_retired, &err),
                     CD_OK);
    ck_assert_int_eq(n_retired, 1);
    ck_assert_ptr_null(cd_registry_get(reg, "a-good"));
    ck_assert_int_eq(cd_runner_run(held->runner, held->stage_in, 1, &err), CD_OK);
    cd_served_unref(held);
    ck_assert_int_eq(cd_registry_unload_one(reg, "a-good", NULL, NULL, &err), CD_EIO);
    ck_assert_int_eq(cd_registry_unload_one(reg, "x/y", NULL, NULL, &err), CD_EINVAL);

    /* A reload (SIGHUP) keeps it out; b-broken is retried as before. */
    ck_assert_int_eq(cd_registry_reload(reg, NULL, NULL, &err), CD_OK);
    ck_assert_ptr_null(cd_registry_get(reg, "a-good"));
    fixture_make_model(root, "c-new", NULL);

    struct cd_registry_entry *e = NULL;
    int n = 0;
    ck_assert_int_eq(cd_registry_index(reg, &e, &n, &err), CD_OK);
    ck_assert_int_eq(n, 3);                  /* sorted; hidden and README skipped */
    ck_assert_str_eq(e[0].name, "a-good");
    ck_assert(!e[0].ready);
    ck_assert_str_eq(e[0].reason, "unloaded");
    ck_assert_int_eq(e[0].version, 1);
    ck_assert_str_eq(e[1].name, "b-broken");
    ck_assert(!e[1].ready);
    ck_assert_int_eq(e[1].version, 2);
    ck_assert(strlen(e[1].reason) > 3);
    ck_assert_str_eq(e[2].name, "c-new");
    ck_assert_str_eq(e[2].reason, "not loaded");
    ck_assert_int_eq(e[2].version, 0);
    free(e);

    /* Loaded again: serves as version 2, and reloads pick it up again. */
    int version = 0;
    ck_assert_int_eq(cd_registry_load_one(reg, "a-good", NULL, NULL, &version, &err), CD_OK);
    ck_assert_int_eq(version, 2);
    ck_assert_int_eq(cd_registry_reload(reg, NULL, NULL, &err), CD_OK);
    struct cd_served *a = cd_registry_get(reg, "a-good");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->version, 3);
    cd_served_unref(a);
    ck_assert_int_eq(cd_registry_index(reg, &e, &n, &err), CD_OK);
    ck_assert_int_eq(n, 3);
    ck_assert(e[0].ready && e[2].ready);
    ck_assert_str_eq(e[0].reason, "");
    free(e);
    cd_registry_free(reg);
}
END_TEST

static Suite *registry_suite(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, loads_good_and_records_broken);
    tcase_add_test(tc, missing_dir_fails);
    tcase_add_test(tc, reload_keeps_old_on_failure);
    tcase_add_test(tc, reload_adds_replaces_and_removes);
    tcase_add_test(tc, load_one_swaps_or_keeps);
    tcase_add_test(tc, unload_one_and_index);
    suite_add_tcase(s, tc);
    /* Separate case: the OpenCL loader is noisy under valgrind, so a memcheck
     * run can pick CK_RUN_CASE=registry. */
    TCase *cl = tcase_create("opencl");
    tcase_add_checked_fixture(cl, setup, teardown);
    tcase_set_timeout(cl, 60);
    tcase_add_test(cl, bad_device_fails_model_only);
    suite_add_tcase(s, cl);
    return s;
}

CD_TEST_MAIN(registry_suite)
