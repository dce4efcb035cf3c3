/* graph_fixture.h — builds small graphs in memory (no files) for the graph,
 * passes and runner tests: a residual block with BatchNorm and a classifier
 * head. Header-only; weights are deterministic pseudo-random. */
#ifndef CD_GRAPH_FIXTURE_H
#define CD_GRAPH_FIXTURE_H

#include "engine/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline float fx_rand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

static inline int fx_weight(struct cd_graph *g, const char *name, int ndim,
                            const int64_t *dims, unsigned seed, float lo)
{
    struct cd_shape s = cd_shape_make(ndim, dims);
    size_t n = (size_t)cd_shape_numel(&s);
    float *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = lo > 0 ? lo + (fx_rand(&seed) + 1.0f) : fx_rand(&seed) * 0.5f;
    return cd_graph_add_weight(g, name, s, d, true);
}

static inline int fx_node(struct cd_graph *g, const char *name, enum cd_op op,
                          int n_in, const char *const *inputs)
{
    int id = cd_graph_add_node(g, name, op);
    struct cd_node *n = &g->nodes[id];
    n->n_in = n_in;
    n->in = malloc((size_t)n_in * sizeof *n->in);
    for (int i = 0; i < n_in; i++)
        n->in[i] = cd_graph_find_value(g, inputs[i]);
    n->out = cd_graph_add_value(g, name);
    g->values[n->out].producer = id;
    return id;
}

/* x(1,3,9,9) -> conv c1 (8,3,3,3)+bias pad 1 -> bn1 -> relu r1
 *   -> conv c2 (8,8,3,3) stride 1 pad 1 -> bn2 -> add a1 (+ r1) -> relu r2
 *   -> global_avgpool gp -> flatten fl -> linear fc (5,8) -> output fc.
 * keep_name (may be NULL) marks a value as kept (CAM layer). */
static inline struct cd_model *fx_resblock_model(const char *keep_name)
{
    struct cd_model *m = calloc(1, sizeof *m);
    m->refcount = 1;
    m->name = strdup("fixture");
    struct cd_graph *g = &m->g;
    cd_graph_init(g);
    int x = cd_graph_add_value(g, "x");
    g->values[x].is_input = true;
    g->values[x].shape = cd_shape_make(4, (int64_t[]){ 1, 3, 9, 9 });
    g->n_inputs = 1;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = x;
    int id;
    id = fx_node(g, "c1", CD_OP_CONV, 1, (const char *[]){ "x" });
    g->nodes[id].w[0] = fx_weight(g, "c1.w", 4, (int64_t[]){ 8, 3, 3, 3 }, 1, 0);
    g->nodes[id].w[1] = fx_weight(g, "c1.b", 1, (int64_t[]){ 8 }, 2, 0);
    g->nodes[id].a.pad_begin[0] = g->nodes[id].a.pad_begin[1] = 1;
    g->nodes[id].a.pad_end[0] = g->nodes[id].a.pad_end[1] = 1;
    const char *bns[2] = { "bn1", "bn2" }, *bn_in[2] = { "c1", "c2" };
    for (int k = 0; k < 2; k++) {
        if (k == 1) {
            id = fx_node(g, "c2", CD_OP_CONV, 1, (const char *[]){ "r1" });
            g->nodes[id].w[0] = fx_weight(g, "c2.w", 4, (int64_t[]){ 8, 8, 3, 3 }, 3, 0);
            g->nodes[id].a.pad_begin[0] = g->nodes[id].a.pad_begin[1] = 1;
            g->nodes[id].a.pad_end[0] = g->nodes[id].a.pad_end[1] = 1;
        }
        id = fx_node(g, bns[k], CD_OP_BATCHNORM, 1, &bn_in[k]);
        char nm[32];
        const char *slot[4] = { "g", "b", "m", "v" };
        for (int j = 0; j < 4; j++) {
            snprintf(nm, sizeof nm, "%s.%s", bns[k], slot[j]);
            g->nodes[id].w[j] = fx_weight(g, nm, 1, (int64_t[]){ 8 }, 10 + 4 * k + j,
                                          j == 3 ? 0.5f : 0.0f);
        }
        if (k == 0)
            fx_node(g, "r1", CD_OP_RELU, 1, (const char *[]){ "bn1" });
    }
    fx_node(g, "a1", CD_OP_ADD, 2, (const char *[]){ "bn2", "r1" });
    fx_node(g, "r2", CD_OP_RELU, 1, (const char *[]){ "a1" });
    fx_node(g, "gp", CD_OP_GLOBAL_AVGPOOL, 1, (const char *[]){ "r2" });
    fx_node(g, "fl", CD_OP_FLATTEN, 1, (const char *[]){ "gp" });
    id = fx_node(g, "fc", CD_OP_LINEAR, 1, (const char *[]){ "fl" });
    g->nodes[id].w[0] = fx_weight(g, "fc.w", 2, (int64_t[]){ 5, 8 }, 30, 0);
    g->nodes[id].w[1] = fx_weight(g, "fc.b", 1, (int64_t[]){ 5 }, 31, 0);
    int out = cd_graph_find_value(g, "fc");
    g->values[out].is_output = true;
    g->n_outputs = 1;
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = out;
    if (keep_name)
        g->values[cd_graph_find_value(g, keep_name)].keep = true;
    return m;
}

#endif
