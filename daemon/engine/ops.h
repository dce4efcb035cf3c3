/* ops.h — the op vocabulary of model.json: enum, attributes, and the one op
 * table (name, arity, weight slots, allowed attributes, shape function, C
 * reference, OpenCL dispatch, kernel name). Adding an op means adding a row
 * here, a shape function, a reference, a kernel, and a test in tests/test_ops.c.
 * This header must not include OpenCL or HTTP headers. */
#ifndef CD_OPS_H
#define CD_OPS_H

#include "err.h"
#include "tensor.h"

#include <stdbool.h>
#include <stddef.h>

enum cd_op {
    CD_OP_CONV,            /* 1-D/2-D/3-D convolution, groups, fused epilogue */
    CD_OP_LINEAR,          /* y = x W^T + b over the last dim, fused epilogue */
    CD_OP_MATMUL,          /* batched matmul over the last two dims */
    CD_OP_BATCHNORM,       /* inference batchnorm over dim 1 */
    CD_OP_LAYERNORM,       /* over dim 1 (axis 1) or the last dim (axis -1) */
    CD_OP_RELU,
    CD_OP_RELU6,
    CD_OP_LEAKY_RELU,
    CD_OP_GELU,
    CD_OP_SILU,
    CD_OP_SIGMOID,
    CD_OP_HARDSWISH,
    CD_OP_HARDSIGMOID,
    CD_OP_TANH,
    CD_OP_CLAMP,
    CD_OP_ADD,
    CD_OP_SUB,
    CD_OP_MUL,
    CD_OP_DIV,
    CD_OP_CONCAT,
    CD_OP_SLICE,
    CD_OP_FLATTEN,
    CD_OP_RESHAPE,
    CD_OP_PERMUTE,
    CD_OP_MAXPOOL,
    CD_OP_AVGPOOL,
    CD_OP_ADAPTIVE_AVGPOOL,
    CD_OP_GLOBAL_AVGPOOL,
    CD_OP_UPSAMPLE,
    CD_OP_SOFTMAX,
    CD_OP_PAD,
    CD_OP_IDENTITY,
    CD_OP_DROPOUT,
    /* convolution families of the seed papers (docs/families.md) */
    CD_OP_PHC_CONV,        /* PHNN: weight = sum_i kron(A_i, F_i); materialised */
    CD_OP_QUATERNION_CONV, /* Hamilton-product blocks; materialised */
    CD_OP_COMPLEX_CONV,    /* [[Wr,-Wi],[Wi,Wr]] blocks; materialised */
    CD_OP_DCLS_CONV,       /* kernel from learned positions; materialised */
    CD_OP_MULTIDILATED_CONV, /* D3Net: dilation per input-channel slice */
    CD_OP_GRN,             /* global response normalisation (ConvNeXt V2) */
    CD_OP_HAAR_DWT,        /* WaveMix: 2-D Haar transform, (C,H,W)->(4C,H/2,W/2) */
    CD_OP_HAAR_IDWT,       /* its inverse */
    CD_OP_CONV_TRANSPOSE,  /* transposed convolution */
    CD_OP_DYNAMIC_DWCONV,  /* per-sample depthwise kernels from a second input */
    CD_OP_SCNN,            /* SCNN slice-by-slice message passing */
    CD_OP_COUNT
};

/* Activation applied elementwise; also the fused epilogue of conv/linear. */
enum cd_act {
    CD_ACT_NONE,
    CD_ACT_RELU,
    CD_ACT_RELU6,
    CD_ACT_LEAKY_RELU, /* alpha = negative slope */
    CD_ACT_GELU,       /* erf form */
    CD_ACT_GELU_TANH,  /* tanh approximation */
    CD_ACT_SILU,
    CD_ACT_SIGMOID,
    CD_ACT_HARDSWISH,
    CD_ACT_HARDSIGMOID,
    CD_ACT_TANH,
    CD_ACT_CLAMP,      /* alpha = min, beta = max */
    CD_ACT_COUNT
};

enum cd_upsample_mode {
    CD_UPSAMPLE_NEAREST,
    CD_UPSAMPLE_BILINEAR,
    CD_UPSAMPLE_COUNT
};

#define CD_MAX_SPATIAL 3
#define CD_MAX_WEIGHTS 6
#define CD_MAX_DILATIONS 16

/* Every attribute any op may carry. Which ones an op accepts is listed in its
 * table row; the loader fills defaults first (cd_attrs_default) and refuses
 * names the row does not list. Spatial lists have nsp entries. */
struct cd_attrs {
    int nsp;                         /* spatial dims (conv, pools, pad) */
    int kernel[CD_MAX_SPATIAL];      /* pools; conv takes it from the weight */
    int stride[CD_MAX_SPATIAL];
    int dilation[CD_MAX_SPATIAL];
    int pad_begin[CD_MAX_SPATIAL];   /* model.json "padding": [b0..,e0..] */
    int pad_end[CD_MAX_SPATIAL];
    int output_padding[CD_MAX_SPATIAL]; /* conv_transpose */
    int groups;
    int n_dilations;                 /* multidilated_conv: one per channel slice */
    int dilations[CD_MAX_DILATIONS];
    int ceil_mode;                   /* pools */
    int count_include_pad;           /* avgpool */
    int align_corners;               /* upsample bilinear */
    int mode;                        /* enum cd_upsample_mode */
    int size[CD_MAX_SPATIAL];        /* upsample/adaptive pool output size; 0 = unset */
    float scale[CD_MAX_SPATIAL];     /* upsample scale factors; 0 = unset */
    int axis;                        /* concat, slice, softmax, layernorm */
    int64_t start, end, step;        /* slice (end clamped like Python) */
    int start_dim, end_dim;          /* flatten */
    int n_shape;                     /* reshape target, batch dim excluded */
    int64_t shape[CD_MAX_DIMS];
    int n_perm;                      /* permute, full rank, perm[0] == 0 */
    int perm[CD_MAX_DIMS];
    float eps;                       /* batchnorm, layernorm */
    float alpha, beta;               /* leaky slope; clamp min/max; pad value */
    int approximate;                 /* gelu: 0 = erf, 1 = tanh */
    int has_scalar;                  /* binary op with a constant operand */
    float scalar;
    int reverse;                     /* scalar/weight is the left operand */
    /* fused epilogue of conv/linear: out = act(op(x) + bias + residual) */
    int act;                         /* enum cd_act */
    float act_alpha, act_beta;
    int residual;                    /* 1: inputs[1] is added before act */
};

/* Defaults for op (clamp: min -inf, max +inf; leaky_relu: alpha 0.01). */
void cd_attrs_default(struct cd_attrs *a, enum cd_op op);

/* A reference to a tensor at run time: offset (in floats) into the arena (for
 * activations) or into the weight pool (for weights), and its shape. For
 * activations the shape is per sample: dim[0] == 1, and sample b lives at
 * off + b * cd_tref_bstride(t): numel(shape) unless the planner made the
 * value a channel prefix of a wider buffer (in-place concat, pass_concat.c),
 * which only the ops cd_pass_op_strided() accepts (passes.h). Weight shapes
 * are as stored. */
struct cd_tref {
    struct cd_shape shape;
    size_t off;
    size_t bstride;          /* floats from one sample to the next; 0: numel */
};

static inline size_t cd_tref_bstride(const struct cd_tref *t)
{
    return t->bstride ? t->bstride : (size_t)cd_shape_numel(&t->shape);
}

/* One node ready to run: built once by the planner, read-only afterwards. */
struct cd_exec_node {
    const char *name;
    enum cd_op op;
    const struct cd_attrs *a;
    int n_in;
    const struct cd_tref *in;            /* n_in entries */
    bool has_w[CD_MAX_WEIGHTS];
    struct cd_tref w[CD_MAX_WEIGHTS];    /* slots as in the op's row */
    struct cd_tref out;
};

struct cd_cl_backend; /* opaque: defined in ops_cl / cl backend */
struct cd_graph;
struct cd_node;

/* Shape function: validates attributes, input and weight shapes, and writes
 * the output shape. in[] are per-sample shapes (dim[0] == 1); w[i].ndim == 0
 * for an absent optional weight. Messages name the offending attribute. */
typedef int (*cd_shape_fn)(const struct cd_attrs *a, int n_in,
                           const struct cd_shape *in,
                           const struct cd_shape *w, struct cd_shape *out,
                           struct cd_err *err);
/* C reference: computes e->out for `batch` samples. arena and wpool are the
 * host buffers the trefs point into. */
typedef int (*cd_ref_fn)(const struct cd_exec_node *e, int batch,
                         float *arena, const float *wpool, struct cd_err *err);
/* OpenCL dispatch: enqueues the kernel(s) for `batch` samples. */
typedef int (*cd_cl_fn)(struct cd_cl_backend *be, const struct cd_exec_node *e,
                        int batch, struct cd_err *err);

/* Load-time rewrite of a structured-weight op into plain ops (e.g. PHC ->
 * conv with the Kronecker-sum weight). Replaces n's op, attributes and
 * weights in place (new weights are owned); may add weights, not nodes. */
typedef int (*cd_materialize_fn)(struct cd_graph *g, struct cd_node *n,
                                 struct cd_err *err);

struct cd_op_info {
    const char *name;        /* spelling in model.json */
    int n_in_min, n_in_max;  /* graph inputs (excluding weights) */
    /* weight slot names in slot order; a trailing '?' marks optional. NULL
     * entries end the list. */
    const char *weights[CD_MAX_WEIGHTS];
    /* comma-separated attribute names accepted in model.json */
    const char *attrs;
    cd_shape_fn shape;
    cd_ref_fn ref;
    cd_cl_fn cl;
    const char *kernel;      /* main kernel name in kernels/<family>.cl */
    /* set for ops that only exist on disk: rewritten at load, never run
     * (ref, cl and kernel are then NULL) */
    cd_materialize_fn materialize;
};

/* The table, indexed by enum cd_op. */
extern const struct cd_op_info cd_ops[CD_OP_COUNT];

/* Returns the op for a model.json name, or -1. */
int cd_op_parse(const char *name);
/* Activation for an activation op (CD_OP_RELU.. CD_OP_CLAMP), else CD_ACT_NONE. */
enum cd_act cd_op_act(enum cd_op op, const struct cd_attrs *a, float *alpha,
                      float *beta);
/* Model.json spelling of an activation ("relu", "gelu_tanh", ...). */
const char *cd_act_name(enum cd_act act);
int cd_act_parse(const char *name);
/* Scalar activation, used by references and by tests. */
float cd_act_apply(enum cd_act act, float x, float alpha, float beta);

#endif
