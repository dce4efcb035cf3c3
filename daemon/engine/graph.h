/* graph.h — the in-memory graph: values (named activations), weights and
 * nodes, as parsed from model.json and then rewritten by the load-time passes.
 * Each node produces exactly one value, named after the node. Activation
 * shapes are per sample (dim[0] == 1); the batch is chosen at run time. */
#ifndef CD_GRAPH_H
#define CD_GRAPH_H

#include "ops.h"

#include <stdbool.h>

struct cd_value {
    char *name;               /* owned */
    struct cd_shape shape;    /* per sample, dim[0] == 1; set by shape inference */
    int producer;             /* node index, -1 for a graph input */
    int alias_of;             /* value id whose storage this one shares, or -1 */
    bool is_input, is_output, keep; /* keep: must stay observable (cam layer) */
};

struct cd_weight {
    char *name;               /* owned */
    struct cd_shape shape;
    float *data;              /* f32 host data; owned when `owned`, else borrowed
                                 from the weight file's mapping */
    bool owned;
    size_t off;               /* offset in floats inside the weight pool */
};

struct cd_node {
    char *name;               /* owned */
    enum cd_op op;
    struct cd_attrs a;
    int n_in;
    int *in;                  /* owned, n_in value ids */
    int w[CD_MAX_WEIGHTS];    /* weight ids per slot, -1 if absent */
    int out;                  /* value id */
    bool dead;                /* removed by a pass */
};

struct cd_graph {
    int n_values, cap_values;
    struct cd_value *values;
    int n_weights, cap_weights;
    struct cd_weight *weights;
    int n_nodes, cap_nodes;
    struct cd_node *nodes;    /* topological order after cd_graph_toposort */
    int n_inputs;
    int *inputs;              /* value ids */
    int n_outputs;
    int *outputs;             /* value ids */
};

void cd_graph_init(struct cd_graph *g);
void cd_graph_free(struct cd_graph *g); /* frees names, owned data; NULL ok */

/* Each returns the new id, or -1 on allocation failure. Names are copied. */
int cd_graph_add_value(struct cd_graph *g, const char *name);
int cd_graph_add_weight(struct cd_graph *g, const char *name,
                        struct cd_shape shape, float *data, bool owned);
int cd_graph_add_node(struct cd_graph *g, const char *name, enum cd_op op);

int cd_graph_find_value(const struct cd_graph *g, const char *name);
int cd_graph_find_weight(const struct cd_graph *g, const char *name);

/* Orders nodes so every input is produced before use; fails naming a node on
 * a cycle. */
int cd_graph_toposort(struct cd_graph *g, struct cd_err *err);
/* Runs every node's shape function in order, filling value shapes; fails
 * naming the node. Input values must have their shapes set. */
int cd_graph_infer_shapes(struct cd_graph *g, struct cd_err *err);
/* Number of live nodes reading value v (including as fused residual). */
int cd_graph_count_uses(const struct cd_graph *g, int v);

#endif
