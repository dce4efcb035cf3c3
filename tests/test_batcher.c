/* test_batcher.c — batcher.c: one job, 20 concurrent submitters getting
 * exactly their single-run outputs with batches > 1, full queue, expired
 * deadline, failed run, drain on stop, refusal after stop, draining a
 * version retired by a reload, and one run on the OpenCL CPU device.
 * Fixtures are copies of models/tiny-demo in a mkdtemp folder. */
#include "check_main.h"
#include "model_fixture.h"

#include "server/batcher.h"
#include "server/config.h"
#include "server/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IN_N (3 * 64 * 64)
#define OUT_N 10

static char root[64];
static struct cd_config cfg;
static struct cd_registry *reg;
static struct cd_batcher *bat;

/* ---- fixture ------------------------------------------------------------ */

static void setup(void)
{
    cd_metrics_init();
    strcpy(root, "/tmp/cd_batcher_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    fixture_make_model(root, "tiny", NULL);
    fixture_make_model(root, "zz-broken", "{\"format\":");
    cd_config_defaults(&cfg);
    snprintf(cfg.models_dir, sizeof cfg.models_dir, "%s", root);
    snprintf(cfg.device, sizeof cfg.device, "ref");
    cfg.cache_dir[0] = '\0';
    cfg.batch = (struct cd_batch_cfg){ .max_batch = 8, .max_delay_us = 20000,
                                       .max_queue = 64, .timeout_ms = 10000 };
    reg = NULL;
    bat = NULL;
}

static void teardown(void)
{
    cd_batcher_free(bat);
    cd_registry_free(reg);
    fixture_rm_tree(root);
}

/* Opens the registry and the batcher; returns a reference to "tiny". */
static struct cd_served *open_all(void)
{
    struct cd_err err = { 0 };
    ck_assert_msg(cd_registry_init(&reg, &cfg, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(cd_batcher_init(&bat, &err), CD_OK);
    struct cd_served *s = cd_registry_get(reg, "tiny");
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(s->state == CD_SERVED_READY, "%s", s->reason);
    return s;
}

/* ---- jobs --------------------------------------------------------------- */

struct tjob {
    struct cd_job job;
    float in[IN_N];
    float want[OUT_N];
    int n_done;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void on_done(struct cd_job *j)
{
    pthread_mutex_lock(&mu);
    ((struct tjob *)j->user)->n_done++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_done(struct tjob *t)
{
    pthread_mutex_lock(&mu);
    while (t->n_done == 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void fill(struct tjob *t, struct cd_served *s, unsigned seed)
{
    memset(&t->job, 0, sizeof t->job);
    t->n_done = 0;
    for (int i = 0; i < IN_N; i++) {
        seed = seed * 1664525u + 1013904223u;
        t->in[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    t->job.served = s;
    t->job.input = t->in;
    t->job.done = on_done;
    t->job.user = t;
}

/* The single-run answer, computed on the served runner while it is idle. */
static void expect_single(struct tjob *t, struct cd_served *s)
{
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_runner_run(s->runner, t->in, 1, &err), CD_OK);
    ck_assert_int_eq(cd_runner_read_output(s->runner, 0, t->want, 1, &err),
                     CD_OK);
}

static void check_answer(struct tjob *t, float tol)
{
    ck_assert_msg(t->job.status == CD_OK, "%s: %s",
                  cd_status_name(t->job.status), t->job.msg);
    ck_assert_int_eq(t->n_done, 1);
    ck_assert_int_eq(t->job.n_out, 1);
    ck_assert_uint_eq(t->job.out_numel[0], OUT_N);
    for (int k = 0; k < OUT_N; k++)
        ck_assert_msg(fabsf(t->job.out[0][k] - t->want[k]) <= tol,
                      "out[%d] %g vs single %g (batch %d)", k, t->job.out[0][k],
                      t->want[k], t->job.batch_size);
    ck_assert(t->job.t_submit <= t->job.t_start);
    ck_assert(t->job.t_start <= t->job.t_end);
}

static void free_out(struct tjob *t)
{
    for (int i = 0; i < t->job.n_out; i++)
        free(t->job.out[i]);
    t->job.n_out = 0;
}

static int submit(struct tjob *t)
{
    struct cd_err err = { 0 };
    return cd_batcher_submit(bat, &t->job, &err);
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(one_job)
{
    struct cd_served *s = open_all();
    static struct tjob t;
    fill(&t, s, 1);
    expect_single(&t, s);
    ck_assert_int_eq(submit(&t), CD_OK);
    wait_done(&t);
    check_answer(&t, 0.0f);
    ck_assert_int_eq(t.job.batch_size, 1);
    ck_assert_int_eq(cd_batcher_depth(bat), 0);
    free_out(&t);
    cd_served_unref(s);
}
END_TEST

#define N_CONC 20
static struct tjob conc[N_CONC];
static pthread_barrier_t barrier;

static void *submitter(void *arg)
{
    struct tjob *t = arg;
    pthread_barrier_wait(&barrier);
    int rc = submit(t);
    if (rc == CD_OK)
        wait_done(t);
    return (void *)(intptr_t)rc;
}

START_TEST(concurrent_submitters_get_single_answers)
{
    struct cd_served *s = open_all();
    pthread_t th[N_CONC];
    for (int i = 0; i < N_CONC; i++) {
        fill(&conc[i], s, 100u + (unsigned)i);
        expect_single(&conc[i], s);
    }
    pthread_barrier_init(&barrier, NULL, N_CONC);
    for (int i = 0; i < N_CONC; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, submitter, &conc[i]), 0);
    int max_batch = 0;
    for (int i = 0; i < N_CONC; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        ck_assert_int_eq((int)(intptr_t)rc, CD_OK);
    }
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < N_CONC; i++) {
        check_answer(&conc[i], 0.0f);
        if (conc[i].job.batch_size > max_batch)
            max_batch = conc[i].job.batch_size;
        ck_assert_int_le(conc[i].job.batch_size, 8);
        free_out(&conc[i]);
    }
    ck_assert_msg(max_batch > 1, "no batch larger than 1");
    cd_served_unref(s);
}
END_TEST

START_TEST(full_queue_is_busy)
{
    cfg.batch.max_queue = 2;
    cfg.batch.max_delay_us = 5000000;   /* the worker waits for company */
    struct cd_served *s = open_all();
    static struct tjob t[3];
    for (int i = 0; i < 3; i++)
        fill(&t[i], s, 7u + (unsigned)i);
    ck_assert_int_eq(submit(&t[0]), CD_OK);
    ck_assert_int_eq(submit(&t[1]), CD_OK);
    ck_assert_int_eq(cd_batcher_depth(bat), 2);
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_batcher_submit(bat, &t[2].job, &err), CD_EBUSY);
    ck_assert_ptr_nonnull(strstr(err.msg, "full"));
    double t0 = cd_now();
    cd_batcher_stop(bat);               /* runs the two at once */
    ck_assert(cd_now() - t0 < 2.0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(t[i].n_done, 1);
        ck_assert_int_eq(t[i].job.status, CD_OK);
        ck_assert_int_eq(t[i].job.batch_size, 2);
        free_out(&t[i]);
    }
    ck_assert_int_eq(t[2].n_done, 0);
    cd_served_unref(s);
}
END_TEST

START_TEST(expired_deadline_is_not_run)
{
    struct cd_served *s = open_all();
    static struct tjob t;
    fill(&t, s, 3);
    t.job.deadline = cd_now() - 1.0;
    ck_assert_int_eq(submit(&t), CD_OK);
    wait_done(&t);
    ck_assert_int_eq(t.job.status, CD_ETIMEDOUT);
    ck_assert_msg(strstr(t.job.msg, "deadline passed after"), "%s", t.job.msg);
    ck_assert_int_eq(t.job.n_out, 0);
    ck_assert_int_eq(t.job.batch_size, 0);
    ck_assert(t.job.t_start == 0);
    cd_served_unref(s);
}
END_TEST

START_TEST(stop_drains_then_refuses)
{
    cfg.batch.max_batch = 4;
    cfg.batch.max_delay_us = 5000000;
    struct cd_served *s = open_all();
    static struct tjob t[10];
    for (int i = 0; i < 10; i++) {
        fill(&t[i], s, 50u + (unsigned)i);
        expect_single(&t[i], s);
    }
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(submit(&t[i]), CD_OK);
    cd_batcher_stop(bat);
    ck_assert_int_eq(cd_batcher_depth(bat), 0);
    for (int i = 0; i < 10; i++) {
        check_answer(&t[i], 0.0f);
        free_out(&t[i]);
    }
    static struct tjob late;
    fill(&late, s, 99);
    ck_assert_int_eq(submit(&late), CD_ESHUTDOWN);
    cd_batcher_stop(bat);               /* twice is fine */
    ck_assert_int_eq(late.n_done, 0);
    cd_served_unref(s);
}
END_TEST

START_TEST(refuses_failed_model_and_bad_job)
{
    struct cd_served *s = open_all();
    struct cd_served *f = cd_registry_get(reg, "zz-broken");
    ck_assert_int_eq(f->state, CD_SERVED_FAILED);
    static struct tjob t;
    fill(&t, f, 1);
    ck_assert_int_eq(submit(&t), CD_EINVAL);
    fill(&t, s, 1);
    t.job.done = NULL;
    ck_assert_int_eq(submit(&t), CD_EINVAL);
    cd_served_unref(f);
    cd_served_unref(s);
}
END_TEST

START_TEST(failed_run_answers_device_error)
{
    /* Swap in a runner planned for batch 1 so a batch of 2 fails. */
    cfg.batch.max_delay_us = 200000;
    struct cd_served *s = open_all();
    struct cd_err err = { 0 };
    struct cd_runner *small = NULL, *saved = s->runner;
    struct cd_backend *be = NULL;
    ck_assert_int_eq(cd_backend_ref_init(&be, &err), CD_OK);
    ck_assert_int_eq(cd_runner_init(&small, s->model, be, 1, &err), CD_OK);
    s->runner = small;
    static struct tjob t[3];
    for (int i = 0; i < 3; i++)
        fill(&t[i], s, 20u + (unsigned)i);
    ck_assert_int_eq(submit(&t[0]), CD_OK);
    ck_assert_int_eq(submit(&t[1]), CD_OK);
    wait_done(&t[0]);
    wait_done(&t[1]);
    ck_assert_int_eq(t[0].job.status, CD_EDEVICE);
    ck_assert_int_eq(t[1].job.status, CD_EDEVICE);
    ck_assert(t[0].job.msg[0]);
    ck_assert_int_eq(t[0].job.n_out, 0);
    /* A single job after the failure runs: the worker went on. */
    ck_assert_int_eq(submit(&t[2]), CD_OK);
    wait_done(&t[2]);
    ck_assert_msg(t[2].job.status == CD_OK, "%s", t[2].job.msg);
    ck_assert_int_eq(t[2].job.batch_size, 1);
    free_out(&t[2]);
    cd_batcher_stop(bat);
    s->runner = saved;
    cd_runner_free(small);
    cd_backend_free(be);
    cd_served_unref(s);
}
END_TEST

START_TEST(retired_version_drains)
{
    cfg.batch.max_delay_us = 300000;
    struct cd_served *v1 = open_all();
    static struct tjob t[3];
    for (int i = 0; i < 3; i++) {
        fill(&t[i], v1, 70u + (unsigned)i);
        expect_single(&t[i], v1);    /* before the worker may use the runner */
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(submit(&t[i]), CD_OK);
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_registry_reload(reg, cd_batcher_retire, bat, &err), CD_OK);
    struct cd_served *v2 = cd_registry_get(reg, "tiny");
    ck_assert_ptr_ne(v2, v1);
    ck_assert_int_eq(v2->version, 2);
    for (int i = 0; i < 3; i++) {
        wait_done(&t[i]);
        check_answer(&t[i], 0.0f);
        free_out(&t[i]);
    }
    ck_assert(v1->retired);
    cd_served_unref(v1);   /* the last reference once the batcher dropped its */
    cd_served_unref(v2);
}
END_TEST

START_TEST(opencl_cpu_matches_reference)
{
    /* Reference answers first, on the ref backend. */
    struct cd_served *r = open_all();
    static struct tjob t[3];
    for (int i = 0; i < 3; i++) {
        fill(&t[i], r, 300u + (unsigned)i);
        expect_single(&t[i], r);
    }
    cd_served_unref(r);
    cd_batcher_free(bat);
    cd_registry_free(reg);
    bat = NULL;
    reg = NULL;

    snprintf(cfg.device, sizeof cfg.device, "cpu");
    cfg.batch.max_batch = 4;
    cfg.batch.max_delay_us = 200000;
    struct cd_served *s = open_all();
    for (int i = 0; i < 3; i++) {
        t[i].job.served = s;
        ck_assert_int_eq(submit(&t[i]), CD_OK);
    }
    for (int i = 0; i < 3; i++) {
        wait_done(&t[i]);
        check_answer(&t[i], 1e-4f);
        free_out(&t[i]);
    }
    ck_assert_int_eq(t[0].job.batch_size, 3);
    cd_served_unref(s);
}
END_TEST

static Suite *batcher_suite(void)
{
    Suite *s = suite_create("batcher");
    TCase *tc = tcase_create("batcher");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, one_job);
    tcase_add_test(tc, concurrent_submitters_get_single_answers);
    tcase_add_test(tc, full_queue_is_busy);
    tcase_add_test(tc, expired_deadline_is_not_run);
    tcase_add_test(tc, stop_drains_then_refuses);
    tcase_add_test(tc, refuses_failed_model_and_bad_job);
    tcase_add_test(tc, failed_run_answers_device_error);
    tcase_add_test(tc, retired_version_drains);
    suite_add_tcase(s, tc);
    TCase *cl = tcase_create("opencl");
    tcase_add_checked_fixture(cl, setup, teardown);
    tcase_set_timeout(cl, 120);
    tcase_add_test(cl, opencl_cpu_matches_reference);
    suite_add_tcase(s, cl);
    return s;
}

CD_TEST_MAIN(batcher_suite)
