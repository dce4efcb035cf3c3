/* pass_channels_last.c — load-time rewrites of ConvNeXt-style blocks, which
 * leave the NCHW layout for a channels-last MLP and come back:
 *
 *   permute(0,2,3,1) -> layernorm(last) -> linear [-> act] -> linear
 *   -> permute(0,3,1,2) -> mul(per-channel constant) -> add
 *
 * 1. The permute sandwich becomes the same chain on NCHW: layernorm over
 *    dim 1, each linear a 1x1 conv (weight (N,K) viewed as (N,K,1,1)),
 *    elementwise activations unchanged; both permutes die.
 * 2. A mul by a constant per-channel tensor (layer scale) folds into the
 *    weights and bias of the conv/linear producing its input, directly or
 *    through one permute (which only moves the channel axis), when that
 *    producer has no fused activation or residual.
 * Then the residual add fuses into the last conv's epilogue (passes.c).
 * Only exact matches are rewritten: single-use, non-observable
 * intermediates; graph outputs and the CAM layer keep their values. Folding
 * writes new owned weights; the 1x1 views borrow the linear's data. */
#include "passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one live node reading v, as its only input, if v is a private
 * intermediate (single use, not observable); else NULL. */
static struct cd_node *sole_reader(struct cd_graph *g, int v)
{
    if (cd_pass_observable(g, v) || cd_graph_count_uses(g, v) != 1)
        return NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *n = &g->nodes[i];
        if (!n->dead && n->n_in == 1 && n->in[0] == v)
            return n;
    }
    return NULL;
}

static bool is_perm(const struct cd_node *n, int p0, int p1, int p2, int p3)
{
    return !n->dead && n->op == CD_OP_PERMUTE && n->n_in == 1 &&
           n->a.n_perm == 4 && n->a.perm[0] == p0 && n->a.perm[1] == p1 &&
           n->a.perm[2] == p2 && n->a.perm[3] == p3;
}

/* ---- 1. permute sandwich -> NCHW ---------------------------------------- */

#define MAX_CHAIN 16

/* A node of the channels-last chain that has an NCHW equivalent: layernorm
 * over the last dim of a rank-4 value, a plain linear (no residual) whose
 * input width is c, or a pure elementwise activation. *c tracks the width
 * of the last dim. */
static bool chain_node_ok(const struct cd_graph *g, const struct cd_node *n,
                          int64_t *c)
{
    if (n->dead || n->n_in != 1)
        return false;
    if (n->op == CD_OP_LAYERNORM) {
        int ax = n->a.axis < 0 ? n->a.axis + 4 : n->a.axis;
        return ax == 3;
    }
    if (n->op == CD_OP_LINEAR) {
        if (n->a.residual || n->w[0] < 0)
            return false;
        const struct cd_shape *w = &g->weights[n->w[0]].shape;
        if (w->ndim != 2 || w->dim[1] != *c)
            return false;
        if (n->w[1] >= 0 &&
            cd_shape_numel(&g->weights[n->w[1]].shape) != w->dim[0])
            return false;
        *c = w->dim[0];
        return true;
    }
    float al, be;
    return n->w[0] < 0 && !n->a.has_scalar &&
           cd_op_act(n->op, &n->a, &al, &be) != CD_ACT_NONE;
}

/* linear (N,K) -> 1x1 conv, same epilogue, weight viewed as (N,K,1,1). */
static int linear_to_conv(struct cd_graph *g, struct cd_node *n,
                          struct cd_err *err)
{
    const struct cd_weight *W = &g->weights[n->w[0]];
    struct cd_shape s = { .ndim = 4,
                          .dim = { W->shape.dim[0], W->shape.dim[1], 1, 1 } };
    char name[512];
    snprintf(name, sizeof name, "%s.weight(1x1)", n->name);
    int wid = cd_graph_add_weight(g, name, s, W->data, false);
    if (wid < 0)
        return cd_err_set(err, CD_ENOMEM, "out of memory rewriting \"%s\"",
                          n->name);
    struct cd_attrs a;
    cd_attrs_default(&a, CD_OP_CONV);
    a.nsp = 2;
    a.act = n->a.act;
    a.act_alpha = n->a.act_alpha;
    a.act_beta = n->a.act_beta;
    n->a = a;
    n->op = CD_OP_CONV;
    n->w[0] = wid;
    return CD_OK;
}

/* p1 = permute(x, 0,2,3,1) starting a chain that ends in
 * permute(0,3,1,2): rewrites it and returns true; false (graph untouched)
 * when it does not match exactly. */
static int try_sandwich(struct cd_graph *g, struct cd_node *p1, bool *done,
                        struct cd_err *err)
{
    *done = false;
    int x = p1->in[0];
    const struct cd_shape *xs = &g->values[x].shape;
    if (xs->ndim != 4)
        return CD_OK;
    int64_t c = xs->dim[1];
    struct cd_node *chain[MAX_CHAIN];
    int len = 0;
    struct cd_node *n = sole_reader(g, p1->out);
    while (n && !is_perm(n, 0, 3, 1, 2)) {
        if (len == MAX_CHAIN || !chain_node_ok(g, n, &c))
            return CD_OK;
        chain[len++] = n;
        n = sole_reader(g, n->out);
    }
    if (!n || len == 0)
        return CD_OK;
    struct cd_node *p2 = n;
    for (int i = 0; i < len; i++) {
        if (chain[i]->op == CD_OP_LAYERNORM)
            chain[i]->a.axis = 1;
        else if (chain[i]->op == CD_OP_LINEAR) {
            int rc = linear_to_conv(g, chain[i], err);
            if (rc != CD_OK)
                return rc;
        }
    }
    chain[0]->in[0] = x;
    p1->dead = true;
    struct cd_node *last = chain[len - 1];
    last->out = p2->out;
    g->values[p2->out].producer = (int)(last - g->nodes);
    p2->dead = true;
    *done = true;
    return CD_OK;
}

int cd_pass_channels_first(struct cd_graph *g, struct cd_pass_stats *st,
                           struct cd_err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *n = &g->nodes[i];
        if (!is_perm(n, 0, 2, 3, 1))
            continue;
        bool done;
        int rc = try_sandwich(g, n, &done, err);
        if (rc != CD_OK)
            return rc;
        st->n_permute_pairs_dropped += done;
    }
    return CD_OK;
}

/* ---- 2. per-channel scale -> producer weights --------------------------- */

/* The axis of out shape o along which weight shape w (right-aligned
 * broadcast) varies, when w is one vector of o's size along exactly that
 * axis; else -1. */
static int vector_axis(const struct cd_shape *o, const struct cd_shape *w)
{
    int sh = o->ndim - w->ndim, ax = -1;
    if (sh < 0)
        return -1;
    for (int i = 0; i < w->ndim; i++) {
        if (w->dim[i] == 1)
            continue;
        if (ax >= 0 || w->dim[i] != o->dim[i + sh])
            return -1;
        ax = i + sh;
    }
    return ax > 0 ? ax : -1;
}

/* w' = w * s, b' = b * s per output channel; new owned weights. */
static int scale_producer(struct cd_graph *g, struct cd_node *p,
                          const float *s, const char *why, struct cd_err *err)
{
    const struct cd_weight *W = &g->weights[p->w[0]];
    int64_t cout = W->shape.dim[0];
    int64_t per = cd_shape_numel(&W->shape) / cout;
    float *nw = malloc((size_t)(cout * per) * sizeof *nw);
    float *nb = p->w[1] >= 0 ? malloc((size_t)cout * sizeof *nb) : NULL;
    if (!nw || (p->w[1] >= 0 && !nb)) {
        free(nw);
        free(nb);
        return cd_err_set(err, CD_ENOMEM, "out of memory folding \"%s\"", why);
    }
    const float *b = p->w[1] >= 0 ? g->weights[p->w[1]].data : NULL;
    for (int64_t o = 0; o < cout; o++) {
        for (int64_t k = 0; k < per; k++)
            nw[o * per + k] = W->data[o * per + k] * s[o];
        if (nb)
            nb[o] = b[o] * s[o];
    }
    char name[512];
    snprintf(name, sizeof name, "%s*%s.weight", p->name, why);
    int wid = cd_graph_add_weight(g, name, W->shape, nw, true);
    if (wid < 0) {
        free(nw);
        free(nb);
        return cd_err_set(err, CD_ENOMEM, "out of memory folding \"%s\"", why);
    }
    p->w[0] = wid;
    if (nb) {
        snprintf(name, sizeof name, "%s*%s.bias", p->name, why);
        struct cd_shape bs = { .ndim = 1, .dim = { cout } };
        int bid = cd_graph_add_weight(g, name, bs, nb, true);
        if (bid < 0) {
            free(nb);
            return cd_err_set(err, CD_ENOMEM, "out of memory folding \"%s\"",
                              why);
        }
        p->w[1] = bid;
    }
    return CD_OK;
}

/* A conv/linear whose output channel axis is `ax` of its rank-r output,
 * with weights present and a linear epilogue (bias only). */
static bool scalable(const struct cd_graph *g, const struct cd_node *p, int ax,
                     int r)
{
    if (p->dead || p->a.act != CD_ACT_NONE || p->a.residual || p->n_in != 1 ||
        p->w[0] < 0 || !g->weights[p->w[0]].data ||
        (p->w[1] >= 0 && !g->weights[p->w[1]].data))
        return false;
    if (p->op == CD_OP_CONV)
        return ax == 1;
    return p->op == CD_OP_LINEAR && ax == r - 1;
}

static int try_fold_scale(struct cd_graph *g, struct cd_node *m, bool *done,
                          struct cd_err *err)
{
    *done = false;
    if (m->dead || m->op != CD_OP_MUL || m->n_in != 1 || m->a.has_scalar ||
        m->w[0] < 0 || !g->weights[m->w[0]].data)
        return CD_OK;
    int x = m->in[0];
    const struct cd_shape *os = &g->values[m->out].shape;
    if (!cd_shape_eq(os, &g->values[x].shape))
        return CD_OK;
    int ax = vector_axis(os, &g->weights[m->w[0]].shape);
    struct cd_node *top = cd_pass_producer(g, x), *p = top;
    if (ax < 0 || !top || cd_pass_observable(g, x) || cd_graph_count_uses(g, x) != 1)
        return CD_OK;
    if (top->op == CD_OP_PERMUTE) { /* channel ax of the output is perm[ax] */
        int y = top->in[0];
        if (top->n_in != 1 || top->a.n_perm != os->ndim ||
            cd_pass_observable(g, y) || cd_graph_count_uses(g, y) != 1)
            return CD_OK;
        ax = top->a.perm[ax];
        p = cd_pass_producer(g, y);
    }
    if (!p || !scalable(g, p, ax, g->values[p->out].shape.ndim) ||
        g->weights[p->w[0]].shape.dim[0] !=
            cd_shape_numel(&g->weights[m->w[0]].shape))
        return CD_OK;
    int rc = scale_producer(g, p, g->weights[m->w[0]].data, m->name, err);
    if (rc != CD_OK)
        return rc;
    /* the node before the mul takes over its output value */
    top->out = m->out;
    g->values[m->out].producer = (int)(top - g->nodes);
    m->dead = true;
    *done = true;
    return CD_OK;
}

int cd_pass_fold_channel_scale(struct cd_graph *g, struct cd_pass_stats *st,
                               struct cd_err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        bool done;
        int rc = try_fold_scale(g, &g->nodes[i], &done, err);
        if (rc != CD_OK)
            return rc;
        st->n_scale_folded += done;
    }
    return CD_OK;
}
