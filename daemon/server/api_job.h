/* api_job.h — the plumbing every inference endpoint shares: look up a served
 * model (404 / 503 answers), build one batcher job per sample, defer the HTTP
 * answer, submit, and when the last job is done (on the device worker's
 * thread) answer through the endpoint's formatter or with the mapped error
 * status, then free everything. */
#ifndef CD_API_JOB_H
#define CD_API_JOB_H

#include "server.h"

#include <stdbool.h>

struct cd_api_call;
/* Runs once, on the worker thread, when every job succeeded; must respond
 * (cd_http_respond*) and must not block. */
typedef void (*cd_api_format_fn)(struct cd_api_call *call);

struct cd_api_call {
    struct cd_http_req *r;
    struct cd_server *srv;
    struct cd_served *served;      /* counted reference held by the call */
    double t_arrival;              /* monotonic, when the handler started */
    int n_jobs;                    /* samples, one job each */
    size_t numel;                  /* per-sample input elements */
    float *input;                  /* (n_jobs, per-sample input), owned */
    struct cd_job *jobs;           /* n_jobs, owned; outputs freed with the call */
    _Atomic int pending;           /* jobs not done + 1 for the submitter */
    int fail_status;               /* HTTP status of a refused submit, or 0 */
    bool fail_retry;               /* add Retry-After: 1 */
    char fail_msg[256];
    cd_api_format_fn format;
    int arg;                       /* small endpoint parameter (top-k) */
    void *ctx;                     /* endpoint data, freed by ctx_free */
    void (*ctx_free)(void *ctx);
};

/* Looks up model `name` and labels the request (model, metrics slot,
 * endpoint). Answers 404 for an unknown model and, when need_ready, 503 with
 * the reason for a failed one; returns NULL then. Otherwise returns a counted
 * reference the caller drops with cd_served_unref. */
struct cd_served *cd_api_model(struct cd_http_req *r, struct cd_server *srv,
                               const char *name, const char *endpoint,
                               bool need_ready);

/* A call of n samples on s (takes its own reference on s). input holds
 * n * per-sample floats and becomes owned by the call; NULL allocates it
 * (zeroed) for the caller to fill. Returns NULL when out of memory or n
 * overflows (nothing taken then). */
struct cd_api_call *cd_api_call_new(struct cd_http_req *r, struct cd_server *srv,
                                    struct cd_served *s, int n, float *input,
                                    double t_arrival);
/* Frees a call that was never submitted (NULL ok). */
void cd_api_call_free(struct cd_api_call *c);

/* Defers the request and queues every job; from here on the call owns
 * itself: the request is answered exactly once (format() on success; 503
 * with Retry-After when a queue is full; 503 when stopping or not ready;
 * 504 past the deadline; 500 on a device error) and the call freed. */
void cd_api_call_submit(struct cd_api_call *c, cd_api_format_fn format);

/* Largest batch any of the call's jobs ran in. */
int cd_api_call_batch(const struct cd_api_call *c);

/* Shared by classify and cam (api_classify.c). ?top=K: digits only,
 * 1 <= K <= max; an absent q gives min(5, max). Returns 0 or -1. */
int cd_api_parse_top(const char *q, int max, int *out);
/* JSON array of the k best classes of logits (softmax scores, labels of m);
 * NULL when out of memory. */
json_t *cd_api_predictions(const struct cd_model *m, const float *logits,
                           size_t n_logits, int k);

/* Picture answers (segment, cam). Answer format: ?format=png|json wins,
 * else an Accept header naming image/png; 0, or -1 for a bad format value.
 * ?NAME=1, true or empty: on; 0, false or absent: off. 0 or -1. */
int cd_api_want_png(struct cd_http_req *r, bool *png);
int cd_api_flag(struct cd_http_req *r, const char *name, bool *on);
/* Encodes img as PNG and answers 200 image/png (500 JSON on failure). */
struct cd_image;
void cd_api_respond_png(struct cd_http_req *r, const struct cd_image *img);

/* HTTP status for a batcher/engine status (CD_ETIMEDOUT -> 504, ...). */
int cd_api_http_status(int cd_status);

#endif
