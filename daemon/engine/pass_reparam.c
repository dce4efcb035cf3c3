/* pass_reparam.c — structural re-parameterisation at load (UniRepLKNet's
 * dilated re-param block): an add tree whose leaves are depthwise convs of
 * the same input, same stride, centred "same" padding (BN already folded)
 * becomes ONE depthwise conv whose kernel is the sum of the branch kernels,
 * each dilated kernel expanded (zeros between taps) and centred into the
 * largest effective size; biases are summed. Never merges observable values,
 * fused epilogues or multi-use branches; writes new owned weights only. */
#include "passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEAVES 64
#define MAX_EFFECTIVE 1023 /* largest merged kernel extent accepted */

struct tree {
    int n_leaves, n_adds;
    int leaf[MAX_LEAVES];     /* conv node indices */
    int add[MAX_LEAVES];      /* add node indices (root first) */
};

static bool plain_add(const struct cd_node *n)
{
    return !n->dead && n->op == CD_OP_ADD && n->n_in == 2 &&
           !n->a.has_scalar && n->w[0] < 0;
}

/* A depthwise conv (groups == C == Cout, weight (C,1,k..)) with 1 or 2
 * spatial dims, no epilogue, centred padding, and its weights present. */
static bool dw_leaf(const struct cd_graph *g, const struct cd_node *n)
{
    if (n->dead || n->op != CD_OP_CONV || n->n_in != 1 || n->a.residual ||
        n->a.act != CD_ACT_NONE || n->w[0] < 0)
        return false;
    const struct cd_shape *x = &g->values[n->in[0]].shape;
    const struct cd_weight *W = &g->weights[n->w[0]];
    int nsp = x->ndim - 2;
    if (nsp < 1 || nsp > 2 || W->shape.ndim != x->ndim || !W->data)
        return false;
    int64_t c = x->dim[1];
    if (n->a.groups != c || W->shape.dim[0] != c || W->shape.dim[1] != 1)
        return false;
    if (n->w[1] >= 0 && (cd_shape_numel(&g->weights[n->w[1]].shape) != c ||
                         !g->weights[n->w[1]].data))
        return false;
    for (int i = 0; i < nsp; i++) {
        int64_t k = W->shape.dim[2 + i], d = n->a.dilation[i];
        if (k < 1 || d < 1 || (k - 1) * d + 1 > MAX_EFFECTIVE)
            return false;
        int64_t span = (k - 1) * d;
        if (span % 2 || n->a.pad_begin[i] != span / 2 ||
            n->a.pad_end[i] != span / 2)
            return false;
    }
    return true;
}

/* Collects the leaves of the add tree rooted at value v into t; false when
 * some leaf is not an eligible depthwise conv. root: v is the root's value
 * (may be observable and multi-use). */
static bool collect(struct cd_graph *g, int v, bool root, struct tree *t)
{
    if (!root && (cd_pass_observable(g, v) || cd_graph_count_uses(g, v) != 1))
        return false;
    struct cd_node *p = cd_pass_producer(g, v);
    if (!p)
        return false;
    if (plain_add(p)) {
        if (t->n_adds >= MAX_LEAVES)
            return false;
        t->add[t->n_adds++] = (int)(p - g->nodes);
        return collect(g, p->in[0], false, t) && collect(g, p->in[1], false, t);
    }
    if (root || !dw_leaf(g, p) || t->n_leaves >= MAX_LEAVES)
        return false;
    t->leaf[t->n_leaves++] = (int)(p - g->nodes);
    return true;
}

/* Same input and stride for every leaf. */
static bool compatible(const struct cd_graph *g, const struct tree *t)
{
    const struct cd_node *f = &g->nodes[t->leaf[0]];
    int nsp = g->values[f->in[0]].shape.ndim - 2;
    for (int i = 1; i < t->n_leaves; i++) {
        const struct cd_node *n = &g->nodes[t->leaf[i]];
        if (n->in[0] != f->in[0])
            return false;
        for (int j = 0; j < nsp; j++)
            if (n->a.stride[j] != f->a.stride[j])
                return false;
    }
    return true;
}

/* Builds the merged kernel and bias and rewrites the first leaf into it. */
static int merge(struct cd_graph *g, const struct tree *t, struct cd_err *err)
{
    struct cd_node *keep = &g->nodes[t->leaf[0]];
    const struct cd_shape xs = g->values[keep->in[0]].shape;
    int nsp = xs.ndim - 2;
    int64_t c = xs.dim[1], E[2] = { 1, 1 };
    bool any_bias = false;
    for (int i = 0; i < t->n_leaves; i++) {
        const struct cd_node *n = &g->nodes[t->leaf[i]];
        const struct cd_shape *ws = &g->weights[n->w[0]].shape;
        for (int j = 0; j < nsp; j++) {
            int64_t e = (ws->dim[2 + j] - 1) * n->a.dilation[j] + 1;
            if (e > E[2 - nsp + j])
                E[2 - nsp + j] = e;
        }
        any_bias |= n->w[1] >= 0;
    }
    int64_t per = E[0] * E[1];
    if (c < 1 || per > ((int64_t)1 << 40) / c)
        return cd_err_set(err, CD_ERANGE, "node \"%s\": merged depthwise "
                          "kernel too large", keep->name);
    float *nw = calloc((size_t)(c * per), sizeof *nw);
    float *nb = any_bias ? calloc((size_t)c, sizeof *nb) : NULL;
    if (!nw || (any_bias && !nb)) {
        free(nw);
        free(nb);
        return cd_err_set(err, CD_ENOMEM, "out of memory merging \"%s\"",
                          keep->name);
    }
    for (int i = 0; i < t->n_leaves; i++) {
        const struct cd_node *n = &g->nodes[t->leaf[i]];
        const struct cd_weight *W = &g->weights[n->w[0]];
        int64_t kh = nsp == 2 ? W->shape.dim[2] : 1;
        int64_t kw = W->shape.dim[1 + nsp];
        int64_t dh = nsp == 2 ? n->a.dilation[0] : 1;
        int64_t dw = n->a.dilation[nsp - 1];
        int64_t oy = (E[0] - ((kh - 1) * dh + 1)) / 2;
        int64_t ox = (E[1] - ((kw - 1) * dw + 1)) / 2;
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t y = 0; y < kh; y++)
                for (int64_t x = 0; x < kw; x++)
                    nw[ch * per + (oy + y * dh) * E[1] + ox + x * dw] +=
                        W->data[(ch * kh + y) * kw + x];
        if (n->w[1] >= 0) {
            const float *b = g->weights[n->w[1]].data;
            for (int64_t ch = 0; ch < c; ch++)
                nb[ch] += b[ch];
        }
    }
    struct cd_shape ws = { .ndim = 2 + nsp, .dim = { c, 1 } };
    for (int j = 0; j < nsp; j++)
        ws.dim[2 + j] = E[2 - nsp + j];
    char name[512];
    snprintf(name, sizeof name, "%s.weight#reparam", keep->name);
    int wid = cd_graph_add_weight(g, name, ws, nw, true);
    if (wid < 0) {
        free(nw);
        free(nb);
        return cd_err_set(err, CD_ENOMEM, "out of memory merging \"%s\"",
                          keep->name);
    }
    int bid = -1;
    if (any_bias) {
        struct cd_shape bs = { .ndim = 1, .dim = { c } };
        snprintf(name, sizeof name, "%s.bias#reparam", keep->name);
        bid = cd_graph_add_weight(g, name, bs, nb, true);
        if (bid < 0) {
            free(nb);
            return cd_err_set(err, CD_ENOMEM, "out of memory merging \"%s\"",
                              keep->name);
        }
    }
    keep = &g->nodes[t->leaf[0]];
    keep->w[0] = wid;
    keep->w[1] = bid;
    for (int j = 0; j < nsp; j++) {
        int64_t e = E[2 - nsp + j];
        keep->a.dilation[j] = 1;
        keep->a.pad_begin[j] = keep->a.pad_end[j] = (int)((e - 1) / 2);
    }
    struct cd_node *root = &g->nodes[t->add[0]];
    keep->out = root->out;
    g->values[root->out].producer = t->leaf[0];
    for (int i = 0; i < t->n_adds; i++)
        g->nodes[t->add[i]].dead = true;
    for (int i = 1; i < t->n_leaves; i++)
        g->nodes[t->leaf[i]].dead = true;
    return CD_OK;
}

int cd_pass_merge_parallel_dwconv(struct cd_graph *g, struct cd_pass_stats *st,
                                  struct cd_err *err)
{
    /* reverse order: the outermost add of a tree is seen first */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        if (!plain_add(&g->nodes[i]))
            continue;
        struct tree t = { 0 };
        if (!collect(g, g->nodes[i].out, true, &t) || t.n_leaves < 2 ||
            !compatible(g, &t))
            continue;
        int rc = merge(g, &t, err);
        if (rc != CD_OK)
            return rc;
        st->n_reparam_merged++;
    }
    return CD_OK;
}
