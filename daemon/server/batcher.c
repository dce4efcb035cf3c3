/* batcher.c — dynamic batching: bounded per-model queues and the device
 * worker that runs up to max_batch jobs of one model as a single batch and
 * hands each job its own slice of the outputs. The worker never holds the
 * lock while a batch runs and calls done() outside the lock; nothing here
 * parses requests or talks HTTP. */
#include "batcher.h"

#include "engine/eigencam.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One worker for the one device. The models with queued jobs sit in `active`
 * so a second worker per device could later pick from the same list (it
 * would need a per-entry busy flag: a runner is used by one thread at a time). */
struct cd_batcher {
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* submit / stop -> worker (CLOCK_MONOTONIC) */
    pthread_t worker;
    bool started, stopping, joined;
    int depth;                      /* queued jobs over all models */
    double job_s;                   /* EWMA of device seconds per job run; 0 = none yet */
    struct cd_served **active;      /* models with q_len > 0 (not counted) */
    int n_active, cap_active;
    struct cd_served **retired;     /* replaced versions; one ref each */
    int n_retired, cap_retired;
};

/* Share of timeout_ms the estimated queue wait may take at admission. */
#define ADMIT_FRACTION 0.5

double cd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool grow(struct cd_served ***a, int *cap, int n)
{
    if (n < *cap)
        return true;
    int nc = *cap ? *cap * 2 : 8;
    struct cd_served **na = realloc(*a, (size_t)nc * sizeof *na);
    if (!na)
        return false;
    *a = na;
    *cap = nc;
    return true;
}

static void remove_active(struct cd_batcher *b, struct cd_served *s)
{
    for (int i = 0; i < b->n_active; i++)
        if (b->active[i] == s) {
            b->active[i] = b->active[--b->n_active];
            return;
        }
}

/* ---- answering ---------------------------------------------------------- */

static void answer_error(struct cd_job *j, int status, const char *msg)
{
    j->status = status;
    snprintf(j->msg, sizeof j->msg, "%s", msg);
    j->n_out = 0;
    j->batch_size = 0;
}

static void free_outputs(struct cd_job *j)
{
    for (int i = 0; i < j->n_out; i++) {
        free(j->out[i]);
        j->out[i] = NULL;
    }
    j->n_out = 0;
}

/* Eigen-CAM of job j (sample k of a batch of n that just ran); on failure
 * the job fails with the engine's status (a device error here: the handler
 * validated the layer). */
static void run_cam(struct cd_served *s, struct cd_job *j, int k, int n)
{
    struct cd_err err = { 0 };
    int C, h, w, rc;
    const char *layer = j->cam_layer ? j->cam_layer : s->model->cam_layer;
    j->cam = NULL;
    j->cam_h = j->cam_w = 0;
    if (!layer) {
        free_outputs(j);
        answer_error(j, CD_EINVAL, "the model has no CAM layer");
        return;
    }
    if ((rc = cd_eigencam_layer_shape(s->runner, layer, &C, &h, &w, &err))) {
        free_outputs(j);
        answer_error(j, rc, err.msg);
        return;
    }
    size_t hw = (size_t)h * (size_t)w;
    if (!(j->cam = malloc(hw * sizeof(float)))) {
        free_outputs(j);
        answer_error(j, CD_ENOMEM, "out of memory for the CAM map");
        return;
    }
    rc = cd_eigencam_compute(s->runner, layer, k, n, j->cam, hw, &h, &w, NULL,
                             &err);
    if (rc != CD_OK) {
        free(j->cam);
        j->cam = NULL;
        free_outputs(j);
        answer_error(j, rc == CD_ENOMEM ? CD_ENOMEM : CD_EDEVICE, err.msg);
        return;
    }
    j->cam_h = h;
    j->cam_w = w;
}

/* Runs jobs[0..n) of s as one batch and fills each job (status, outputs). */
static void run_batch(struct cd_served *s, struct cd_job **jobs, int n)
{
    struct cd_err err = { 0 };
    size_t in_n = cd_served_input_numel(s), out_base = 0;
    int n_out = cd_runner_n_outputs(s->runner), rc = CD_OK;
    char q1[160], q2[600];
    double t_start = cd_now();
    for (int k = 0; k < n; k++)
        memcpy(s->stage_in + (size_t)k * in_n, jobs[k]->input,
               in_n * sizeof(float));
    rc = cd_runner_run(s->runner, s->stage_in, n, &err);
    for (int i = 0; rc == CD_OK && i < n_out; i++) {
        struct cd_shape sh = cd_runner_output_shape(s->runner, i);
        size_t per = (size_t)cd_shape_numel(&sh);
        float *dst = s->stage_out + out_base * (size_t)s->batch.max_batch;
        rc = cd_runner_read_output(s->runner, i, dst, n, &err);
        out_base += per;
    }
    double t_end = cd_now();
    if (rc != CD_OK) {
        cd_log(CD_LOG_ERR, "batch_failed", "model=%s batch=%d reason=%s",
               cd_log_quote(s->name, q1, sizeof q1), n,
               cd_log_quote(err.msg, q2, sizeof q2));
        for (int k = 0; k < n; k++) {
            answer_error(jobs[k], CD_EDEVICE, err.msg[0] ? err.msg
                                                          : "inference failed");
            jobs[k]->t_start = t_start;
            jobs[k]->t_end = t_end;
        }
        return;
    }
    cd_metrics_batch(s->metrics_slot, n, t_end - t_start);
    for (int k = 0; k < n; k++) {
        struct cd_job *j = jobs[k];
        j->status = CD_OK;
        j->msg[0] = '\0';
        j->n_out = 0;
        j->batch_size = n;
        j->t_start = t_start;
        j->t_end = t_end;
        out_base = 0;
        for (int i = 0; i < n_out; i++) {
            struct cd_shape sh = cd_runner_output_shape(s->runner, i);
            size_t per = (size_t)cd_shape_numel(&sh);
            const float *src = s->stage_out +
                               out_base * (size_t)s->batch.max_batch +
                               (size_t)k * per;
            out_base += per;
            if (!(j->out[i] = malloc(per * sizeof(float)))) {
                free_outputs(j);
                answer_error(j, CD_ENOMEM, "out of memory for the outputs");
                break;
            }
            memcpy(j->out[i], src, per * sizeof(float));
            j->out_numel[i] = per;
            j->n_out = i + 1;
        }
        if (j->want_cam && j->status == CD_OK)
            run_cam(s, j, k, n);
    }
}

/* ---- the worker --------------------------------------------------------- */

/* Picks the model whose batch should run now: a full batch, a head that
 * waited max_delay_us or reached its deadline, or anything when stopping;
 * oldest head first. Otherwise returns NULL and the time to wake up. */
static struct cd_served *pick(struct cd_batcher *b, double now, double *wake)
{
    struct cd_served *best = NULL;
    *wake = 0;
    for (int i = 0; i < b->n_active; i++) {
        struct cd_served *s = b->active[i];
        struct cd_job *h = s->q_head;
        double ready_at = h->t_submit + s->batch.max_delay_us * 1e-6;
        if (h->deadline < ready_at)
            ready_at = h->deadline;
        if (b->stopping || s->q_len >= s->batch.max_batch || now >= ready_at) {
            if (!best || h->t_submit < best->q_head->t_submit)
                best = s;
        } else if (*wake == 0 || ready_at < *wake) {
            *wake = ready_at;
        }
    }
    return best;
}

static void timed_wait(struct cd_batcher *b, double until)
{
    struct timespec ts;
    double ip = (double)(long long)until;
    ts.tv_sec = (time_t)ip;
    ts.tv_nsec = (long)((until - ip) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&b->cv, &b->mu, &ts);
}

/* Unrefs retired versions whose queue is empty (called without the lock). */
static void drop_drained(struct cd_batcher *b)
{
    struct cd_served *drop[16];
    int n = 0;
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < b->n_retired && n < 16;)
        if (b->retired[i]->q_len == 0) {
            drop[n++] = b->retired[i];
            b->retired[i] = b->retired[--b->n_retired];
        } else {
            i++;
        }
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < n; i++)
        cd_served_unref(drop[i]);
}

static void *worker_main(void *arg)
{
    struct cd_batcher *b = arg;
    struct cd_job **jobs = NULL, **ran = NULL;
    int cap = 0;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        if (b->n_active == 0) {
            if (b->stopping)
                break;
            if (b->n_retired > 0) {
                pthread_mutex_unlock(&b->mu);
                drop_drained(b);
                pthread_mutex_lock(&b->mu);
                continue;
            }
            pthread_cond_wait(&b->cv, &b->mu);
            continue;
        }
        double now = cd_now(), wake;
        struct cd_served *s = pick(b, now, &wake);
        if (!s) {
            timed_wait(b, wake);
            continue;
        }
        int n = s->q_len < s->batch.max_batch ? s->q_len : s->batch.max_batch;
        if (n > cap) {
            struct cd_job **nj = realloc(jobs, (size_t)n * sizeof *nj);
            struct cd_job **nr = nj ? realloc(ran, (size_t)n * sizeof *nr) : NULL;
            if (nj)
                jobs = nj;
            if (nr)
                ran = nr;
            if (!nj || !nr)
                n = cap;     /* out of memory: run what fits (at least 1 below) */
            else
                cap = n;
            if (n == 0) {
                /* Cannot even hold one pointer: wait and retry later. */
                timed_wait(b, now + 0.01);
                continue;
            }
        }
        for (int k = 0; k < n; k++) {
            jobs[k] = s->q_head;
            s->q_head = jobs[k]->next;
            jobs[k]->next = NULL;
        }
        if (!s->q_head)
            s->q_tail = NULL;
        s->q_len -= n;
        b->depth -= n;
        if (s->q_len == 0)
            remove_active(b, s);
        pthread_mutex_unlock(&b->mu);

        /* Outside the lock: expire, run, answer. The jobs' owners hold
         * references to s until done() returns, so s stays alive. */
        cd_metrics_queue_depth(s->metrics_slot, -n);
        int slot = s->metrics_slot, n_run = 0;
        now = cd_now();
        for (int k = 0; k < n; k++) {
            struct cd_job *j = jobs[k];
            cd_metrics_queue_wait(slot, now - j->t_submit);
            if (j->deadline < now) {
                char m[96];
                snprintf(m, sizeof m, "deadline passed after %.0f ms in queue",
                         (now - j->t_submit) * 1e3);
                answer_error(j, CD_ETIMEDOUT, m);
                j->done(j);
            } else {
                ran[n_run++] = j;
            }
        }
        double per_job = 0.0;
        if (n_run > 0) {
            double t_run = cd_now();
            run_batch(s, ran, n_run);
            per_job = (cd_now() - t_run) / n_run;
            for (int k = 0; k < n_run; k++)
                ran[k]->done(ran[k]);
        }
        drop_drained(b);
        pthread_mutex_lock(&b->mu);
        if (per_job > 0.0)
            b->job_s = b->job_s > 0.0 ? 0.8 * b->job_s + 0.2 * per_job : per_job;
    }
    pthread_mutex_unlock(&b->mu);
    free(jobs);
    free(ran);
    return NULL;
}

/* ---- public ------------------------------------------------------------- */

int cd_batcher_init(struct cd_batcher **out, struct cd_err *err)
{
    pthread_condattr_t ca;
    *out = NULL;
    struct cd_batcher *b = calloc(1, sizeof *b);
    if (!b)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&b->worker, NULL, worker_main, b);
    if (e != 0) {
        pthread_cond_destroy(&b->cv);
        pthread_mutex_destroy(&b->mu);
        free(b);
        return cd_err_set(err, CD_ENOMEM, "cannot start the device worker: %s",
                          strerror(e));
    }
    b->started = true;
    *out = b;
    return CD_OK;
}

int cd_batcher_submit(struct cd_batcher *b, struct cd_job *job,
                      struct cd_err *err)
{
    if (!b || !job || !job->served || !job->input || !job->done)
        return cd_err_set(err, CD_EINVAL, "incomplete job");
    struct cd_served *s = job->served;
    pthread_mutex_lock(&b->mu);
    if (b->stopping) {
        pthread_mutex_unlock(&b->mu);
        return cd_err_set(err, CD_ESHUTDOWN, "the server is stopping");
    }
    if (s->state != CD_SERVED_READY) {
        pthread_mutex_unlock(&b->mu);
        return cd_err_set(err, CD_EINVAL, "model %s is not ready: %s", s->name,
                          s->reason);
    }
    if (s->q_len >= s->batch.max_queue) {
        pthread_mutex_unlock(&b->mu);
        return cd_err_set(err, CD_EBUSY, "model %s queue is full (%d jobs)",
                          s->name, s->q_len);
    }
    /* Admission by deadline: a job that the jobs ahead of it (at the device's
     * recent pace) would keep waiting past most of its timeout is refused now
     * with 503 + Retry-After, rather than accepted and answered 504 later. */
    double wait_s = (double)(b->depth + 1) * b->job_s;
    if (b->job_s > 0.0 && wait_s > ADMIT_FRACTION * s->batch.timeout_ms * 1e-3) {
        pthread_mutex_unlock(&b->mu);
        return cd_err_set(err, CD_EBUSY, "model %s is overloaded: %d jobs queued, about "
                          "%.0f ms of work ahead (timeout %d ms)", s->name, b->depth,
                          wait_s * 1e3, s->batch.timeout_ms);
    }
    if (s->q_len == 0 && !grow(&b->active, &b->cap_active, b->n_active)) {
        pthread_mutex_unlock(&b->mu);
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    }
    if (job->t_submit == 0)
        job->t_submit = cd_now();
    if (job->deadline == 0)
        job->deadline = job->t_submit + s->batch.timeout_ms * 1e-3;
    job->next = NULL;
    if (s->q_tail)
        s->q_tail->next = job;
    else
        s->q_head = job;
    s->q_tail = job;
    if (s->q_len++ == 0)
        b->active[b->n_active++] = s;
    b->depth++;
    cd_metrics_queue_depth(s->metrics_slot, +1); /* before the worker's -1 */
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return CD_OK;
}

void cd_batcher_retire(struct cd_served *old, void *batcher)
{
    struct cd_batcher *b = batcher;
    if (!old)
        return;
    if (!b) {
        cd_served_unref(old);
        return;
    }
    pthread_mutex_lock(&b->mu);
    old->retired = true;
    if (old->q_len > 0 && grow(&b->retired, &b->cap_retired, b->n_retired)) {
        b->retired[b->n_retired++] = old;
        pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);
        return;
    }
    pthread_mutex_unlock(&b->mu);
    /* Nothing queued (or no room to track it): queued jobs hold their own
     * references, so dropping the registry's one now is safe. */
    cd_served_unref(old);
}

void cd_batcher_stop(struct cd_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = true;
    bool join = b->started && !b->joined;
    b->joined = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (join)
        pthread_join(b->worker, NULL);
}

void cd_batcher_free(struct cd_batcher *b)
{
    if (!b)
        return;
    cd_batcher_stop(b);
    for (int i = 0; i < b->n_retired; i++)
        cd_served_unref(b->retired[i]);
    free(b->retired);
    free(b->active);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

int cd_batcher_depth(struct cd_batcher *b)
{
    if (!b)
        return 0;
    pthread_mutex_lock(&b->mu);
    int d = b->depth;
    pthread_mutex_unlock(&b->mu);
    return d;
}
