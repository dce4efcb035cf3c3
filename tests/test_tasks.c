/* test_tasks.c — tasks.c: tasks run one at a time in submission order on
 * the task thread, the queue refuses more than CD_TASKS_MAX_QUEUED waiting
 * tasks, and stop cancels what waits, lets the running task finish and then
 * refuses new ones. */
#include "check_main.h"

#include "server/tasks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int order[64], n_run, n_cancel;
static atomic_int running, overlap;
static bool gate_open, started_blocker;

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void reset(void)
{
    n_run = n_cancel = 0;
    gate_open = started_blocker = false;
    atomic_store(&running, 0);
    atomic_store(&overlap, 0);
}

static void run_one(void *arg)
{
    if (atomic_fetch_add(&running, 1) != 0)
        atomic_store(&overlap, 1);
    sleep_ms(1);
    pthread_mutex_lock(&mu);
    order[n_run++] = (int)(intptr_t)arg;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    atomic_fetch_sub(&running, 1);
}

/* Blocks the task thread until the gate opens. */
static void run_blocker(void *arg)
{
    pthread_mutex_lock(&mu);
    started_blocker = true;
    pthread_cond_broadcast(&cv);
    while (!gate_open)
        pthread_cond_wait(&cv, &mu);
    order[n_run++] = (int)(intptr_t)arg;
    pthread_mutex_unlock(&mu);
}

static void cancel_one(void *arg)
{
    pthread_mutex_lock(&mu);
    n_cancel++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void *stop_main(void *t)
{
    cd_tasks_stop(t);
    return NULL;
}

static void wait_for(int *counter, int n)
{
    pthread_mutex_lock(&mu);
    while (*counter < n)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

START_TEST(runs_in_order_one_at_a_time)
{
    reset();
    struct cd_tasks *t = NULL;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_tasks_init(&t, &err), CD_OK);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(cd_tasks_submit(t, run_one, cancel_one, (void *)(intptr_t)i,
                                         &err), CD_OK);
    wait_for(&n_run, 12);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(order[i], i);
    ck_assert_int_eq(atomic_load(&overlap), 0);
    ck_assert_int_eq(n_cancel, 0);
    cd_tasks_free(t);
    cd_tasks_free(NULL);
}
END_TEST

START_TEST(bounded_and_stop_cancels_waiting)
{
    reset();
    struct cd_tasks *t = NULL;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_tasks_init(&t, &err), CD_OK);
    ck_assert_int_eq(cd_tasks_submit(t, run_blocker, cancel_one, (void *)100, &err), CD_OK);
    pthread_mutex_lock(&mu);
    while (!started_blocker)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < CD_TASKS_MAX_QUEUED; i++)
        ck_assert_int_eq(cd_tasks_submit(t, run_one, cancel_one, (void *)(intptr_t)i,
                                         &err), CD_OK);
    ck_assert_int_eq(cd_tasks_submit(t, run_one, cancel_one, (void *)99, &err), CD_EBUSY);
    ck_assert_ptr_nonnull(strstr(err.msg, "waiting"));
    /* stop from another thread: it cancels the waiting tasks at once,
     * then waits for the running one, which ends when the gate opens */
    pthread_t stopper;
    ck_assert_int_eq(pthread_create(&stopper, NULL, stop_main, t), 0);
    wait_for(&n_cancel, CD_TASKS_MAX_QUEUED);
    ck_assert_int_eq(n_run, 0);
    pthread_mutex_lock(&mu);
    gate_open = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(stopper, NULL);
    ck_assert_int_eq(n_run, 1);
    ck_assert_int_eq(order[0], 100);           /* the running task finished */
    ck_assert_int_eq(n_cancel, CD_TASKS_MAX_QUEUED);
    ck_assert_int_eq(cd_tasks_submit(t, run_one, cancel_one, (void *)7, &err), CD_ESHUTDOWN);
    cd_tasks_stop(t);                          /* idempotent */
    cd_tasks_free(t);
}
END_TEST

static Suite *tasks_suite(void)
{
    Suite *s = suite_create("tasks");
    TCase *tc = tcase_create("tasks");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, runs_in_order_one_at_a_time);
    tcase_add_test(tc, bounded_and_stop_cancels_waiting);
    suite_add_tcase(s, tc);
    return s;
}

CD_TEST_MAIN(tasks_suite)
