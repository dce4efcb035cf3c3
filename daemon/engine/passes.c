/* passes.c — load-time rewrites of a shape-inferred graph: drop identities,
 * fold inference BatchNorm into conv/linear weights, fuse residual adds and
 * activations into conv/linear epilogues, alias reshape/flatten storage.
 * Never touches weights it does not own (folding writes new owned copies) and
 * never fuses away a graph output or the CAM layer. */
#include "passes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cd_pass_observable(const struct cd_graph *g, int v)
{
    return g->values[v].is_output || g->values[v].keep || g->values[v].is_input;
}

static bool is_gemm_like(enum cd_op op)
{
    return op == CD_OP_CONV || op == CD_OP_LINEAR;
}

struct cd_node *cd_pass_producer(struct cd_graph *g, int v)
{
    int p = g->values[v].producer;
    if (p < 0 || p >= g->n_nodes || g->nodes[p].dead)
        return NULL;
    return &g->nodes[p];
}

/* Replaces every read of value `from` by value `to` in live nodes. */
static void rewire(struct cd_graph *g, int from, int to)
{
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] == from)
                n->in[j] = to;
    }
}

/* Node `keep` takes over the output value of node `gone`, which dies. */
static void absorb(struct cd_graph *g, struct cd_node *keep, struct cd_node *gone)
{
    keep->out = gone->out;
    g->values[gone->out].producer = (int)(keep - g->nodes);
    gone->dead = true;
}

int cd_pass_drop_identity(struct cd_graph *g, struct cd_pass_stats *st,
                          struct cd_err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *n = &g->nodes[i];
        if (n->dead || (n->op != CD_OP_IDENTITY && n->op != CD_OP_DROPOUT))
            continue;
        if (cd_pass_observable(g, n->out))
            continue; /* stays as a copy so the name remains readable */
        rewire(g, n->out, n->in[0]);
        n->dead = true;
        st->n_identity_dropped++;
    }
    return CD_OK;
}

/* w' = w * s (per output channel), b' = (b - mean) * s + beta,
 * s = gamma / sqrt(var + eps). New owned weights; originals untouched. */
static int fold_one(struct cd_graph *g, struct cd_node *p, struct cd_node *bn,
                    struct cd_err *err)
{
    const struct cd_weight *W = &g->weights[p->w[0]];
    const struct cd_weight *gam = &g->weights[bn->w[0]], *bet = &g->weights[bn->w[1]];
    const struct cd_weight *mu = &g->weights[bn->w[2]], *var = &g->weights[bn->w[3]];
    int64_t cout = W->shape.dim[0];
    int64_t per = cd_shape_numel(&W->shape) / (cout ? cout : 1);
    if (cd_shape_numel(&gam->shape) != cout)
        return cd_err_set(err, CD_EINVAL,
                          "node \"%s\": batchnorm has %lld channels, producer "
                          "\"%s\" has %lld", bn->name,
                          (long long)cd_shape_numel(&gam->shape), p->name,
                          (long long)cout);
    float *nw = malloc((size_t)(cout * per) * sizeof *nw);
    float *nb = malloc((size_t)cout * sizeof *nb);
    if (!nw || !nb) {
        free(nw);
        free(nb);
        return cd_err_set(err, CD_ENOMEM, "out of memory folding \"%s\"", bn->name);
    }
    const float *b = p->w[1] >= 0 ? g->weights[p->w[1]].data : NULL;
    for (int64_t o = 0; o < cout; o++) {
        double s = gam->data[o] / sqrt((double)var->data[o] + bn->a.eps);
        for (int64_t k = 0; k < per; k++)
            nw[o * per + k] = (float)(W->data[o * per + k] * s);
        nb[o] = (float)(((b ? b[o] : 0.0) - mu->data[o]) * s + bet->data[o]);
    }
    char name[512];
    snprintf(name, sizeof name, "%s+%s.weight", p->name, bn->name);
    int wid = cd_graph_add_weight(g, name, W->shape, nw, true);
    if (wid < 0) {
        free(nw);
        free(nb);
        return cd_err_set(err, CD_ENOMEM, "out of memory folding \"%s\"", bn->name);
    }
    snprintf(name, sizeof name, "%s+%s.bias", p->name, bn->name);
    struct cd_shape bs = { .ndim = 1, .dim = { cout } };
    int bid = cd_graph_add_weight(g, name, bs, nb, true);
    if (bid < 0) {
        free(nb);
        return cd_err_set(err, CD_ENOMEM, "out of memory folding \"%s\"", bn->name);
    }
    p->w[0] = wid;
    p->w[1] = bid;
    return CD_OK;
}

int cd_pass_fold_batchnorm(struct cd_graph *g, struct cd_pass_stats *st,
                           struct cd_err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *bn = &g->nodes[i];
        if (bn->dead || bn->op != CD_OP_BATCHNORM)
            continue;
        int x = bn->in[0];
        struct cd_node *p = cd_pass_producer(g, x);
        if (!p || !is_gemm_like(p->op) || p->a.act != CD_ACT_NONE ||
            p->a.residual || cd_pass_observable(g, x) || cd_graph_count_uses(g, x) != 1)
            continue;
        /* linear folds only when the normalised dim is its last dim */
        if (p->op == CD_OP_LINEAR && g->values[x].shape.ndim != 2)
            continue;
        int rc = fold_one(g, p, bn, err);
        if (rc != CD_OK)
            return rc;
        absorb(g, p, bn);
        st->n_bn_folded++;
    }
    return CD_OK;
}

static int index_of(const struct cd_graph *g, const struct cd_node *n)
{
    return n ? (int)(n - g->nodes) : -1;
}

/* add(x, r) -> cd_pass_producer(x) gets r as residual. The residual must be ready
 * before the producer runs: its producer comes earlier in topological order. */
static bool try_fuse_residual(struct cd_graph *g, struct cd_node *add)
{
    if (add->n_in != 2 || add->a.has_scalar || add->w[0] >= 0)
        return false;
    if (!cd_shape_eq(&g->values[add->in[0]].shape, &g->values[add->in[1]].shape))
        return false;
    /* Prefer the operand produced last as the fused producer. */
    int order[2] = { 0, 1 };
    if (index_of(g, cd_pass_producer(g, add->in[0])) < index_of(g, cd_pass_producer(g, add->in[1]))) {
        order[0] = 1;
        order[1] = 0;
    }
    for (int k = 0; k < 2; k++) {
        int x = add->in[order[k]], r = add->in[1 - order[k]];
        struct cd_node *p = cd_pass_producer(g, x);
        if (!p || !is_gemm_like(p->op) || p->a.act != CD_ACT_NONE ||
            p->a.residual || cd_pass_observable(g, x) || cd_graph_count_uses(g, x) != 1)
            continue;
        if (index_of(g, cd_pass_producer(g, r)) >= index_of(g, p))
            continue;
        int *in = realloc(p->in, 2 * sizeof *in);
        if (!in)
            return false;
        in[1] = r;
        p->in = in;
        p->n_in = 2;
        p->a.residual = 1;
        absorb(g, p, add);
        return true;
    }
    return false;
}

/* Ops whose kernels apply a.act to what they write: conv/linear epilogues,
 * and batchnorm (one pass over memory for batchnorm -> relu). */
static bool takes_act(enum cd_op op)
{
    return is_gemm_like(op) || op == CD_OP_BATCHNORM;
}

static bool try_fuse_act(struct cd_graph *g, struct cd_node *u)
{
    float alpha, beta;
    enum cd_act act = cd_op_act(u->op, &u->a, &alpha, &beta);
    if (act == CD_ACT_NONE)
        return false;
    int x = u->in[0];
    struct cd_node *p = cd_pass_producer(g, x);
    if (!p || !takes_act(p->op) || p->a.act != CD_ACT_NONE ||
        cd_pass_observable(g, x) || cd_graph_count_uses(g, x) != 1)
        return false;
    p->a.act = act;
    p->a.act_alpha = alpha;
    p->a.act_beta = beta;
    absorb(g, p, u);
    return true;
}

int cd_pass_fuse_epilogue(struct cd_graph *g, struct cd_pass_stats *st,
                          struct cd_err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        if (n->op == CD_OP_ADD && try_fuse_residual(g, n))
            st->n_residual_fused++;
        else if (try_fuse_act(g, n)) {
            st->n_act_fused++;
            if (g->nodes[g->values[n->out].producer].op == CD_OP_BATCHNORM)
                st->n_norm_act_fused++; /* also counted in n_act_fused */
        }
    }
    return CD_OK;
}

int cd_pass_alias_views(struct cd_graph *g, struct cd_pass_stats *st,
                        struct cd_err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *n = &g->nodes[i];
        if (n->dead || (n->op != CD_OP_FLATTEN && n->op != CD_OP_RESHAPE))
            continue;
        int src = n->in[0];
        while (g->values[src].alias_of >= 0)
            src = g->values[src].alias_of;
        g->values[n->out].alias_of = src;
        st->n_aliased++;
    }
    return CD_OK;
}

int cd_pass_materialize(struct cd_graph *g, struct cd_pass_stats *st,
                        struct cd_err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *n = &g->nodes[i];
        cd_materialize_fn fn = cd_ops[n->op].materialize;
        if (n->dead || !fn)
            continue;
        const char *was = cd_ops[n->op].name;
        int rc = fn(g, n, err);
        if (rc != CD_OK)
            return cd_err_wrap(err, "node \"%s\" (%s)", n->name, was);
        if (cd_ops[n->op].materialize)
            return cd_err_set(err, CD_EINVAL,
                              "node \"%s\": %s was not rewritten", n->name, was);
        st->n_materialized++;
    }
    return CD_OK;
}

int cd_passes_run(struct cd_graph *g, struct cd_pass_stats *stats,
                  struct cd_err *err)
{
    struct cd_pass_stats local = { 0 }, *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    int rc;
    if ((rc = cd_pass_materialize(g, st, err)) ||
        (rc = cd_graph_infer_shapes(g, err)) ||
        (rc = cd_pass_drop_identity(g, st, err)) ||
        (rc = cd_graph_toposort(g, err)) ||
        (rc = cd_pass_fold_batchnorm(g, st, err)) ||
        (rc = cd_graph_toposort(g, err)) ||
        (rc = cd_pass_merge_parallel_dwconv(g, st, err)) ||
        (rc = cd_graph_toposort(g, err)) ||
        (rc = cd_pass_fold_channel_scale(g, st, err)) ||
        (rc = cd_graph_toposort(g, err)) ||
        (rc = cd_pass_fuse_epilogue(g, st, err)) ||
        (rc = cd_graph_toposort(g, err)) ||
        (rc = cd_graph_infer_shapes(g, err)) ||
        (rc = cd_pass_alias_views(g, st, err)) ||
        (rc = cd_pass_concat_inplace(g, st, err)))
        return rc;
    return CD_OK;
}
