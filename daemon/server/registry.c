/* registry.c — the served models: scans the models directory, loads each
 * folder on its own backend instance (passes, runner, warm-up, staging
 * buffers), hands out counted references, and swaps versions on reload
 * (all folders, or one model loaded or unloaded at a time).
 * It must not run requests or touch a model's queue (the batcher does), and
 * a model that fails to load must never take the others down. */
#include "registry.h"

#include "batcher.h"
#include "engine/backend.h"
#include "engine/passes.h"
#include "media/audio_features.h"
#include "log.h"
#include "metrics.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A model folder known but not served: unloaded through the API (reloads
 * skip it), or its load through the API failed while nothing served it. */
struct off_model {
    char name[128];
    int version;                 /* last version number used */
    bool unloaded;
    char reason[512];
};

struct cd_registry {
    pthread_mutex_t mu;          /* guards items/n and off/n_off */
    pthread_mutex_t reload_mu;   /* one reload (or load/unload) at a time */
    struct cd_config cfg;
    struct cd_served **items;    /* current versions, sorted by name; one ref each */
    int n;
    struct off_model *off;       /* changed under reload_mu and mu */
    int n_off;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- one model version -------------------------------------------------- */

void cd_served_ref(struct cd_served *s)
{
    if (s)
        __atomic_fetch_add(&s->refcount, 1, __ATOMIC_RELAXED);
}

static void served_free(struct cd_served *s)
{
    free(s->stage_in);
    free(s->stage_out);
    cd_audio_frontend_free(s->audio);
    cd_runner_free(s->runner);
    cd_backend_free(s->be);
    cd_model_unref(s->model);
    free(s);
}

void cd_served_unref(struct cd_served *s)
{
    if (s && __atomic_fetch_sub(&s->refcount, 1, __ATOMIC_ACQ_REL) == 1)
        served_free(s);
}

size_t cd_served_input_numel(const struct cd_served *s)
{
    if (!s || !s->runner)
        return 0;
    struct cd_shape sh = cd_runner_input_shape(s->runner);
    int64_t n = cd_shape_numel(&sh);
    return n > 0 ? (size_t)n : 0;
}

/* Sizes the staging buffers: max_batch * input numel and max_batch * the sum
 * of the per-sample output numels, overflow-checked. */
static int alloc_stage(struct cd_served *s, struct cd_err *err)
{
    size_t in_n = cd_served_input_numel(s), out_n = 0, nb, bytes;
    int n_out = cd_runner_n_outputs(s->runner);
    if (in_n == 0)
        return cd_err_set(err, CD_EINVAL, "input has no elements");
    if (n_out < 1 || n_out > CD_JOB_MAX_OUTPUTS)
        return cd_err_set(err, CD_EUNSUPPORTED, "%d outputs (1..%d served)",
                          n_out, CD_JOB_MAX_OUTPUTS);
    for (int i = 0; i < n_out; i++) {
        struct cd_shape sh = cd_runner_output_shape(s->runner, i);
        int64_t k = cd_shape_numel(&sh);
        if (k <= 0 || !cd_size_add(out_n, (size_t)k, &out_n))
            return cd_err_set(err, CD_ENOMEM, "output %d size overflows", i);
    }
    if (!cd_size_mul((size_t)s->batch.max_batch, in_n, &nb) ||
        !cd_size_mul(nb, sizeof(float), &bytes) ||
        !(s->stage_in = calloc(1, bytes)))
        return cd_err_set(err, CD_ENOMEM, "input staging buffer (%zu x %zu)",
                          (size_t)s->batch.max_batch, in_n);
    if (!cd_size_mul((size_t)s->batch.max_batch, out_n, &nb) ||
        !cd_size_mul(nb, sizeof(float), &bytes) ||
        !(s->stage_out = malloc(bytes)))
        return cd_err_set(err, CD_ENOMEM, "output staging buffer (%zu x %zu)",
                          (size_t)s->batch.max_batch, out_n);
    return CD_OK;
}

/* Runs batch 1 and max_batch on zeros so every kernel is built at load. */
static int warm_up(struct cd_served *s, struct cd_err *err)
{
    int rc = cd_runner_run(s->runner, s->stage_in, 1, err);
    if (rc == CD_OK && s->batch.max_batch > 1)
        rc = cd_runner_run(s->runner, s->stage_in, s->batch.max_batch, err);
    if (rc != CD_OK)
        cd_err_wrap(err, "warm-up run");
    return rc;
}

/* Audio models: builds the WAV front-end once (tables shared read-only by
 * every request) and checks that its (C, T) features fill the input. */
static int load_audio(struct cd_served *s, struct cd_err *err)
{
    int C = 0, T = 0, rc;
    size_t L = 0;
    if (s->model->pre.kind != CD_INPUT_AUDIO)
        return CD_OK;
    if ((rc = cd_audio_frontend_init(&s->audio, &s->model->pre, err)) != CD_OK)
        return cd_err_wrap(err, "audio front-end");
    cd_audio_frontend_dims(s->audio, &C, &T, &L);
    if ((size_t)C * (size_t)T != cd_served_input_numel(s))
        return cd_err_set(err, CD_EINVAL, "audio front-end gives %d x %d "
                          "features, the input holds %zu", C, T,
                          cd_served_input_numel(s));
    return CD_OK;
}

static int load_steps(struct cd_served *s, const struct cd_config *cfg,
                      struct cd_err *err)
{
    int rc;
    if (s->batch.max_batch < 1 || s->batch.max_queue < 1)
        return cd_err_set(err, CD_EINVAL, "max_batch %d / max_queue %d < 1",
                          s->batch.max_batch, s->batch.max_queue);
    if ((rc = cd_model_load(s->dir, &s->model, err)) != CD_OK)
        return rc;
    if ((rc = cd_passes_run(&s->model->g, NULL, err)) != CD_OK)
        return rc;
    if (!strcmp(cfg->device, "ref"))
        rc = cd_backend_ref_init(&s->be, err);
    else
        rc = cd_backend_cl_init(&s->be, cfg->device,
                                cfg->cache_dir[0] ? cfg->cache_dir : NULL, err);
    if (rc != CD_OK)
        return rc;
    if ((rc = cd_runner_init(&s->runner, s->model, s->be, s->batch.max_batch,
                             err)) != CD_OK)
        return rc;
    if ((rc = alloc_stage(s, err)) != CD_OK)
        return rc;
    if ((rc = load_audio(s, err)) != CD_OK)
        return rc;
    return warm_up(s, err);
}

/* Loads models_dir/name as `version`. Returns NULL only when out of memory;
 * otherwise a served (refcount 1) that is READY or FAILED with the reason. */
static struct cd_served *served_load(const struct cd_config *cfg,
                                     const char *name, int version)
{
    struct cd_served *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    struct cd_err err = { 0 };
    char q1[160], q2[600], q3[300];
    double t0 = now_s();
    s->refcount = 1;
    s->version = version;
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->dir, sizeof s->dir, "%s/%s", cfg->models_dir, name);
    s->batch = cd_config_batch_for(cfg, name);
    s->metrics_slot = cd_metrics_model(name);
    if (load_steps(s, cfg, &err) != CD_OK) {
        /* Keep the name and settings for /v1/models; drop everything else. */
        free(s->stage_in);
        free(s->stage_out);
        cd_audio_frontend_free(s->audio);
        s->audio = NULL;
        cd_runner_free(s->runner);
        cd_backend_free(s->be);
        cd_model_unref(s->model);
        s->stage_in = s->stage_out = NULL;
        s->runner = NULL;
        s->be = NULL;
        s->model = NULL;
        s->state = CD_SERVED_FAILED;
        snprintf(s->reason, sizeof s->reason, "%s",
                 err.msg[0] ? err.msg : cd_status_name(err.code));
        cd_log(CD_LOG_ERR, "model_load_failed", "model=%s version=%d reason=%s",
               cd_log_quote(name, q1, sizeof q1), version,
               cd_log_quote(s->reason, q2, sizeof q2));
        return s;
    }
    s->state = CD_SERVED_READY;
    int nodes = 0;
    for (int i = 0; i < s->model->g.n_nodes; i++)
        nodes += !s->model->g.nodes[i].dead;
    cd_log(CD_LOG_INFO, "model_loaded",
           "model=%s version=%d nodes=%d arena_bytes=%zu weight_bytes=%zu "
           "max_batch=%d device=%s load_ms=%.1f",
           cd_log_quote(name, q1, sizeof q1), version, nodes,
           cd_runner_arena_bytes(s->runner), cd_runner_weight_bytes(s->runner),
           s->batch.max_batch, cd_log_quote(s->be->desc, q3, sizeof q3),
           (now_s() - t0) * 1e3);
    return s;
}

/* ---- the directory ------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Names of the subfolders of dir holding a model.json, sorted; hidden skipped. */
static int scan_dir(const char *dir, char ***out, int *n_out, struct cd_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return cd_err_set(err, CD_EIO, "cannot open models directory %s", dir);
    char **names = NULL, path[2048], q[200];
    int n = 0, cap = 0;
    struct dirent *de;
    struct stat st;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (strlen(de->d_name) >= sizeof ((struct cd_served *)0)->name) {
            cd_log(CD_LOG_WARN, "model_skipped", "folder=%s reason=name_too_long",
                   cd_log_quote(de->d_name, q, sizeof q));
            continue;
        }
        if (snprintf(path, sizeof path, "%s/%s/model.json", dir, de->d_name) >=
                (int)sizeof path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            int nc = cap ? cap * 2 : 16;
            char **nn = realloc(names, (size_t)nc * sizeof *nn);
            if (!nn)
                goto nomem;
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(de->d_name)))
            goto nomem;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    *n_out = n;
    return CD_OK;
nomem:
    closedir(d);
    free_names(names, n);
    return cd_err_set(err, CD_ENOMEM, "out of memory scanning %s", dir);
}

static void count_locked(struct cd_registry *reg, int *ready, int *failed)
{
    int r = 0, f = 0;
    for (int i = 0; i < reg->n; i++) {
        if (reg->items[i]->state == CD_SERVED_READY)
            r++;
        else
            f++;
    }
    *ready = r;
    *failed = f;
}

static void publish_counts(struct cd_registry *reg)
{
    int r, f;
    pthread_mutex_lock(&reg->mu);
    count_locked(reg, &r, &f);
    pthread_mutex_unlock(&reg->mu);
    cd_metrics_models(r, f);
}

int cd_registry_init(struct cd_registry **out, const struct cd_config *cfg,
                     struct cd_err *err)
{
    char **names = NULL;
    int n = 0, rc;
    *out = NULL;
    struct cd_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    reg->cfg = *cfg;
    pthread_mutex_init(&reg->mu, NULL);
    pthread_mutex_init(&reg->reload_mu, NULL);
    if ((rc = scan_dir(cfg->models_dir, &names, &n, err)) != CD_OK)
        goto fail;
    if (n > 0 && !(reg->items = calloc((size_t)n, sizeof *reg->items))) {
        rc = cd_err_set(err, CD_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (!(reg->items[reg->n] = served_load(cfg, names[i], 1))) {
            rc = cd_err_set(err, CD_ENOMEM, "out of memory loading %s", names[i]);
            goto fail;
        }
        reg->n++;
    }
    free_names(names, n);
    publish_counts(reg);
    *out = reg;
    return CD_OK;
fail:
    free_names(names, n);
    cd_registry_free(reg);
    return rc;
}

void cd_registry_free(struct cd_registry *reg)
{
    if (!reg)
        return;
    for (int i = 0; i < reg->n; i++)
        cd_served_unref(reg->items[i]);
    free(reg->items);
    free(reg->off);
    pthread_mutex_destroy(&reg->mu);
    pthread_mutex_destroy(&reg->reload_mu);
    free(reg);
}

struct cd_served *cd_registry_get(struct cd_registry *reg, const char *name)
{
    struct cd_served *s = NULL;
    if (!reg || !name)
        return NULL;
    pthread_mutex_lock(&reg->mu);
    for (int i = 0; i < reg->n; i++)
        if (!strcmp(reg->items[i]->name, name)) {
            s = reg->items[i];
            cd_served_ref(s);
            break;
        }
    pthread_mutex_unlock(&reg->mu);
    return s;
}

int cd_registry_list(struct cd_registry *reg, struct cd_served ***out, int *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&reg->mu);
    struct cd_served **a = calloc(reg->n > 0 ? (size_t)reg->n : 1, sizeof *a);
    if (!a) {
        pthread_mutex_unlock(&reg->mu);
        return CD_ENOMEM;
    }
    for (int i = 0; i < reg->n; i++) {
        a[i] = reg->items[i];
        cd_served_ref(a[i]);
    }
    *n = reg->n;
    pthread_mutex_unlock(&reg->mu);
    *out = a;
    return CD_OK;
}

bool cd_registry_all_ready(struct cd_registry *reg)
{
    int r, f;
    cd_registry_counts(reg, &r, &f);
    return f == 0;
}

void cd_registry_counts(struct cd_registry *reg, int *ready, int *failed)
{
    pthread_mutex_lock(&reg->mu);
    count_locked(reg, ready, failed);
    pthread_mutex_unlock(&reg->mu);
    cd_metrics_models(*ready, *failed);
}

/* The current version of name in items (not counted), or NULL. */
static struct cd_served *find(struct cd_served **items, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(items[i]->name, name))
            return items[i];
    return NULL;
}

/* ---- models known but not served -------------------------------------- */

static struct off_model *off_find(struct cd_registry *reg, const char *name)
{
    for (int i = 0; i < reg->n_off; i++)
        if (!strcmp(reg->off[i].name, name))
            return &reg->off[i];
    return NULL;
}

/* Caller holds mu (and reload_mu). */
static void off_remove(struct cd_registry *reg, const char *name)
{
    struct off_model *o = off_find(reg, name);
    if (o)
        *o = reg->off[--reg->n_off];
}

/* Records name as not served; caller holds mu (and reload_mu). */
static int off_set(struct cd_registry *reg, const char *name, int version,
                   bool unloaded, const char *reason)
{
    struct off_model *o = off_find(reg, name);
    if (!o) {
        struct off_model *grown = realloc(reg->off, (size_t)(reg->n_off + 1) * sizeof *grown);
        if (!grown)
            return CD_ENOMEM;
        reg->off = grown;
        o = &reg->off[reg->n_off++];
    }
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", name);
    o->version = version;
    o->unloaded = unloaded;
    snprintf(o->reason, sizeof o->reason, "%s", reason);
    return CD_OK;
}

static void retire_one(struct cd_served *old,
                       void (*retire)(struct cd_served *, void *), void *ctx)
{
    if (retire)
        retire(old, ctx);
    else
        cd_served_unref(old);
}

/* Unrefs the versions loaded by a reload that is abandoned (kept old ones
 * stay with the registry). */
static void drop_new(struct cd_registry *reg, struct cd_served **next, int n)
{
    for (int k = 0; k < n; k++)
        if (find(reg->items, reg->n, next[k]->name) != next[k])
            cd_served_unref(next[k]);
}

int cd_registry_reload(struct cd_registry *reg,
                       void (*retire)(struct cd_served *old, void *ctx),
                       void *ctx, struct cd_err *err)
{
    char **names = NULL, q1[160], q2[600];
    int n = 0, rc;
    struct cd_served **next = NULL, **olds = NULL;
    int n_next = 0;
    pthread_mutex_lock(&reg->reload_mu);
    if ((rc = scan_dir(reg->cfg.models_dir, &names, &n, err)) != CD_OK)
        goto out;
    /* The old array is only replaced by this function, under reload_mu, so
     * it can be read without reg->mu here. */
    if (!(next = calloc(n > 0 ? (size_t)n : 1, sizeof *next))) {
        rc = cd_err_set(err, CD_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const struct off_model *off = off_find(reg, names[i]);
        if (off && off->unloaded)
            continue;                /* unloaded through the API: stays out */
        struct cd_served *old = find(reg->items, reg->n, names[i]);
        struct cd_served *s = served_load(&reg->cfg, names[i],
                                          old ? old->version + 1 :
                                          off ? off->version + 1 : 1);
        if (!s) {
            drop_new(reg, next, n_next);
            rc = cd_err_set(err, CD_ENOMEM, "out of memory reloading %s",
                            names[i]);
            goto out;
        }
        if (s->state != CD_SERVED_READY && old && old->state == CD_SERVED_READY) {
            cd_log(CD_LOG_ERR, "model_reload_failed",
                   "model=%s kept_version=%d reason=%s",
                   cd_log_quote(names[i], q1, sizeof q1), old->version,
                   cd_log_quote(s->reason, q2, sizeof q2));
            cd_served_unref(s);
            s = old;                 /* keeps the registry's reference */
        }
        next[n_next++] = s;
    }
    /* Swap; collect every old version that is no longer current. */
    if (reg->n > 0 && !(olds = calloc((size_t)reg->n, sizeof *olds))) {
        drop_new(reg, next, n_next);
        rc = cd_err_set(err, CD_ENOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_lock(&reg->mu);
    int n_old = 0;
    for (int i = 0; i < reg->n; i++)
        if (find(next, n_next, reg->items[i]->name) != reg->items[i])
            olds[n_old++] = reg->items[i];
    free(reg->items);
    reg->items = next;
    reg->n = n_next;
    next = NULL;
    for (int i = 0; i < reg->n; i++)
        off_remove(reg, reg->items[i]->name);
    pthread_mutex_unlock(&reg->mu);
    for (int i = 0; i < n_old; i++) {
        if (!find(reg->items, reg->n, olds[i]->name))
            cd_log(CD_LOG_INFO, "model_removed", "model=%s version=%d",
                   cd_log_quote(olds[i]->name, q1, sizeof q1), olds[i]->version);
        retire_one(olds[i], retire, ctx);
    }
    publish_counts(reg);
    rc = CD_OK;
out:
    free(olds);
    free(next);
    free_names(names, n);
    pthread_mutex_unlock(&reg->reload_mu);
    return rc;
}

/* ---- one model at a time ------------------------------------------------ */

/* A name the API may use: a plain, visible folder name. */
static int check_name(const char *name, struct cd_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= sizeof ((struct cd_served *)0)->name)
        return cd_err_set(err, CD_EINVAL, "a model name must be 1..%zu bytes",
                          sizeof ((struct cd_served *)0)->name - 1);
    if (strchr(name, '/') || name[0] == '.')
        return cd_err_set(err, CD_EINVAL, "model name '%s' is not a folder name "
                          "under models_dir (no '/', no leading '.')", name);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return cd_err_set(err, CD_EINVAL, "model name holds a control character");
    return CD_OK;
}

/* models_dir/name/model.json is a regular file. */
static bool has_model_folder(const struct cd_config *cfg, const char *name)
{
    char path[2048];
    struct stat st;
    return snprintf(path, sizeof path, "%s/%s/model.json", cfg->models_dir, name) <
               (int)sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int index_of(struct cd_served **items, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(items[i]->name, name))
            return i;
    return -1;
}

/* Puts s in place of the version named like it, or inserts it sorted.
 * Caller holds reload_mu; returns the replaced version (or NULL). */
static int put_served(struct cd_registry *reg, struct cd_served *s,
                      struct cd_served **replaced)
{
    int at = index_of(reg->items, reg->n, s->name);
    *replaced = NULL;
    if (at >= 0) {
        pthread_mutex_lock(&reg->mu);
        *replaced = reg->items[at];
        reg->items[at] = s;
        off_remove(reg, s->name);
        pthread_mutex_unlock(&reg->mu);
        return CD_OK;
    }
    struct cd_served **next = calloc((size_t)reg->n + 1, sizeof *next);
    if (!next)
        return CD_ENOMEM;
    int k = 0, j = 0;
    while (j < reg->n && strcmp(reg->items[j]->name, s->name) < 0)
        next[k++] = reg->items[j++];
    next[k++] = s;
    while (j < reg->n)
        next[k++] = reg->items[j++];
    pthread_mutex_lock(&reg->mu);
    free(reg->items);
    reg->items = next;
    reg->n = k;
    off_remove(reg, s->name);
    pthread_mutex_unlock(&reg->mu);
    return CD_OK;
}

int cd_registry_load_one(struct cd_registry *reg, const char *name,
                         void (*retire)(struct cd_served *old, void *ctx),
                         void *ctx, int *version, struct cd_err *err)
{
    char q1[160], q2[600];
    int rc;
    if ((rc = check_name(name, err)) != CD_OK)
        return rc;
    pthread_mutex_lock(&reg->reload_mu);
    if (!has_model_folder(&reg->cfg, name)) {
        rc = cd_err_set(err, CD_EIO, "no model folder '%s' under models_dir "
                        "(a folder holding model.json)", name);
        goto out;
    }
    struct cd_served *old = find(reg->items, reg->n, name);
    const struct off_model *off = off_find(reg, name);
    int ver = old ? old->version + 1 : off ? off->version + 1 : 1;
    struct cd_served *s = served_load(&reg->cfg, name, ver), *replaced = NULL;
    if (!s) {
        rc = cd_err_set(err, CD_ENOMEM, "out of memory loading %s", name);
        goto out;
    }
    if (s->state != CD_SERVED_READY && !(old && old->state != CD_SERVED_READY)) {
        /* Whatever serves (or nothing) stays as it is. */
        if (old)
            cd_log(CD_LOG_ERR, "model_reload_failed", "model=%s kept_version=%d reason=%s",
                   cd_log_quote(name, q1, sizeof q1), old->version,
                   cd_log_quote(s->reason, q2, sizeof q2));
        if (old)
            rc = cd_err_set(err, CD_EFORMAT, "model %s failed to load: %s; version %d "
                            "keeps serving", name, s->reason, old->version);
        else
            rc = cd_err_set(err, CD_EFORMAT, "model %s failed to load: %s", name,
                            s->reason);
        if (!old) {
            pthread_mutex_lock(&reg->mu);
            if (off_set(reg, name, ver, false, s->reason) != CD_OK)
                rc = cd_err_set(err, CD_ENOMEM, "out of memory");
            pthread_mutex_unlock(&reg->mu);
        }
        cd_served_unref(s);
        goto out;
    }
    /* Ready, or failed in place of a failed version (the reason refreshes). */
    if (put_served(reg, s, &replaced) != CD_OK) {
        cd_served_unref(s);
        rc = cd_err_set(err, CD_ENOMEM, "out of memory");
        goto out;
    }
    int replaced_version = replaced ? replaced->version : 0;
    if (replaced)
        retire_one(replaced, retire, ctx);
    publish_counts(reg);
    if (s->state != CD_SERVED_READY) {
        rc = cd_err_set(err, CD_EFORMAT, "model %s failed to load: %s", name, s->reason);
        goto out;
    }
    cd_log(CD_LOG_INFO, "model_swapped", "model=%s version=%d replaced=%d",
           cd_log_quote(name, q1, sizeof q1), ver, replaced_version);
    if (version)
        *version = ver;
    rc = CD_OK;
out:
    pthread_mutex_unlock(&reg->reload_mu);
    return rc;
}

int cd_registry_unload_one(struct cd_registry *reg, const char *name,
                           void (*retire)(struct cd_served *old, void *ctx),
                           void *ctx, struct cd_err *err)
{
    char q1[160];
    int rc;
    if ((rc = check_name(name, err)) != CD_OK)
        return rc;
    pthread_mutex_lock(&reg->reload_mu);
    int at = index_of(reg->items, reg->n, name);
    if (at < 0) {
        rc = cd_err_set(err, CD_EIO, "model '%s' is not loaded", name);
        goto out;
    }
    struct cd_served *old = reg->items[at];
    pthread_mutex_lock(&reg->mu);
    if (off_set(reg, name, old->version, true, "unloaded") != CD_OK) {
        pthread_mutex_unlock(&reg->mu);
        rc = cd_err_set(err, CD_ENOMEM, "out of memory");
        goto out;
    }
    memmove(&reg->items[at], &reg->items[at + 1],
            (size_t)(reg->n - at - 1) * sizeof *reg->items);
    reg->n--;
    pthread_mutex_unlock(&reg->mu);
    cd_log(CD_LOG_INFO, "model_unloaded", "model=%s version=%d",
           cd_log_quote(name, q1, sizeof q1), old->version);
    retire_one(old, retire, ctx);
    publish_counts(reg);
    rc = CD_OK;
out:
    pthread_mutex_unlock(&reg->reload_mu);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct cd_registry_entry *)a)->name,
                  ((const struct cd_registry_entry *)b)->name);
}

static bool entry_listed(const struct cd_registry_entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i].name, name))
            return true;
    return false;
}

int cd_registry_index(struct cd_registry *reg, struct cd_registry_entry **out,
                      int *n_out, struct cd_err *err)
{
    char **names = NULL;
    int n_names = 0, rc, n = 0;
    *out = NULL;
    *n_out = 0;
    if ((rc = scan_dir(reg->cfg.models_dir, &names, &n_names, err)) != CD_OK)
        return rc;
    pthread_mutex_lock(&reg->mu);
    size_t cap = (size_t)reg->n + (size_t)reg->n_off + (size_t)n_names + 1;
    struct cd_registry_entry *e = calloc(cap, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&reg->mu);
        free_names(names, n_names);
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    }
    for (int i = 0; i < reg->n; i++, n++) {
        const struct cd_served *s = reg->items[i];
        snprintf(e[n].name, sizeof e[n].name, "%s", s->name);
        e[n].version = s->version;
        e[n].ready = s->state == CD_SERVED_READY;
        snprintf(e[n].reason, sizeof e[n].reason, "%s", e[n].ready ? "" : s->reason);
    }
    for (int i = 0; i < reg->n_off; i++) {
        if (entry_listed(e, n, reg->off[i].name))
            continue;
        snprintf(e[n].name, sizeof e[n].name, "%s", reg->off[i].name);
        e[n].version = reg->off[i].version;
        snprintf(e[n].reason, sizeof e[n].reason, "%s", reg->off[i].reason);
        n++;
    }
    pthread_mutex_unlock(&reg->mu);
    for (int i = 0; i < n_names; i++) {
        if (entry_listed(e, n, names[i]))
            continue;
        snprintf(e[n].name, sizeof e[n].name, "%s", names[i]);
        snprintf(e[n].reason, sizeof e[n].reason, "not loaded");
        n++;
    }
    free_names(names, n_names);
    if (n > 1)
        qsort(e, (size_t)n, sizeof *e, cmp_entry);
    *out = e;
    *n_out = n;
    return CD_OK;
}
