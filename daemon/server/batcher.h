/* batcher.h — dynamic batching. Each served model has a bounded queue; one
 * device worker thread takes up to max_batch jobs of one model (waiting at
 * most max_delay_us after the first arrived), runs them as one batch, and
 * gives each job exactly the outputs a single run would have produced. Jobs
 * whose deadline passed are answered CD_ETIMEDOUT without running. The worker
 * calls job->done from its own thread; done must not block. */
#ifndef CD_BATCHER_H
#define CD_BATCHER_H

#include "registry.h"

#include <stdbool.h>

#define CD_JOB_MAX_OUTPUTS 8

struct cd_job;
typedef void (*cd_job_done_fn)(struct cd_job *job);

struct cd_job {
    struct cd_served *served;    /* counted reference held by the job owner */
    const float *input;          /* per-sample input, borrowed until done */
    /* filled by the worker before done(): */
    int status;                  /* CD_OK, CD_ETIMEDOUT, CD_ESHUTDOWN, CD_EDEVICE */
    char msg[256];
    int n_out;
    float *out[CD_JOB_MAX_OUTPUTS];  /* owned by the job (free after done) */
    size_t out_numel[CD_JOB_MAX_OUTPUTS];
    int batch_size;              /* size of the batch this job ran in */
    double t_submit, t_start, t_end; /* monotonic seconds */
    double deadline;             /* monotonic seconds */
    /* Eigen-CAM (optional): when want_cam, the worker computes this
     * sample's map at cam_layer (borrowed until done) right after the batch
     * ran, before the next batch overwrites the arena, so CAM requests share
     * a forward pass with classify requests of the same model. */
    bool want_cam;
    const char *cam_layer;
    float *cam;                  /* owned (free after done): cam_h * cam_w */
    int cam_h, cam_w;
    cd_job_done_fn done;
    void *user;
    struct cd_job *next;         /* queue link, batcher-owned */
};

struct cd_batcher;

int cd_batcher_init(struct cd_batcher **out, struct cd_err *err);
/* Queues job on job->served. CD_EBUSY when the model's queue is full,
 * CD_ESHUTDOWN when stopping, CD_EINVAL when the model is not ready. On
 * success done() will be called exactly once, from the worker thread. */
int cd_batcher_submit(struct cd_batcher *b, struct cd_job *job,
                      struct cd_err *err);
/* Hands a replaced model version to the batcher: its queue drains, then the
 * batcher drops its reference. */
void cd_batcher_retire(struct cd_served *old, void *batcher);
/* Stops accepting, runs everything already queued, joins the worker. */
void cd_batcher_stop(struct cd_batcher *b);
void cd_batcher_free(struct cd_batcher *b); /* stops first; NULL ok */
/* Current number of queued jobs over all models. */
int cd_batcher_depth(struct cd_batcher *b);

/* Monotonic clock in seconds (shared by the server layer). */
double cd_now(void);

#endif
