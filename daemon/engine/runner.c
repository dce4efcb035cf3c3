/* runner.c — turns a rewritten graph into a plan for one backend: value
 * lifetimes, one activation arena (greedy placement of the largest blocks
 * first among lifetime-overlapping values), the weight pool, the exec nodes.
 * Running a batch writes the input, enqueues every exec node and allocates
 * nothing. Graph rewriting is not done here (passes.c). */
#include "runner.h"

#include "passes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALIGN_FLOATS 16

struct cd_runner {
    struct cd_model *m;
    struct cd_backend *be;
    int max_batch;
    int n_exec;
    struct cd_exec_node *exec;
    struct cd_tref *in_pool;  /* storage of every exec node's input trefs */
    size_t *val_off;          /* per value: arena offset of its storage */
    size_t arena_floats, wpool_floats;
    int input_value;
};

static size_t round_up(size_t n)
{
    return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

static int root_of(const struct cd_graph *g, int v)
{
    while (g->values[v].alias_of >= 0)
        v = g->values[v].alias_of;
    return v;
}

/* Floats between samples of value v: those of the buffer it lives in (a
 * view's root; wider than v when v is an in-place concat prefix). */
static size_t sample_stride(const struct cd_graph *g, int v)
{
    return (size_t)cd_shape_numel(&g->values[root_of(g, v)].shape);
}

static bool is_view(const struct cd_graph *g, const struct cd_node *n)
{
    return (n->op == CD_OP_FLATTEN || n->op == CD_OP_RESHAPE) &&
           g->values[n->out].alias_of >= 0;
}

struct block {
    int v;
    int def, last;
    size_t size, off;
};

static int by_size_desc(const void *a, const void *b)
{
    const struct block *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->v - y->v;
}

/* Places each block at the lowest offset that does not collide with a
 * placed block whose lifetime overlaps. Returns the arena size. */
static size_t place_blocks(struct block *bl, int n, int *placed_idx)
{
    size_t total = 0;
    qsort(bl, (size_t)n, sizeof *bl, by_size_desc);
    for (int i = 0; i < n; i++) {
        size_t off = 0;
        bool moved = true;
        while (moved) {
            moved = false;
            for (int j = 0; j < i; j++) {
                const struct block *p = &bl[placed_idx[j]];
                bool live = p->def <= bl[i].last && bl[i].def <= p->last;
                bool mem = p->off < off + bl[i].size && off < p->off + p->size;
                if (live && mem) {
                    off = p->off + p->size;
                    moved = true;
                }
            }
        }
        bl[i].off = off;
        placed_idx[i] = i;
        if (off + bl[i].size > total)
            total = off + bl[i].size;
    }
    return total;
}

static int plan_arena(struct cd_runner *r, struct cd_err *err)
{
    const struct cd_graph *g = &r->m->g;
    int nv = g->n_values, rc = CD_OK;
    struct block *bl = calloc((size_t)nv + 1, sizeof *bl);
    int *idx = calloc((size_t)nv + 1, sizeof *idx);
    int *first = malloc(((size_t)nv + 1) * sizeof *first);
    int *last = malloc(((size_t)nv + 1) * sizeof *last);
    if (!bl || !idx || !first || !last) {
        rc = cd_err_set(err, CD_ENOMEM, "out of memory planning arena");
        goto fail;
    }
    for (int v = 0; v < nv; v++)
        first[v] = last[v] = INT32_MIN;
    for (int v = 0; v < nv; v++) {
        int root = root_of(g, v);
        const struct cd_value *val = &g->values[v];
        int def = val->is_input ? -1 : val->producer;
        if (def == -1 && !val->is_input && val->alias_of < 0)
            continue; /* orphan left behind by a fusion */
        if (first[root] == INT32_MIN || def < first[root])
            first[root] = def;
        if (last[root] < def)
            last[root] = def;
        if (val->is_output || val->keep)
            last[root] = g->n_nodes;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int root = root_of(g, g->nodes[i].in[j]);
            if (last[root] < i)
                last[root] = i;
        }
    int n = 0;
    for (int v = 0; v < nv; v++) {
        if (root_of(g, v) != v || first[v] == INT32_MIN)
            continue;
        int64_t numel = cd_shape_numel(&g->values[v].shape);
        size_t sz;
        if (numel <= 0 || !cd_size_mul((size_t)numel, (size_t)r->max_batch, &sz) ||
            sz > ((size_t)1 << 36)) {
            rc = cd_err_set(err, CD_ENOMEM, "value \"%s\" too large for batch %d",
                            g->values[v].name, r->max_batch);
            goto fail;
        }
        bl[n++] = (struct block){ .v = v, .def = first[v], .last = last[v],
                                  .size = round_up(sz) };
    }
    r->arena_floats = place_blocks(bl, n, idx);
    for (int v = 0; v < nv; v++)
        r->val_off[v] = SIZE_MAX;
    for (int i = 0; i < n; i++)
        r->val_off[bl[i].v] = bl[i].off;
    for (int v = 0; v < nv; v++)
        r->val_off[v] = r->val_off[root_of(g, v)];
fail:
    free(bl);
    free(idx);
    free(first);
    free(last);
    return rc;
}

static int upload_weights(struct cd_runner *r, struct cd_err *err)
{
    struct cd_graph *g = &r->m->g;
    bool *used = calloc((size_t)g->n_weights + 1, sizeof *used);
    if (!used)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < CD_MAX_WEIGHTS; j++)
            if (g->nodes[i].w[j] >= 0)
                used[g->nodes[i].w[j]] = true;
    size_t total = 0;
    for (int w = 0; w < g->n_weights; w++) {
        if (!used[w])
            continue;
        g->weights[w].off = total;
        total += round_up((size_t)cd_shape_numel(&g->weights[w].shape));
    }
    r->wpool_floats = total;
    int rc = r->be->i->alloc(r->be, r->arena_floats, total, err);
    for (int w = 0; rc == CD_OK && w < g->n_weights; w++)
        if (used[w])
            rc = r->be->i->upload_weights(r->be, g->weights[w].off,
                                          g->weights[w].data,
                                          (size_t)cd_shape_numel(&g->weights[w].shape),
                                          err);
    free(used);
    return rc;
}

static int build_exec(struct cd_runner *r, struct cd_err *err)
{
    const struct cd_graph *g = &r->m->g;
    size_t n_in_total = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n_in_total += (size_t)g->nodes[i].n_in;
    r->exec = calloc((size_t)g->n_nodes + 1, sizeof *r->exec);
    r->in_pool = calloc(n_in_total + 1, sizeof *r->in_pool);
    if (!r->exec || !r->in_pool)
        return cd_err_set(err, CD_ENOMEM, "out of memory building plan");
    struct cd_tref *tp = r->in_pool;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct cd_node *n = &g->nodes[i];
        if (is_view(g, n))
            continue;
        if (!cd_ops[n->op].ref || !cd_ops[n->op].cl)
            return cd_err_set(err, CD_EINVAL,
                              "node \"%s\": op %s cannot run; it must be "
                              "rewritten at load (cd_passes_run)", n->name,
                              cd_ops[n->op].name);
        struct cd_exec_node *e = &r->exec[r->n_exec++];
        e->name = n->name;
        e->op = n->op;
        e->a = &n->a;
        e->n_in = n->n_in;
        e->in = tp;
        bool strided = false;
        for (int j = 0; j < n->n_in; j++, tp++) {
            tp->shape = g->values[n->in[j]].shape;
            tp->off = r->val_off[n->in[j]];
            tp->bstride = sample_stride(g, n->in[j]);
            strided |= tp->bstride != (size_t)cd_shape_numel(&tp->shape);
        }
        for (int j = 0; j < CD_MAX_WEIGHTS; j++) {
            e->has_w[j] = n->w[j] >= 0;
            if (e->has_w[j]) {
                e->w[j].shape = g->weights[n->w[j]].shape;
                e->w[j].off = g->weights[n->w[j]].off;
            }
        }
        e->out.shape = g->values[n->out].shape;
        e->out.off = r->val_off[n->out];
        e->out.bstride = sample_stride(g, n->out);
        strided |= e->out.bstride != (size_t)cd_shape_numel(&e->out.shape);
        if (strided && !cd_pass_op_strided(n->op))
            return cd_err_set(err, CD_EINVAL, "node \"%s\": op %s cannot "
                              "address a strided view", n->name,
                              cd_ops[n->op].name);
        if (r->be->i->prepare) {
            int rc = r->be->i->prepare(r->be, e, r->max_batch, err);
            if (rc != CD_OK)
                return cd_err_wrap(err, "node \"%s\"", n->name);
        }
    }
    return CD_OK;
}

int cd_runner_init(struct cd_runner **out, struct cd_model *m,
                   struct cd_backend *b, int max_batch, struct cd_err *err)
{
    *out = NULL;
    if (max_batch < 1 || max_batch > 4096)
        return cd_err_set(err, CD_ERANGE, "max batch %d outside 1..4096", max_batch);
    if (m->g.n_inputs != 1)
        return cd_err_set(err, CD_EINVAL, "model must have exactly one input");
    struct cd_runner *r = calloc(1, sizeof *r);
    if (!r)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    cd_model_ref(m);
    r->m = m;
    r->be = b;
    r->max_batch = max_batch;
    r->input_value = m->g.inputs[0];
    int rc;
    r->val_off = calloc((size_t)m->g.n_values + 1, sizeof *r->val_off);
    if (!r->val_off) {
        rc = cd_err_set(err, CD_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = plan_arena(r, err)) || (rc = upload_weights(r, err)) ||
        (rc = build_exec(r, err)))
        goto fail;
    *out = r;
    return CD_OK;
fail:
    cd_runner_free(r);
    return rc;
}

void cd_runner_free(struct cd_runner *r)
{
    if (!r)
        return;
    free(r->exec);
    free(r->in_pool);
    free(r->val_off);
    cd_model_unref(r->m);
    free(r);
}

int cd_runner_run(struct cd_runner *r, const float *input, int batch,
                  struct cd_err *err)
{
    if (batch < 1 || batch > r->max_batch)
        return cd_err_set(err, CD_ERANGE, "batch %d outside 1..%d", batch,
                          r->max_batch);
    const struct cd_backend_i *I = r->be->i;
    size_t n = (size_t)cd_shape_numel(&r->m->g.values[r->input_value].shape) *
               (size_t)batch;
    int rc = I->write(r->be, r->val_off[r->input_value], input, n, err);
    for (int i = 0; rc == CD_OK && i < r->n_exec; i++)
        rc = I->run(r->be, &r->exec[i], batch, err);
    if (rc == CD_OK)
        rc = I->finish(r->be, err);
    return rc;
}

int cd_runner_n_outputs(const struct cd_runner *r)
{
    return r->m->g.n_outputs;
}

const char *cd_runner_output_name(const struct cd_runner *r, int i)
{
    return r->m->g.values[r->m->g.outputs[i]].name;
}

struct cd_shape cd_runner_output_shape(const struct cd_runner *r, int i)
{
    return r->m->g.values[r->m->g.outputs[i]].shape;
}

static int read_value(struct cd_runner *r, int v, float *dst, int batch,
                      struct cd_err *err)
{
    if (batch < 1 || batch > r->max_batch)
        return cd_err_set(err, CD_ERANGE, "batch %d outside 1..%d", batch,
                          r->max_batch);
    if (r->val_off[v] == SIZE_MAX)
        return cd_err_set(err, CD_EINVAL, "value \"%s\" has no storage",
                          r->m->g.values[v].name);
    size_t n = (size_t)cd_shape_numel(&r->m->g.values[v].shape) * (size_t)batch;
    return r->be->i->read(r->be, r->val_off[v], dst, n, err);
}

int cd_runner_read_output(struct cd_runner *r, int i, float *dst, int batch,
                          struct cd_err *err)
{
    if (i < 0 || i >= r->m->g.n_outputs)
        return cd_err_set(err, CD_EINVAL, "no output %d", i);
    return read_value(r, r->m->g.outputs[i], dst, batch, err);
}

int cd_runner_read_value(struct cd_runner *r, const char *name, float *dst,
                         int batch, struct cd_shape *shape, struct cd_err *err)
{
    int v = cd_graph_find_value(&r->m->g, name);
    if (v < 0)
        return cd_err_set(err, CD_EINVAL, "no value \"%s\"", name);
    const struct cd_value *val = &r->m->g.values[v];
    if (!val->keep && !val->is_output && !val->is_input)
        return cd_err_set(err, CD_EINVAL,
                          "value \"%s\" is not kept (only outputs and the CAM "
                          "layer are readable)", name);
    if (shape)
        *shape = val->shape;
    return read_value(r, v, dst, batch, err);
}

int cd_runner_value_ref(const struct cd_runner *r, const char *name,
                        struct cd_tref *out, struct cd_err *err)
{
    int v = name ? cd_graph_find_value(&r->m->g, name) : -1;
    if (v < 0)
        return cd_err_set(err, CD_EINVAL, "no value \"%s\"", name ? name : "");
    const struct cd_value *val = &r->m->g.values[v];
    if (!val->keep && !val->is_output && !val->is_input)
        return cd_err_set(err, CD_EINVAL,
                          "value \"%s\" is not kept (only outputs and the CAM "
                          "layer are readable)", name);
    if (r->val_off[v] == SIZE_MAX)
        return cd_err_set(err, CD_EINVAL, "value \"%s\" has no storage", name);
    out->shape = val->shape;
    out->off = r->val_off[v];
    out->bstride = 0; /* kept values are never strided views (pass_concat.c) */
    return CD_OK;
}

struct cd_backend *cd_runner_backend(const struct cd_runner *r)
{
    return r->be;
}

size_t cd_runner_arena_bytes(const struct cd_runner *r)
{
    return r->arena_floats * sizeof(float);
}

size_t cd_runner_weight_bytes(const struct cd_runner *r)
{
    return r->wpool_floats * sizeof(float);
}

int cd_runner_max_batch(const struct cd_runner *r)
{
    return r->max_batch;
}

struct cd_shape cd_runner_input_shape(const struct cd_runner *r)
{
    return r->m->g.values[r->input_value].shape;
}

int cd_runner_n_exec(const struct cd_runner *r)
{
    return r->n_exec;
}

const struct cd_exec_node *cd_runner_exec_node(const struct cd_runner *r, int i)
{
    return i >= 0 && i < r->n_exec ? &r->exec[i] : NULL;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cd_runner_run_profiled(struct cd_runner *r, const float *input, int batch,
                           double *node_s, struct cd_err *err)
{
    if (batch < 1 || batch > r->max_batch)
        return cd_err_set(err, CD_ERANGE, "batch %d outside 1..%d", batch,
                          r->max_batch);
    const struct cd_backend_i *I = r->be->i;
    size_t n = (size_t)cd_shape_numel(&r->m->g.values[r->input_value].shape) *
               (size_t)batch;
    int rc = I->write(r->be, r->val_off[r->input_value], input, n, err);
    if (rc == CD_OK)
        rc = I->finish(r->be, err);
    for (int i = 0; rc == CD_OK && i < r->n_exec; i++) {
        double t0 = mono_s();
        rc = I->run(r->be, &r->exec[i], batch, err);
        if (rc == CD_OK)
            rc = I->finish(r->be, err);
        node_s[i] = mono_s() - t0;
    }
    return rc;
}
