/* tasks.c — the background task thread (tasks.h): a bounded FIFO of
 * run/cancel pairs under one mutex and condition variable. It knows nothing
 * of HTTP or models; what a task does and how it answers is the caller's. */
#include "server/tasks.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct task {
    void (*run)(void *arg);
    void (*cancel)(void *arg);
    void *arg;
    struct task *next;
};

struct cd_tasks {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct task *head, *tail;
    int n_queued;
    bool stopping, started, joined;
    pthread_t thread;
};

static void *task_main(void *p)
{
    struct cd_tasks *t = p;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->head && !t->stopping)
            pthread_cond_wait(&t->cv, &t->mu);
        if (t->stopping)
            break;
        struct task *k = t->head;
        t->head = k->next;
        if (!t->head)
            t->tail = NULL;
        t->n_queued--;
        pthread_mutex_unlock(&t->mu);
        k->run(k->arg);
        free(k);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int cd_tasks_init(struct cd_tasks **out, struct cd_err *err)
{
    *out = NULL;
    struct cd_tasks *t = calloc(1, sizeof *t);
    if (!t)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, task_main, t) != 0) {
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return cd_err_set(err, CD_ENOMEM, "cannot start the task thread");
    }
    t->started = true;
    *out = t;
    return CD_OK;
}

int cd_tasks_submit(struct cd_tasks *t, void (*run)(void *arg),
                    void (*cancel)(void *arg), void *arg, struct cd_err *err)
{
    struct task *k = calloc(1, sizeof *k);
    if (!k)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    *k = (struct task){ run, cancel, arg, NULL };
    pthread_mutex_lock(&t->mu);
    int rc = CD_OK;
    if (t->stopping)
        rc = cd_err_set(err, CD_ESHUTDOWN, "the server is stopping");
    else if (t->n_queued >= CD_TASKS_MAX_QUEUED)
        rc = cd_err_set(err, CD_EBUSY, "%d model operations are already waiting",
                        t->n_queued);
    if (rc == CD_OK) {
        if (t->tail)
            t->tail->next = k;
        else
            t->head = k;
        t->tail = k;
        t->n_queued++;
        pthread_cond_signal(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
    if (rc != CD_OK)
        free(k);
    return rc;
}

void cd_tasks_stop(struct cd_tasks *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stopping = true;
    struct task *left = t->head;
    t->head = t->tail = NULL;
    t->n_queued = 0;
    bool join = t->started && !t->joined;
    t->joined = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    while (left) {
        struct task *k = left;
        left = k->next;
        if (k->cancel)
            k->cancel(k->arg);
        free(k);
    }
    if (join)
        pthread_join(t->thread, NULL);
}

void cd_tasks_free(struct cd_tasks *t)
{
    if (!t)
        return;
    cd_tasks_stop(t);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
