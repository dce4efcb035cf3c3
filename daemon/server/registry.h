/* registry.h — the served models: every folder under the models directory,
 * each loaded, rewritten, planned on its own backend instance, with its
 * batching settings and state (ready, or failed with the reason). Lookups
 * return a counted reference, so SIGHUP can swap in a new version while
 * requests for the old one finish. A model that fails to (re)load never
 * takes others down; on reload failure the old version keeps serving. */
#ifndef CD_REGISTRY_H
#define CD_REGISTRY_H

#include "config.h"
#include "engine/model.h"
#include "engine/runner.h"

#include <pthread.h>
#include <stdbool.h>

enum cd_served_state {
    CD_SERVED_READY,
    CD_SERVED_FAILED,
    CD_SERVED_STATE_COUNT
};

struct cd_job;
struct cd_audio_frontend;

/* One servable model version. Fields after the marked line are owned by the
 * batcher (queue) and the device worker (staging buffers). */
struct cd_served {
    char name[128];
    char dir[1024];
    enum cd_served_state state;
    char reason[512];              /* why it failed, "" when ready */
    struct cd_model *model;        /* NULL when failed */
    struct cd_backend *be;
    struct cd_runner *runner;
    struct cd_batch_cfg batch;
    int metrics_slot;
    int version;                   /* 1, 2, ... per reload */
    int refcount;                  /* atomic; registry holds one */
    struct cd_audio_frontend *audio; /* audio models: the WAV front-end */
    /* --- batcher-owned --- */
    struct cd_job *q_head, *q_tail;
    int q_len;
    bool retired;                  /* replaced by a reload: drain, then drop */
    float *stage_in;               /* max_batch * input numel */
    float *stage_out;              /* max_batch * sum of output numels */
};

struct cd_registry;

/* Loads every subfolder of cfg->models_dir holding a model.json, sorted by
 * name. Fails only if the directory cannot be read; individual model
 * failures are recorded as CD_SERVED_FAILED. *out owned. */
int cd_registry_init(struct cd_registry **out, const struct cd_config *cfg,
                     struct cd_err *err);
void cd_registry_free(struct cd_registry *reg); /* NULL ok; drops references */

/* Counted reference to the current version of `name`, or NULL. */
struct cd_served *cd_registry_get(struct cd_registry *reg, const char *name);
void cd_served_ref(struct cd_served *s);
void cd_served_unref(struct cd_served *s); /* frees at zero; NULL ok */

/* Snapshot of all current versions (counted references, caller unrefs each
 * and frees the array). */
int cd_registry_list(struct cd_registry *reg, struct cd_served ***out, int *n);
/* True when every configured model is ready (for /readyz). */
bool cd_registry_all_ready(struct cd_registry *reg);
void cd_registry_counts(struct cd_registry *reg, int *ready, int *failed);

/* Reloads every model folder (SIGHUP). A model that fails to reload keeps
 * its old version; new folders are added; removed folders stop being listed.
 * Replaced versions are handed to `retire` (the batcher drains them). */
int cd_registry_reload(struct cd_registry *reg,
                       void (*retire)(struct cd_served *old, void *ctx),
                       void *ctx, struct cd_err *err);

/* ---- one model at a time (the KServe repository extension) ----
 * Both serialise with cd_registry_reload and swap like it: a replaced or
 * removed version goes to `retire`, so batches already queued on it finish
 * on it. Status: CD_EINVAL for a bad name (empty, '/', leading '.', too
 * long), CD_EIO when models_dir has no such model folder (load) or the model
 * is not served (unload), CD_EFORMAT when the new version failed to load,
 * CD_ENOMEM; err holds the message. */

/* Loads models_dir/name anew. On success the new version serves (*version
 * set). On failure the serving version, if any, stays in place and keeps
 * serving; a model that was not served stays out (the index shows why). A
 * model loaded this way is picked up again by later reloads. */
int cd_registry_load_one(struct cd_registry *reg, const char *name,
                         void (*retire)(struct cd_served *old, void *ctx),
                         void *ctx, int *version, struct cd_err *err);
/* Stops serving name: lookups miss it at once (404), queued work finishes
 * on the retired version. Reloads skip it until it is loaded again. */
int cd_registry_unload_one(struct cd_registry *reg, const char *name,
                           void (*retire)(struct cd_served *old, void *ctx),
                           void *ctx, struct cd_err *err);

/* One row of the repository index. */
struct cd_registry_entry {
    char name[128];
    int version;             /* 0: never loaded */
    bool ready;              /* serving */
    char reason[512];        /* why not ready; "" when ready */
};
/* Every model folder under models_dir and every served model, sorted by
 * name. *out owned (free()). */
int cd_registry_index(struct cd_registry *reg, struct cd_registry_entry **out,
                      int *n, struct cd_err *err);

/* Per-sample input numel, and the per-sample shape of output i. */
size_t cd_served_input_numel(const struct cd_served *s);

#endif
