/* pass_concat.c — load-time rewrite of growing concats (DenseNet): a concat
 * whose leading inputs are exactly an earlier concat's inputs reads that
 * concat instead, and the earlier concat's storage becomes the channel
 * prefix of the later one's, so each concat copies only its new inputs.
 * It changes which values share storage, never what any node computes, and
 * never makes a graph input, output or kept value a strided view. */
#include "passes.h"

#include <stdlib.h>
#include <string.h>

bool cd_pass_op_strided(enum cd_op op)
{
    return op == CD_OP_BATCHNORM || op == CD_OP_CONCAT;
}

/* A live concat along dim 1 (channels, dim 0 being the sample) of a rank >= 2
 * output. */
static bool channel_concat(const struct cd_graph *g, const struct cd_node *n)
{
    if (n->dead || n->op != CD_OP_CONCAT || n->n_in < 1)
        return false;
    int rank = g->values[n->out].shape.ndim;
    int axis = n->a.axis < 0 ? n->a.axis + rank : n->a.axis;
    return rank >= 2 && axis == 1;
}

/* The live channel concat with the most inputs (at least 2, fewer than c's)
 * whose inputs are c's first inputs, or NULL. */
static struct cd_node *longest_prefix(struct cd_graph *g,
                                      const struct cd_node *c)
{
    struct cd_node *best = NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *p = &g->nodes[i];
        if (p == c || !channel_concat(g, p) || p->n_in < 2 ||
            p->n_in >= c->n_in || (best && p->n_in <= best->n_in) ||
            g->values[p->out].shape.ndim != g->values[c->out].shape.ndim)
            continue;
        if (memcmp(p->in, c->in, (size_t)p->n_in * sizeof *p->in) == 0)
            best = p;
    }
    return best;
}

/* concat(x0..xk) -> concat(p, x(j+1)..xk) where p = concat(x0..xj). Same
 * values, fewer floats copied once p is in place. Last node first, so every
 * prefix is matched against input lists not yet rewritten. */
static int chain(struct cd_graph *g, struct cd_pass_stats *st)
{
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        struct cd_node *c = &g->nodes[i];
        if (!channel_concat(g, c))
            continue;
        struct cd_node *p = longest_prefix(g, c);
        if (!p)
            continue;
        int k = p->n_in;
        c->in[0] = p->out;
        memmove(c->in + 1, c->in + k, (size_t)(c->n_in - k) * sizeof *c->in);
        c->n_in -= k - 1;
        st->n_concat_chained++;
    }
    return CD_OK;
}

/* Whether value v may become a strided channel prefix of another buffer:
 * not observable, not a view itself, no view of it other than the earlier
 * concat prefixes laid into it, and every reader an op that honours a batch
 * stride. */
static bool may_be_prefix(const struct cd_graph *g, int v)
{
    if (cd_pass_observable(g, v) || g->values[v].alias_of >= 0)
        return false;
    for (int w = 0; w < g->n_values; w++) {
        int p = g->values[w].producer;
        if (g->values[w].alias_of == v &&
            (p < 0 || !channel_concat(g, &g->nodes[p])))
            return false;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const struct cd_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] == v && !cd_pass_op_strided(n->op))
                return false;
    }
    return true;
}

int cd_pass_concat_inplace(struct cd_graph *g, struct cd_pass_stats *st,
                           struct cd_err *err)
{
    int rc = chain(g, st);
    if (rc != CD_OK || (rc = cd_graph_toposort(g, err)) != CD_OK)
        return rc;
    /* In run order, so a chain cat_1 -> cat_2 -> ... ends at the widest. */
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *c = &g->nodes[i];
        if (!channel_concat(g, c) || c->n_in < 2)
            continue;
        int v = c->in[0];
        int pi = g->values[v].producer;
        if (pi < 0 || !channel_concat(g, &g->nodes[pi]) ||
            g->values[c->out].alias_of >= 0 || !may_be_prefix(g, v))
            continue;
        g->values[v].alias_of = c->out;
        st->n_concat_inplace++;
    }
    return CD_OK;
}
