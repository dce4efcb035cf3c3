/* node_cost.h — the work of one planned node for the roofline model: useful
 * floating-point operations and the bytes it must move at least (every
 * input, weight and output touched once). Used by convd-infer --profile; it
 * never runs anything. */
#ifndef CD_NODE_COST_H
#define CD_NODE_COST_H

#include "ops.h"

/* Which roofline group a node belongs to (the profile's summary rows). */
enum cd_cost_class {
    CD_COST_CONV3X3,   /* dense or grouped 3x3 (any stride), 2-D */
    CD_COST_CONV1X1,   /* dense 1x1, 2-D */
    CD_COST_DEPTHWISE, /* one input channel per group, any kernel */
    CD_COST_CONV_OTHER,/* other kernels (stems, 1-D, 3-D, transposed, ...) */
    CD_COST_GEMM,      /* linear, matmul */
    CD_COST_OTHER,     /* elementwise, pooling, normalisation, data movement */
    CD_COST_COUNT
};

struct cd_node_cost {
    double flops;      /* multiply-adds count 2; other ops 1 per output (pools: per window element) */
    double bytes;      /* 4 * (inputs + weights + output), float32 */
    enum cd_cost_class klass;
    char label[32];    /* e.g. "conv3x3/s2", "dw7x7", "conv1x1", "linear" */
};

/* Cost of running e for `batch` samples. */
void cd_node_cost(const struct cd_exec_node *e, int batch, struct cd_node_cost *out);
/* Summary-row name of a class ("conv3x3", "depthwise", ...). */
const char *cd_cost_class_name(enum cd_cost_class c);

#endif
