/* api_job.c — shared inference plumbing for the API handlers: model lookup
 * with its 404/503 answers, one batcher job per sample, deferral, submission,
 * and the single answer once the last job is done (worker thread). It never
 * blocks and never parses request bodies; endpoints format their answers. */
#include "server/api_job.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor.h"
#include "media/png_encode.h"

struct cd_served *cd_api_model(struct cd_http_req *r, struct cd_server *srv,
                               const char *name, const char *endpoint,
                               bool need_ready)
{
    struct cd_served *s = name ? cd_registry_get(srv->reg, name) : NULL;
    if (!s) {
        cd_http_set_labels(r, NULL, -1, endpoint);
        cd_http_respond_error(r, 404, "unknown model '%.128s'", name ? name : "");
        return NULL;
    }
    cd_http_set_labels(r, s->name, s->metrics_slot, endpoint);
    if (need_ready && (s->state != CD_SERVED_READY || !s->runner || !s->model)) {
        cd_http_respond_error(r, 503, "model %s is not ready: %s", s->name,
                              s->reason[0] ? s->reason : "not loaded");
        cd_served_unref(s);
        return NULL;
    }
    return s;
}

int cd_api_http_status(int cd_status)
{
    switch (cd_status) {
    case CD_OK: return 200;
    case CD_EINVAL: case CD_EFORMAT: case CD_ERANGE: case CD_EUNSUPPORTED:
        return 400;
    case CD_EBUSY: case CD_ESHUTDOWN: return 503;
    case CD_ETIMEDOUT: return 504;
    default: return 500;       /* CD_EDEVICE, CD_ENOMEM, CD_EIO */
    }
}

struct cd_api_call *cd_api_call_new(struct cd_http_req *r, struct cd_server *srv,
                                    struct cd_served *s, int n, float *input,
                                    double t_arrival)
{
    size_t numel = cd_served_input_numel(s), total;
    if (n < 1 || numel == 0 || !cd_size_mul((size_t)n, numel, &total) ||
        total > SIZE_MAX / sizeof(float))
        return NULL;
    struct cd_api_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->jobs = calloc((size_t)n, sizeof *c->jobs);
    c->input = input ? input : calloc(total, sizeof(float));
    if (!c->jobs || !c->input) {
        free(c->jobs);
        if (!input)
            free(c->input);
        free(c);
        return NULL;
    }
    c->r = r;
    c->srv = srv;
    c->served = s;
    cd_served_ref(s);
    c->t_arrival = t_arrival;
    c->n_jobs = n;
    c->numel = numel;
    return c;
}

void cd_api_call_free(struct cd_api_call *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_jobs; i++) {
        for (int k = 0; k < CD_JOB_MAX_OUTPUTS; k++)
            free(c->jobs[i].out[k]);
        free(c->jobs[i].cam);
    }
    if (c->ctx_free)
        c->ctx_free(c->ctx);
    cd_served_unref(c->served);
    free(c->jobs);
    free(c->input);
    free(c);
}

int cd_api_call_batch(const struct cd_api_call *c)
{
    int b = 0;
    for (int i = 0; i < c->n_jobs; i++)
        if (c->jobs[i].batch_size > b)
            b = c->jobs[i].batch_size;
    return b;
}

/* Server-Timing on every answer of a call that ran (picture answers have no
 * timing_ms body): the longest queue wait and device run among its jobs,
 * and the time since arrival, in ms. */
static void add_server_timing(struct cd_api_call *c)
{
    double queue = 0.0, inference = 0.0;
    for (int i = 0; i < c->n_jobs; i++) {
        const struct cd_job *j = &c->jobs[i];
        if (j->t_start - j->t_submit > queue)
            queue = j->t_start - j->t_submit;
        if (j->t_end - j->t_start > inference)
            inference = j->t_end - j->t_start;
    }
    char v[160];
    snprintf(v, sizeof v, "queue;dur=%.3f, inference;dur=%.3f, total;dur=%.3f",
             queue * 1e3, inference * 1e3, (cd_now() - c->t_arrival) * 1e3);
    cd_http_add_header(c->r, "Server-Timing", v);
}

/* Answers the request once every job is accounted for. */
static void answer(struct cd_api_call *c)
{
    struct cd_http_req *r = c->r;
    cd_http_set_batch(r, cd_api_call_batch(c));
    if (c->fail_status) {
        if (c->fail_retry)
            cd_http_add_header(r, "Retry-After", "1");
        cd_http_respond_error(r, c->fail_status, "%s", c->fail_msg);
        return;
    }
    for (int i = 0; i < c->n_jobs; i++) {
        const struct cd_job *j = &c->jobs[i];
        if (j->status != CD_OK) {
            int st = cd_api_http_status(j->status);
            if (st == 400)
                st = 500;  /* a job that was accepted failing is our fault */
            if (j->status == CD_ESHUTDOWN)
                cd_http_add_header(r, "Retry-After", "1");
            cd_http_respond_error(r, st, "%s", j->msg[0] ? j->msg :
                                  cd_status_name(j->status));
            return;
        }
    }
    add_server_timing(c);
    c->format(c);
}

/* Drops n references; the last one answers and frees. */
static void release(struct cd_api_call *c, int n)
{
    if (atomic_fetch_sub(&c->pending, n) != n)
        return;
    answer(c);
    cd_api_call_free(c);
}

static void job_done(struct cd_job *job)
{
    release(job->user, 1);
}

void cd_api_call_submit(struct cd_api_call *c, cd_api_format_fn format)
{
    int n = c->n_jobs, submitted = 0;
    double deadline = c->t_arrival + c->served->batch.timeout_ms * 1e-3;
    c->format = format;
    atomic_store(&c->pending, n + 1);
    cd_http_defer(c->r);
    for (int i = 0; i < n; i++) {
        struct cd_job *j = &c->jobs[i];
        struct cd_err err = {0};
        j->served = c->served;
        j->input = c->input + (size_t)i * c->numel;
        j->done = job_done;
        j->user = c;
        j->t_submit = cd_now();
        j->deadline = deadline > j->t_submit ? deadline : j->t_submit;
        int rc = cd_batcher_submit(c->srv->batcher, j, &err);
        if (rc != CD_OK) {
            c->fail_status = rc == CD_EINVAL ? 503 : cd_api_http_status(rc);
            c->fail_retry = rc == CD_EBUSY || rc == CD_ESHUTDOWN;
            snprintf(c->fail_msg, sizeof c->fail_msg, "%s",
                     err.msg[0] ? err.msg : cd_status_name(rc));
            break;
        }
        submitted++;
    }
    /* Jobs never queued will not call done(); the submitter's own share
     * goes with them. */
    release(c, n - submitted + 1);
}

/* ---- picture answers ---------------------------------------------------- */

int cd_api_want_png(struct cd_http_req *r, bool *png)
{
    const char *f = cd_http_query(r, "format");
    *png = false;
    if (f) {
        if (!strcmp(f, "png"))
            *png = true;
        else if (strcmp(f, "json") != 0)
            return -1;
        return 0;
    }
    const char *acc = cd_http_header(r, "Accept");
    *png = acc && strstr(acc, "image/png") != NULL;
    return 0;
}

int cd_api_flag(struct cd_http_req *r, const char *name, bool *on)
{
    const char *v = cd_http_query(r, name);
    *on = false;
    if (!v)
        return 0;
    if (!*v || !strcmp(v, "1") || !strcmp(v, "true"))
        *on = true;
    else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0)
        return -1;
    return 0;
}

void cd_api_respond_png(struct cd_http_req *r, const struct cd_image *img)
{
    struct cd_err err = {0};
    void *png = NULL;
    size_t len = 0;
    if (cd_image_encode_png(img, &png, &len, &err) != CD_OK) {
        cd_http_respond_error(r, 500, "cannot encode the PNG: %s", err.msg);
        return;
    }
    cd_http_respond(r, 200, "image/png", png, len);
}
