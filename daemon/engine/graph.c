/* graph.c — graph construction (values, weights, nodes), lookup, topological
 * sort and shape inference. It does not parse files and does not rewrite the
 * graph (model.c and passes.c do). */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

void cd_graph_init(struct cd_graph *g)
{
    memset(g, 0, sizeof *g);
}

void cd_graph_free(struct cd_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_values; i++)
        free(g->values[i].name);
    for (int i = 0; i < g->n_weights; i++) {
        free(g->weights[i].name);
        if (g->weights[i].owned)
            free(g->weights[i].data);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        free(g->nodes[i].name);
        free(g->nodes[i].in);
    }
    free(g->values);
    free(g->weights);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    memset(g, 0, sizeof *g);
}

/* Grows *arr (of elem-sized items) so that index n fits; false on failure. */
static bool grow(void **arr, int *cap, int n, size_t elem)
{
    if (n < *cap)
        return true;
    int ncap = *cap ? *cap * 2 : 16;
    if (ncap <= n || ncap > (1 << 24))
        return false;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return false;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *arr = p;
    *cap = ncap;
    return true;
}

int cd_graph_add_value(struct cd_graph *g, const char *name)
{
    if (!grow((void **)&g->values, &g->cap_values, g->n_values, sizeof *g->values))
        return -1;
    char *nm = strdup(name);
    if (!nm)
        return -1;
    struct cd_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = nm;
    v->producer = -1;
    v->alias_of = -1;
    return g->n_values++;
}

int cd_graph_add_weight(struct cd_graph *g, const char *name,
                        struct cd_shape shape, float *data, bool owned)
{
    if (!grow((void **)&g->weights, &g->cap_weights, g->n_weights,
              sizeof *g->weights))
        return -1;
    char *nm = strdup(name);
    if (!nm)
        return -1;
    struct cd_weight *w = &g->weights[g->n_weights];
    memset(w, 0, sizeof *w);
    w->name = nm;
    w->shape = shape;
    w->data = data;
    w->owned = owned;
    return g->n_weights++;
}

int cd_graph_add_node(struct cd_graph *g, const char *name, enum cd_op op)
{
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes, sizeof *g->nodes))
        return -1;
    char *nm = strdup(name);
    if (!nm)
        return -1;
    struct cd_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = nm;
    n->op = op;
    cd_attrs_default(&n->a, op);
    for (int i = 0; i < CD_MAX_WEIGHTS; i++)
        n->w[i] = -1;
    n->out = -1;
    return g->n_nodes++;
}

int cd_graph_find_value(const struct cd_graph *g, const char *name)
{
    for (int i = 0; i < g->n_values; i++)
        if (!strcmp(g->values[i].name, name))
            return i;
    return -1;
}

int cd_graph_find_weight(const struct cd_graph *g, const char *name)
{
    for (int i = 0; i < g->n_weights; i++)
        if (!strcmp(g->weights[i].name, name))
            return i;
    return -1;
}

int cd_graph_count_uses(const struct cd_graph *g, int v)
{
    int uses = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct cd_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int j = 0; j < n->n_in; j++)
            uses += n->in[j] == v;
    }
    return uses;
}

/* Kahn's algorithm over value producers. Dead nodes are dropped from the
 * array; on a cycle the message names one node that never became ready. */
int cd_graph_toposort(struct cd_graph *g, struct cd_err *err)
{
    int n = g->n_nodes, rc = CD_OK;
    int *indeg = calloc((size_t)n + 1, sizeof *indeg);
    int *order = calloc((size_t)n + 1, sizeof *order);
    bool *done = calloc((size_t)n + 1, sizeof *done);
    struct cd_node *sorted = calloc((size_t)n + 1, sizeof *sorted);
    if (!indeg || !order || !done || !sorted) {
        rc = cd_err_set(err, CD_ENOMEM, "out of memory sorting graph");
        goto fail;
    }
    for (int i = 0; i < g->n_values; i++)
        g->values[i].producer = -1;
    for (int i = 0; i < n; i++) {
        if (g->nodes[i].out < 0 || g->nodes[i].out >= g->n_values) {
            rc = cd_err_set(err, CD_EINVAL, "node \"%s\": no output value",
                            g->nodes[i].name);
            goto fail;
        }
        if (!g->nodes[i].dead)
            g->values[g->nodes[i].out].producer = i;
    }
    int n_live = 0, n_order = 0;
    for (int i = 0; i < n; i++) {
        if (g->nodes[i].dead)
            continue;
        n_live++;
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int v = g->nodes[i].in[j];
            if (v < 0 || v >= g->n_values) {
                rc = cd_err_set(err, CD_EINVAL, "node \"%s\": bad input %d",
                                g->nodes[i].name, j);
                goto fail;
            }
            if (g->values[v].producer >= 0)
                indeg[i]++;
            else if (!g->values[v].is_input) {
                rc = cd_err_set(err, CD_EINVAL,
                                "node \"%s\": input \"%s\" is produced by no node",
                                g->nodes[i].name, g->values[v].name);
                goto fail;
            }
        }
    }
    /* Repeatedly take the ready nodes in file order (keeps output stable). */
    bool progress = true;
    while (progress && n_order < n_live) {
        progress = false;
        for (int i = 0; i < n; i++) {
            if (g->nodes[i].dead || done[i] || indeg[i])
                continue;
            done[i] = true;
            order[n_order++] = i;
            progress = true;
            int v = g->nodes[i].out;
            for (int k = 0; k < n; k++) {
                if (g->nodes[k].dead || done[k])
                    continue;
                for (int j = 0; j < g->nodes[k].n_in; j++)
                    if (g->nodes[k].in[j] == v)
                        indeg[k]--;
            }
        }
    }
    if (n_order < n_live) {
        for (int i = 0; i < n; i++)
            if (!g->nodes[i].dead && !done[i]) {
                rc = cd_err_set(err, CD_EINVAL,
                                "node \"%s\" is part of a cycle", g->nodes[i].name);
                goto fail;
            }
    }
    /* Rebuild the array in order; dead nodes are freed. */
    for (int i = 0; i < n_order; i++)
        sorted[i] = g->nodes[order[i]];
    for (int i = 0; i < n; i++)
        if (g->nodes[i].dead) {
            free(g->nodes[i].name);
            free(g->nodes[i].in);
        }
    memcpy(g->nodes, sorted, (size_t)n_order * sizeof *sorted);
    g->n_nodes = n_order;
    for (int i = 0; i < g->n_values; i++)
        g->values[i].producer = -1;
    for (int i = 0; i < n_order; i++)
        g->values[g->nodes[i].out].producer = i;
fail:
    free(indeg);
    free(order);
    free(done);
    free(sorted);
    return rc;
}

int cd_graph_infer_shapes(struct cd_graph *g, struct cd_err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        struct cd_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        struct cd_shape in_stack[8], *in = in_stack;
        if (n->n_in > 8) {
            in = malloc((size_t)n->n_in * sizeof *in);
            if (!in)
                return cd_err_set(err, CD_ENOMEM, "out of memory");
        }
        struct cd_shape w[CD_MAX_WEIGHTS] = { 0 };
        for (int j = 0; j < n->n_in; j++)
            in[j] = g->values[n->in[j]].shape;
        for (int j = 0; j < CD_MAX_WEIGHTS; j++)
            if (n->w[j] >= 0)
                w[j] = g->weights[n->w[j]].shape;
        struct cd_shape out = { 0 };
        int rc = cd_ops[n->op].shape(&n->a, n->n_in, in, w, &out, err);
        if (in != in_stack)
            free(in);
        if (rc != CD_OK)
            return cd_err_wrap(err, "node \"%s\" (%s)", n->name, cd_ops[n->op].name);
        if (out.ndim < 1 || out.dim[0] != 1 || cd_shape_numel(&out) <= 0) {
            char buf[96];
            return cd_err_set(err, CD_EINVAL,
                              "node \"%s\" (%s): invalid output shape %s",
                              n->name, cd_ops[n->op].name,
                              cd_shape_str(&out, buf, sizeof buf));
        }
        g->values[n->out].shape = out;
    }
    return CD_OK;
}
