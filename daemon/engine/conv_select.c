/* conv_select.c — which kernel variant each conv and linear layer runs
 * with on the OpenCL backend: one plan per layer (keyed by its weight offset
 * and geometry) holding its packed weights and its variant for batch 1 and
 * for larger batches. For convs, at load a bounded autotuner times the
 * variants that fit (results cached on disk per device, driver and kernel
 * sources, next to the program binary), else a deterministic heuristic
 * decides; linear layers take their shape's heuristic. Enqueues through
 * ops_cl_conv*.c and ops_cl_linear.c; never aborts, and a bad or unwritable
 * cache only costs a re-tune. */
#include "conv_select.h"

#include "cl_program.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TUNE_REPS 2 /* timed runs per candidate after one warm-up run */
#define TUNE_MARGIN 0.85 /* another variant must take < 85 % of the
                          * heuristic's time to replace it */

struct plan {
    size_t w_off, w_n;
    bool linear;               /* a linear layer: lg, not g, and v1/vn are
                                * enum cd_linear_variant values */
    struct cd_cl_conv_geo g;
    struct cd_cl_linear_geo lg;
    cl_mem wpk;                /* packed weights, NULL until a variant needs them */
    cl_mem wino;               /* Winograd-transformed weights, likewise */
    int v1, vn;                /* variant at batch 1, at batch > 1 */
};

/* One tuned result: the best variant for geometry g at `batch` samples. */
struct tuned {
    struct cd_cl_conv_geo g;
    int batch, v;
};

struct cd_conv_plans {
    struct plan *p;
    int n, cap;
    int force;                 /* -1, or the variant every fitting conv runs */
    int force_linear;          /* -1, or the variant every linear runs */
    struct cd_cl_linear_tiling force_tiling; /* 0 x 0: the automatic one */
    bool no_pad;               /* tests: packed kernels test borders */
    double budget_s, spent_s;  /* tuning time allowed and used */
    bool cache_read;
    struct tuned *t;
    int nt, capt;
    cl_mem pad;                /* zero-padded input (packed variants) or
                                * Winograd V/M scratch, shared by all */
    size_t pad_floats;
    char path[640];            /* tuning cache file, "" = none */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static struct cd_conv_plans *plans_of(struct cd_cl_backend *be)
{
    if (be->conv_plans)
        return be->conv_plans;
    struct cd_conv_plans *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    ps->force = -1;
    ps->force_linear = -1;
    const char *ms = getenv("CONVD_CONV_TUNE_MS");
    long budget = CD_CONV_TUNE_MS_DEFAULT;
    if (ms && *ms) {
        char *end;
        long v = strtol(ms, &end, 10);
        if (*end == '\0' && v >= 0 && v <= 600000)
            budget = v;
    }
    ps->budget_s = (double)budget * 1e-3;
    if (be->cache_dir[0] &&
        cd_cl_program_cache_path(be, be->cache_dir, ps->path,
                                 sizeof ps->path - 8, NULL) == CD_OK) {
        size_t n = strlen(ps->path);
        if (n > 4 && !strcmp(ps->path + n - 4, ".bin"))
            strcpy(ps->path + n - 4, ".tune");
        else
            ps->path[0] = '\0';
    }
    /* without a writable cache the timings would be lost at exit and
     * repeated at every load: the heuristic decides instead */
    if (!ps->path[0] || access(be->cache_dir, W_OK) != 0)
        ps->budget_s = 0;
    be->conv_plans = ps;
    return ps;
}

/* ---- heuristic --------------------------------------------------------- */

/* From bench/micro/bench_conv_resnet on this machine: cd_matmul wins 1x1
 * layers with many positions, the packed kernels everything else with 16+
 * output channels per group (7 x 4 vectors when there are 64+ channels to
 * fill them, 14 x 2 below), the x-vectorised tile kernel few-channel
 * inputs such as RGB stems and layers with fewer than 16 output channels. */
static int heuristic_direct(const struct cd_cl_conv_geo *g)
{
    int cog = g->cout / g->groups, cig = g->cin / g->groups;
    bool pw = cd_cl_conv_pointwise(g);
    int fallback = pw ? CD_CONV_GEMM : CD_CONV_TILE;
    int hw = g->out[0] * g->out[1] * g->out[2];
    if (cog < 16 || (pw && hw >= 196) || (!pw && cig < 8))
        return cd_cl_conv_variant_ok(g, fallback) ? fallback : CD_CONV_TILE;
    int v = cog > 32 ? CD_CONV_PK7X4 : CD_CONV_PK14X2;
    return cd_cl_conv_variant_ok(g, v) ? v : fallback;
}

/* Winograd beats them on 3x3 stride-1 layers with 32+ input and output
 * channels once there are 16+ 4x4 output tiles in the batch (resnet 56x56
 * .. 14x14 and densenet's 128->32 at batch 1, 7x7 from batch 4: 1.2-2.3x
 * per CPU second in bench_conv_resnet); with fewer tiles, the tile padding
 * and the 4x larger transformed weights cost more than it saves. */
int cd_conv_select_heuristic(const struct cd_cl_conv_geo *g, int batch)
{
    long tiles = (long)batch * ((g->out[1] + 3) / 4) * ((g->out[2] + 3) / 4);
    if (cd_cl_conv_wino_ok(g) && g->cin >= 32 && g->cout >= 32 &&
        tiles >= 16)
        return CD_CONV_WINO16X16;
    return heuristic_direct(g);
}

/* ---- tuning cache file: one line per result ----------------------------
 * "cin cout groups nsp in0 in1 in2 k0 k1 k2 s0 s1 s2 d0 d1 d2 p0 p1 p2
 *  out0 out1 out2 batch variant-name" */

static int geo_ints(const struct cd_cl_conv_geo *g, int *v)
{
    int n = 0;
    v[n++] = g->cin;
    v[n++] = g->cout;
    v[n++] = g->groups;
    v[n++] = g->nsp;
    for (int i = 0; i < 3; i++)
        v[n++] = g->in[i];
    for (int i = 0; i < 3; i++)
        v[n++] = g->k[i];
    for (int i = 0; i < 3; i++)
        v[n++] = g->s[i];
    for (int i = 0; i < 3; i++)
        v[n++] = g->d[i];
    for (int i = 0; i < 3; i++)
        v[n++] = g->p[i];
    for (int i = 0; i < 3; i++)
        v[n++] = g->out[i];
    return n;
}
#define GEO_INTS 22

static bool geo_eq(const struct cd_cl_conv_geo *a,
                   const struct cd_cl_conv_geo *b)
{
    int x[GEO_INTS], y[GEO_INTS];
    geo_ints(a, x);
    geo_ints(b, y);
    return !memcmp(x, y, sizeof x);
}

static int variant_by_name(const char *s)
{
    for (int v = 0; v < CD_CONV_VARIANT_COUNT; v++)
        if (!strcmp(s, cd_conv_variant_name(v)))
            return v;
    return -1;
}

static void remember(struct cd_conv_plans *ps, const struct cd_cl_conv_geo *g,
                     int batch, int v)
{
    if (ps->nt == ps->capt) {
        int cap = ps->capt ? ps->capt * 2 : 32;
        struct tuned *t = realloc(ps->t, (size_t)cap * sizeof *t);
        if (!t)
            return;
        ps->t = t;
        ps->capt = cap;
    }
    ps->t[ps->nt++] = (struct tuned){ *g, batch, v };
}

static int recall(const struct cd_conv_plans *ps,
                  const struct cd_cl_conv_geo *g, int batch)
{
    for (int i = ps->nt - 1; i >= 0; i--)
        if (ps->t[i].batch == batch && geo_eq(&ps->t[i].g, g))
            return ps->t[i].v;
    return -1;
}

/* Reads the cache file once; lines that do not parse, name an unknown
 * variant or a variant that does not fit their geometry are skipped. */
static void cache_load(struct cd_conv_plans *ps)
{
    if (ps->cache_read)
        return;
    ps->cache_read = true;
    FILE *f = ps->path[0] ? fopen(ps->path, "r") : NULL;
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        int v[GEO_INTS + 1], used = 0, off = 0;
        char name[32];
        bool ok = true;
        for (int i = 0; ok && i <= GEO_INTS; i++, off += used)
            ok = sscanf(line + off, "%d%n", &v[i], &used) == 1;
        if (!ok || sscanf(line + off, "%31s", name) != 1)
            continue;
        struct cd_cl_conv_geo g = { .cin = v[0], .cout = v[1],
                                    .groups = v[2], .nsp = v[3] };
        for (int i = 0; i < 3; i++) {
            g.in[i] = v[4 + i];
            g.k[i] = v[7 + i];
            g.s[i] = v[10 + i];
            g.d[i] = v[13 + i];
            g.p[i] = v[16 + i];
            g.out[i] = v[19 + i];
        }
        int var = variant_by_name(name);
        if (var < 0 || g.groups < 1 || g.nsp < 1 || g.nsp > 3 ||
            v[GEO_INTS] < 1)
            continue;
        for (int i = 0; i < 3; i++)
            if (g.s[i] < 1 || g.d[i] < 1 || g.k[i] < 1 || g.out[i] < 1)
                ok = false;
        /* only ever compared with a layer's own geometry, never trusted */
        if (ok && cd_cl_conv_variant_ok(&g, var))
            remember(ps, &g, v[GEO_INTS], var);
    }
    fclose(f);
}

static void cache_append(const struct cd_conv_plans *ps,
                         const struct cd_cl_conv_geo *g, int batch, int v)
{
    FILE *f = ps->path[0] ? fopen(ps->path, "a") : NULL;
    if (!f)
        return;
    int x[GEO_INTS];
    geo_ints(g, x);
    for (int i = 0; i < GEO_INTS; i++)
        fprintf(f, "%d ", x[i]);
    fprintf(f, "%d %s\n", batch, cd_conv_variant_name(v));
    fclose(f);
}

/* ---- plans ------------------------------------------------------------- */

static struct plan *find_plan(struct cd_conv_plans *ps,
                              const struct cd_exec_node *e,
                              const struct cd_cl_conv_geo *g)
{
    for (int i = 0; i < ps->n; i++)
        if (!ps->p[i].linear && ps->p[i].w_off == e->w[0].off &&
            geo_eq(&ps->p[i].g, g))
            return &ps->p[i];
    return NULL;
}

static struct plan *new_plan(struct cd_conv_plans *ps,
                             const struct cd_exec_node *e,
                             const struct cd_cl_conv_geo *g)
{
    if (ps->n == ps->cap) {
        int cap = ps->cap ? ps->cap * 2 : 32;
        struct plan *p = realloc(ps->p, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        ps->p = p;
        ps->cap = cap;
    }
    struct plan *p = &ps->p[ps->n++];
    *p = (struct plan){ .w_off = e->w[0].off,
                        .w_n = (size_t)cd_shape_numel(&e->w[0].shape),
                        .g = *g,
                        .v1 = cd_conv_select_heuristic(g, 1),
                        .vn = cd_conv_select_heuristic(g, 2) };
    return p;
}

static int ensure_packed(struct cd_cl_backend *be, struct plan *pl,
                         const struct cd_exec_node *e, struct cd_err *err)
{
    if (pl->wpk)
        return CD_OK;
    size_t n = pl->linear ? cd_cl_linear_packed_floats(&pl->lg)
                          : cd_cl_conv_packed_floats(&pl->g);
    cl_int rc;
    pl->wpk = clCreateBuffer(be->ctx, CL_MEM_READ_WRITE,
                             (n ? n : 16) * sizeof(float), NULL, &rc);
    if (rc != CL_SUCCESS) {
        pl->wpk = NULL;
        return cd_err_set(err, CD_EDEVICE, "%s: clCreateBuffer(packed "
                          "weights, %zu floats) failed: %s (%d)", e->name, n,
                          cd_cl_strerror(rc), (int)rc);
    }
    int r = pl->linear ? cd_cl_linear_pack(be, e, &pl->lg, pl->wpk, err)
                       : cd_cl_conv_pack(be, e, &pl->g, pl->wpk, err);
    if (r != CD_OK) {
        clReleaseMemObject(pl->wpk);
        pl->wpk = NULL;
    }
    return r;
}

static struct plan *get_plan(struct cd_cl_backend *be,
                             const struct cd_exec_node *e,
                             const struct cd_cl_conv_geo *g,
                             struct cd_err *err)
{
    struct cd_conv_plans *ps = plans_of(be);
    if (!ps) {
        cd_err_set(err, CD_ENOMEM, "out of memory");
        return NULL;
    }
    struct plan *pl = find_plan(ps, e, g);
    if (!pl && !(pl = new_plan(ps, e, g)))
        cd_err_set(err, CD_ENOMEM, "out of memory");
    return pl;
}

static int variant_for(const struct cd_conv_plans *ps, const struct plan *pl,
                       int batch)
{
    if (ps->force >= 0 && cd_cl_conv_variant_ok(&pl->g, ps->force))
        return ps->force;
    return batch > 1 ? pl->vn : pl->v1;
}

static int ensure_wino(struct cd_cl_backend *be, struct plan *pl,
                       const struct cd_exec_node *e, struct cd_err *err)
{
    if (pl->wino)
        return CD_OK;
    size_t n = cd_cl_conv_wino_weight_floats(&pl->g);
    cl_int rc;
    pl->wino = clCreateBuffer(be->ctx, CL_MEM_READ_WRITE,
                              (n ? n : 16) * sizeof(float), NULL, &rc);
    if (rc != CL_SUCCESS) {
        pl->wino = NULL;
        return cd_err_set(err, CD_EDEVICE, "%s: clCreateBuffer(Winograd "
                          "weights, %zu floats) failed: %s (%d)", e->name, n,
                          cd_cl_strerror(rc), (int)rc);
    }
    int r = cd_cl_conv_wino_pack(be, e, &pl->g, pl->wino, err);
    if (r != CD_OK) {
        clReleaseMemObject(pl->wino);
        pl->wino = NULL;
    }
    return r;
}

/* Grows the shared padded-input scratch to n floats; on failure the
 * packed kernels test borders themselves (and a Winograd variant gives way
 * to the heuristic's), so this never fails a run. */
static void ensure_pad(struct cd_cl_backend *be, size_t n)
{
    struct cd_conv_plans *ps = be->conv_plans;
    if (n <= ps->pad_floats)
        return;
    if (ps->pad)
        clReleaseMemObject(ps->pad);
    cl_int rc;
    ps->pad = clCreateBuffer(be->ctx, CL_MEM_READ_WRITE, n * sizeof(float),
                             NULL, &rc);
    ps->pad_floats = rc == CL_SUCCESS ? n : 0;
    if (rc != CL_SUCCESS)
        ps->pad = NULL;
}

static int run_plan(struct cd_cl_backend *be, struct plan *pl,
                    const struct cd_exec_node *e,
                    const struct cd_cl_conv_geo *g,
                    const struct cd_cl_conv_epi *p, int v, int batch,
                    struct cd_err *err)
{
    struct cd_conv_plans *ps = be->conv_plans;
    int rc;
    if (cd_cl_conv_variant_wino(v)) {
        size_t need = cd_cl_conv_wino_scratch_floats(g, v, batch);
        ensure_pad(be, need);
        if (ps->pad_floats < need) /* no memory for V and M */
            v = heuristic_direct(g);
        else if ((rc = ensure_wino(be, pl, e, err)) != CD_OK)
            return rc;
        else {
            const struct cd_cl_conv_bufs wb = { pl->wino, ps->pad,
                                                ps->pad_floats };
            return cd_cl_conv_run_variant(be, e, g, p, v, &wb, batch, err);
        }
    }
    if (cd_cl_conv_variant_packed(v)) {
        if ((rc = ensure_packed(be, pl, e, err)) != CD_OK)
            return rc;
        if (!ps->no_pad)
            ensure_pad(be, cd_cl_conv_pad_floats(g, v, batch));
    }
    const struct cd_cl_conv_bufs bufs = { pl->wpk, ps->no_pad ? NULL : ps->pad,
                                          ps->no_pad ? 0 : ps->pad_floats };
    return cd_cl_conv_run_variant(be, e, g, p, v, &bufs, batch, err);
}

int cd_conv_select_run(struct cd_cl_backend *be, const struct cd_exec_node *e,
                       const struct cd_cl_conv_geo *g,
                       const struct cd_cl_conv_epi *p, int batch,
                       struct cd_err *err)
{
    struct plan *pl = get_plan(be, e, g, err);
    if (!pl)
        return CD_ENOMEM;
    return run_plan(be, pl, e, g, p, variant_for(be->conv_plans, pl, batch),
                    batch, err);
}

int cd_conv_select_variant(struct cd_cl_backend *be,
                           const struct cd_exec_node *e, int batch,
                           struct cd_err *err)
{
    struct cd_cl_conv_geo g;
    if (cd_cl_conv_geo(e, &g, err) != CD_OK)
        return -1;
    struct plan *pl = get_plan(be, e, &g, err);
    return pl ? variant_for(be->conv_plans, pl, batch) : -1;
}

/* ---- tuning ------------------------------------------------------------ */

/* Best of TUNE_REPS timed runs of variant v at `batch` after a warm-up
 * run; a negative value when it failed (err filled). */
static double time_variant(struct cd_cl_backend *be, struct plan *pl,
                           const struct cd_exec_node *e,
                           const struct cd_cl_conv_epi *p, int v, int batch,
                           struct cd_err *err)
{
    double best = -1.0;
    for (int r = -1; r < TUNE_REPS; r++) {
        double t0 = now_s();
        if (run_plan(be, pl, e, &pl->g, p, v, batch, err) != CD_OK ||
            cd_cl_check(clFinish(be->q), "clFinish (tune)", err) != CD_OK)
            return -1.0;
        double t = now_s() - t0;
        if (r >= 0 && (best < 0 || t < best))
            best = t;
    }
    return best;
}

/* The fastest fitting variant at `batch`, or the heuristic's when the
 * budget runs out first; either is remembered and appended to the cache
 * file, so a layer is tuned (or given up on) once per device and driver. */
static int tune(struct cd_cl_backend *be, struct plan *pl,
                const struct cd_exec_node *e, const struct cd_cl_conv_epi *p,
                int batch, struct cd_err *err)
{
    struct cd_conv_plans *ps = be->conv_plans;
    int heur = cd_conv_select_heuristic(&pl->g, batch), best = heur;
    double best_t = -1.0, heur_t = -1.0, t0 = now_s();
    bool complete = true;
    for (int v = 0; v < CD_CONV_VARIANT_COUNT; v++) {
        if (!cd_cl_conv_variant_ok(&pl->g, v))
            continue;
        if (ps->spent_s + (now_s() - t0) > ps->budget_s) {
            complete = false;
            break;
        }
        double t = time_variant(be, pl, e, p, v, batch, err);
        if (t < 0)
            return -1;
        if (v == heur)
            heur_t = t;
        if (best_t < 0 || t < best_t) {
            best_t = t;
            best = v;
        }
    }
    ps->spent_s += now_s() - t0;
    /* the heuristic's unless another is clearly faster: on a loaded
     * machine a best of TUNE_REPS runs is noisy (a load-5 tune kept
     * pk14x2 on resnet's 56x56 layers, which Winograd runs 2x faster) */
    if (best != heur && heur_t > 0 && best_t > TUNE_MARGIN * heur_t)
        best = heur;
    if (!complete) /* out of budget: the heuristic's, recorded as final so
                    * that later loads time nothing */
        best = heur;
    remember(ps, &pl->g, batch, best);
    cache_append(ps, &pl->g, batch, best);
    return best;
}

static int pick(struct cd_cl_backend *be, struct plan *pl,
                const struct cd_exec_node *e, const struct cd_cl_conv_epi *p,
                int batch, struct cd_err *err)
{
    struct cd_conv_plans *ps = be->conv_plans;
    int v = recall(ps, &pl->g, batch);
    if (v >= 0)
        return v;
    if (ps->budget_s > 0)
        return tune(be, pl, e, p, batch, err);
    return cd_conv_select_heuristic(&pl->g, batch);
}

/* ---- linear layers ----------------------------------------------------- */

static struct plan *get_linear_plan(struct cd_cl_backend *be,
                                    const struct cd_exec_node *e,
                                    const struct cd_cl_linear_geo *g,
                                    struct cd_err *err)
{
    struct cd_conv_plans *ps = plans_of(be);
    struct plan *pl = NULL;
    for (int i = 0; ps && i < ps->n && !pl; i++)
        if (ps->p[i].linear && ps->p[i].w_off == e->w[0].off &&
            !memcmp(&ps->p[i].lg, g, sizeof *g))
            pl = &ps->p[i];
    if (pl)
        return pl;
    if (!ps || !(pl = new_plan(ps, e, &(struct cd_cl_conv_geo){ .groups = 1 }))) {
        cd_err_set(err, CD_ENOMEM, "out of memory");
        return NULL;
    }
    pl->linear = true;
    pl->lg = *g;
    pl->v1 = cd_cl_linear_heuristic(g, 1);
    pl->vn = cd_cl_linear_heuristic(g, 2);
    return pl;
}

static int linear_variant_for(const struct cd_conv_plans *ps,
                              const struct plan *pl, int batch)
{
    if (ps->force_linear >= 0)
        return ps->force_linear;
    return batch > 1 ? pl->vn : pl->v1;
}

static int run_linear_plan(struct cd_cl_backend *be, struct plan *pl,
                           const struct cd_exec_node *e, int v, int batch,
                           struct cd_err *err)
{
    int rc;
    if (cd_cl_linear_variant_packed(v) &&
        (rc = ensure_packed(be, pl, e, err)) != CD_OK)
        return rc;
    const struct cd_cl_linear_tiling *t = &be->conv_plans->force_tiling;
    return cd_cl_linear_run_variant(be, e, &pl->lg, v, t->jper ? t : NULL,
                                    pl->wpk, batch, err);
}

int cd_conv_select_linear_run(struct cd_cl_backend *be,
                              const struct cd_exec_node *e,
                              const struct cd_cl_linear_geo *g, int batch,
                              struct cd_err *err)
{
    struct plan *pl = get_linear_plan(be, e, g, err);
    if (!pl)
        return CD_ENOMEM;
    return run_linear_plan(be, pl, e,
                           linear_variant_for(be->conv_plans, pl, batch),
                           batch, err);
}

/* Load time: the shape's variants for batch 1 and max_batch, the packed
 * weights, and one run of each chosen kernel (compiled now, not at the
 * first request). */
static int linear_prepare(struct cd_cl_backend *be,
                          const struct cd_exec_node *e, int max_batch,
                          struct cd_err *err)
{
    struct cd_cl_linear_geo g;
    int rc;
    if ((rc = cd_cl_linear_geo(e, &g, err)))
        return rc;
    struct plan *pl = get_linear_plan(be, e, &g, err);
    if (!pl)
        return CD_ENOMEM;
    pl->v1 = cd_cl_linear_heuristic(&g, 1);
    pl->vn = cd_cl_linear_heuristic(&g, max_batch > 1 ? max_batch : 1);
    if ((rc = run_linear_plan(be, pl, e, pl->v1, 1, err)))
        return rc;
    /* the packed kernels have one local size, so a batch-1 run compiles
     * them for every batch; the gemv lets the driver pick it */
    bool pk = cd_cl_linear_variant_packed(pl->vn);
    if (max_batch > 1 && (pl->vn != pl->v1 || !pk) &&
        (rc = run_linear_plan(be, pl, e, pl->vn, pk ? 1 : max_batch, err)))
        return rc;
    return cd_cl_check(clFinish(be->q), "clFinish (warm)", err);
}

void cd_conv_select_force_linear(struct cd_cl_backend *be, int v,
                                 const struct cd_cl_linear_tiling *t)
{
    struct cd_conv_plans *ps = be ? plans_of(be) : NULL;
    if (!ps)
        return;
    ps->force_linear = v >= 0 && v < CD_LINEAR_VARIANT_COUNT ? v : -1;
    ps->force_tiling = (struct cd_cl_linear_tiling){ 0, 0 };
    if (t && t->jper > 0 && t->rper > 0)
        ps->force_tiling = *t;
}

int cd_conv_select_prepare(struct cd_cl_backend *be,
                           const struct cd_exec_node *e, int max_batch,
                           struct cd_err *err)
{
    struct cd_cl_conv_geo g;
    struct cd_cl_conv_epi p;
    int rc;
    if (e->op == CD_OP_LINEAR)
        return linear_prepare(be, e, max_batch, err);
    if (e->op != CD_OP_CONV)
        return CD_OK;
    if ((rc = cd_cl_conv_geo(e, &g, err)) || (rc = cd_cl_conv_epi(e, &p, err)))
        return rc;
    bool pw = cd_cl_conv_pointwise(&g);
    if (cd_cl_conv_is_depthwise(&g)) {
        /* no variants to tune; one run compiles its kernel now (a fixed
         * local size: once for every batch; the generic kernel's local
         * size is the driver's, so at max_batch too) */
        if ((rc = cd_cl_conv_depthwise(be, e, &g, &p, 1, err)) ||
            (max_batch > 1 && cd_cl_conv_dw_pick(be, &g) == CD_DW_GENERIC &&
             (rc = cd_cl_conv_depthwise(be, e, &g, &p, max_batch, err))))
            return rc;
        return cd_cl_check(clFinish(be->q), "clFinish (warm)", err);
    }
    if (g.nsp == 3 && !pw)
        return CD_OK; /* 3-D kernels have no variants */
    struct plan *pl = get_plan(be, e, &g, err);
    if (!pl)
        return CD_ENOMEM;
    cache_load(be->conv_plans);
    if ((pl->v1 = pick(be, pl, e, &p, 1, err)) < 0)
        return err ? err->code : CD_EDEVICE;
    pl->vn = pl->v1;
    if (max_batch > 1 &&
        (pl->vn = pick(be, pl, e, &p, max_batch, err)) < 0)
        return err ? err->code : CD_EDEVICE;
    /* tuning built every weight layout: keep the chosen variants' only
     * (Winograd's is 4x the weights; a later forced or fallback run
     * builds a layout again) */
    if (pl->wpk && !cd_cl_conv_variant_packed(pl->v1) &&
        !cd_cl_conv_variant_packed(pl->vn)) {
        clReleaseMemObject(pl->wpk);
        pl->wpk = NULL;
    }
    if (pl->wino && !cd_cl_conv_variant_wino(pl->v1) &&
        !cd_cl_conv_variant_wino(pl->vn)) {
        clReleaseMemObject(pl->wino);
        pl->wino = NULL;
    }
    /* warm: compile the chosen kernels now, not at the first request. A
     * packed kernel has one local size, so one run compiles it for every
     * batch; the others let the driver pick it, so run those at max_batch
     * too (the padded-input scratch is grown for max_batch either way). */
    if ((rc = run_plan(be, pl, e, &g, &p, pl->v1, 1, err)))
        return rc;
    if (max_batch > 1 && (pl->vn != pl->v1 ||
                          !cd_cl_conv_variant_packed(pl->vn)) &&
        (rc = run_plan(be, pl, e, &g, &p, pl->vn, max_batch, err)))
        return rc;
    if (cd_cl_conv_variant_packed(pl->vn) && !be->conv_plans->no_pad)
        ensure_pad(be, cd_cl_conv_pad_floats(&g, pl->vn, max_batch));
    ensure_pad(be, cd_cl_conv_wino_scratch_floats(&g, pl->vn, max_batch));
    return cd_cl_check(clFinish(be->q), "clFinish (warm)", err);
}

void cd_conv_select_force(struct cd_cl_backend *be, int v)
{
    struct cd_conv_plans *ps = be ? plans_of(be) : NULL;
    if (ps)
        ps->force = v >= 0 && v < CD_CONV_VARIANT_COUNT ? v : -1;
}

void cd_conv_select_padding(struct cd_cl_backend *be, bool on)
{
    struct cd_conv_plans *ps = be ? plans_of(be) : NULL;
    if (ps)
        ps->no_pad = !on;
}

void cd_conv_select_forget(struct cd_cl_backend *be, size_t off, size_t n)
{
    struct cd_conv_plans *ps = be ? be->conv_plans : NULL;
    if (!ps)
        return;
    int j = 0;
    for (int i = 0; i < ps->n; i++) {
        struct plan *pl = &ps->p[i];
        bool hit = n == SIZE_MAX ||
                   (pl->w_off < off + n && off < pl->w_off + pl->w_n);
        if (hit) {
            if (pl->wpk)
                clReleaseMemObject(pl->wpk);
            if (pl->wino)
                clReleaseMemObject(pl->wino);
            continue;
        }
        ps->p[j++] = *pl;
    }
    ps->n = j;
}

void cd_conv_select_free(struct cd_cl_backend *be)
{
    if (!be || !be->conv_plans)
        return;
    cd_conv_select_forget(be, 0, SIZE_MAX);
    if (be->conv_plans->pad)
        clReleaseMemObject(be->conv_plans->pad);
    free(be->conv_plans->p);
    free(be->conv_plans->t);
    free(be->conv_plans);
    be->conv_plans = NULL;
}
