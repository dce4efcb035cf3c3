/* ops.c — the op table and the activation helpers shared by every backend.
 * One row per enum cd_op; the _Static_assert below fails when an op is added
 * without a row (and a test in tests/test_ops.c). No kernel code here. */
#include "ops.h"

#include "op_family.h"
#include "op_shape.h"
#include "ops_cl.h"
#include "ops_ref.h"

#include <math.h>
#include <string.h>

/* Bump together with the op count after adding the op's test. */
#define CD_OPS_TESTED 44
_Static_assert(CD_OP_COUNT == CD_OPS_TESTED,
               "new op: add its table row and its test in tests/test_ops*.c");

#define EPILOGUE "activation,activation_alpha,activation_beta,residual"
#define ACT_ROW(nm)                                                           \
    { .name = nm, .n_in_min = 1, .n_in_max = 1, .attrs = "",                  \
      .shape = cd_shape_same, .ref = cd_ref_unary, .cl = cd_cl_unary,         \
      .kernel = "cd_unary" }
#define BIN_ROW(nm)                                                           \
    { .name = nm, .n_in_min = 1, .n_in_max = 2, .weights = { "other?" },      \
      .attrs = "scalar,reverse", .shape = cd_shape_binary,                    \
      .ref = cd_ref_binary, .cl = cd_cl_binary, .kernel = "cd_binary" }

const struct cd_op_info cd_ops[CD_OP_COUNT] = {
    [CD_OP_CONV] = { .name = "conv", .n_in_min = 1, .n_in_max = 2,
                     .weights = { "weight", "bias?" },
                     .attrs = "stride,padding,dilation,groups," EPILOGUE,
                     .shape = cd_shape_conv, .ref = cd_ref_conv,
                     .cl = cd_cl_conv, .kernel = "cd_conv_direct" },
    [CD_OP_LINEAR] = { .name = "linear", .n_in_min = 1, .n_in_max = 2,
                       .weights = { "weight", "bias?" }, .attrs = EPILOGUE,
                       .shape = cd_shape_linear, .ref = cd_ref_linear,
                       .cl = cd_cl_linear, .kernel = "cd_linear_gemv" },
    [CD_OP_MATMUL] = { .name = "matmul", .n_in_min = 2, .n_in_max = 2,
                       .attrs = "", .shape = cd_shape_matmul,
                       .ref = cd_ref_matmul, .cl = cd_cl_matmul,
                       .kernel = "cd_matmul" },
    [CD_OP_BATCHNORM] = { .name = "batchnorm", .n_in_min = 1, .n_in_max = 1,
                          .weights = { "weight", "bias", "running_mean",
                                       "running_var" },
                          .attrs = "eps", .shape = cd_shape_batchnorm,
                          .ref = cd_ref_batchnorm, .cl = cd_cl_batchnorm,
                          .kernel = "cd_batchnorm_act" },
    [CD_OP_LAYERNORM] = { .name = "layernorm", .n_in_min = 1, .n_in_max = 1,
                          .weights = { "weight?", "bias?" },
                          .attrs = "eps,axis", .shape = cd_shape_layernorm,
                          .ref = cd_ref_layernorm, .cl = cd_cl_layernorm,
                          .kernel = "cd_layernorm" },
    [CD_OP_RELU] = ACT_ROW("relu"),
    [CD_OP_RELU6] = ACT_ROW("relu6"),
    [CD_OP_LEAKY_RELU] = { .name = "leaky_relu", .n_in_min = 1, .n_in_max = 1,
                           .attrs = "alpha", .shape = cd_shape_same,
                           .ref = cd_ref_unary, .cl = cd_cl_unary,
                           .kernel = "cd_unary" },
    [CD_OP_GELU] = { .name = "gelu", .n_in_min = 1, .n_in_max = 1,
                     .attrs = "approximate", .shape = cd_shape_same,
                     .ref = cd_ref_unary, .cl = cd_cl_unary,
                     .kernel = "cd_unary" },
    [CD_OP_SILU] = ACT_ROW("silu"),
    [CD_OP_SIGMOID] = ACT_ROW("sigmoid"),
    [CD_OP_HARDSWISH] = ACT_ROW("hardswish"),
    [CD_OP_HARDSIGMOID] = ACT_ROW("hardsigmoid"),
    [CD_OP_TANH] = ACT_ROW("tanh"),
    [CD_OP_CLAMP] = { .name = "clamp", .n_in_min = 1, .n_in_max = 1,
                      .attrs = "min,max", .shape = cd_shape_same,
                      .ref = cd_ref_unary, .cl = cd_cl_unary,
                      .kernel = "cd_unary" },
    [CD_OP_ADD] = BIN_ROW("add"),
    [CD_OP_SUB] = BIN_ROW("sub"),
    [CD_OP_MUL] = BIN_ROW("mul"),
    [CD_OP_DIV] = BIN_ROW("div"),
    [CD_OP_CONCAT] = { .name = "concat", .n_in_min = 1, .n_in_max = 1024,
                       .attrs = "axis", .shape = cd_shape_concat,
                       .ref = cd_ref_concat, .cl = cd_cl_concat,
                       .kernel = "cd_copy_strided" },
    [CD_OP_SLICE] = { .name = "slice", .n_in_min = 1, .n_in_max = 1,
                      .attrs = "axis,start,end,step", .shape = cd_shape_slice,
                      .ref = cd_ref_slice, .cl = cd_cl_slice,
                      .kernel = "cd_copy_strided" },
    [CD_OP_FLATTEN] = { .name = "flatten", .n_in_min = 1, .n_in_max = 1,
                        .attrs = "start_dim,end_dim",
                        .shape = cd_shape_flatten, .ref = cd_ref_copy,
                        .cl = cd_cl_copy, .kernel = "cd_copy" },
    [CD_OP_RESHAPE] = { .name = "reshape", .n_in_min = 1, .n_in_max = 1,
                        .attrs = "shape", .shape = cd_shape_reshape,
                        .ref = cd_ref_copy, .cl = cd_cl_copy,
                        .kernel = "cd_copy" },
    [CD_OP_PERMUTE] = { .name = "permute", .n_in_min = 1, .n_in_max = 1,
                        .attrs = "perm", .shape = cd_shape_permute,
                        .ref = cd_ref_permute, .cl = cd_cl_permute,
                        .kernel = "cd_copy_strided" },
    [CD_OP_MAXPOOL] = { .name = "maxpool", .n_in_min = 1, .n_in_max = 1,
                        .attrs = "kernel,stride,padding,dilation,ceil_mode",
                        .shape = cd_shape_pool, .ref = cd_ref_pool,
                        .cl = cd_cl_pool, .kernel = "cd_pool" },
    [CD_OP_AVGPOOL] = { .name = "avgpool", .n_in_min = 1, .n_in_max = 1,
                        .attrs = "kernel,stride,padding,ceil_mode,"
                                 "count_include_pad",
                        .shape = cd_shape_pool, .ref = cd_ref_pool,
                        .cl = cd_cl_pool, .kernel = "cd_pool" },
    [CD_OP_ADAPTIVE_AVGPOOL] = { .name = "adaptive_avgpool", .n_in_min = 1,
                                 .n_in_max = 1, .attrs = "output_size",
                                 .shape = cd_shape_adaptive_pool,
                                 .ref = cd_ref_adaptive_pool,
                                 .cl = cd_cl_adaptive_pool,
                                 .kernel = "cd_adaptive_avgpool" },
    [CD_OP_GLOBAL_AVGPOOL] = { .name = "global_avgpool", .n_in_min = 1,
                               .n_in_max = 1, .attrs = "",
                               .shape = cd_shape_global_pool,
                               .ref = cd_ref_global_pool,
                               .cl = cd_cl_global_pool,
                               .kernel = "cd_global_avgpool" },
    [CD_OP_UPSAMPLE] = { .name = "upsample", .n_in_min = 1, .n_in_max = 1,
                         .attrs = "mode,size,scale,align_corners",
                         .shape = cd_shape_upsample, .ref = cd_ref_upsample,
                         .cl = cd_cl_upsample, .kernel = "cd_upsample" },
    [CD_OP_SOFTMAX] = { .name = "softmax", .n_in_min = 1, .n_in_max = 1,
                        .attrs = "axis", .shape = cd_shape_softmax,
                        .ref = cd_ref_softmax, .cl = cd_cl_softmax,
                        .kernel = "cd_softmax" },
    [CD_OP_PAD] = { .name = "pad", .n_in_min = 1, .n_in_max = 1,
                    .attrs = "padding,value", .shape = cd_shape_pad,
                    .ref = cd_ref_pad, .cl = cd_cl_pad, .kernel = "cd_pad" },
    [CD_OP_IDENTITY] = { .name = "identity", .n_in_min = 1, .n_in_max = 1,
                         .attrs = "", .shape = cd_shape_same,
                         .ref = cd_ref_copy, .cl = cd_cl_copy,
                         .kernel = "cd_copy" },
    [CD_OP_DROPOUT] = { .name = "dropout", .n_in_min = 1, .n_in_max = 1,
                        .attrs = "p", .shape = cd_shape_same,
                        .ref = cd_ref_copy, .cl = cd_cl_copy,
                        .kernel = "cd_copy" },
    [CD_OP_PHC_CONV] = { .name = "phc_conv", .n_in_min = 1, .n_in_max = 2,
                         .weights = { "A", "F", "bias?" },
                         .attrs = "stride,padding,dilation,groups," EPILOGUE,
                         .shape = cd_shape_phc_conv,
                         .materialize = cd_materialize_phc_conv },
    [CD_OP_QUATERNION_CONV] = { .name = "quaternion_conv", .n_in_min = 1,
                                .n_in_max = 2,
                                .weights = { "r", "i", "j", "k", "bias?" },
                                .attrs = "stride,padding,dilation,groups," EPILOGUE,
                                .shape = cd_shape_quaternion_conv,
                                .materialize = cd_materialize_quaternion_conv },
    [CD_OP_COMPLEX_CONV] = { .name = "complex_conv", .n_in_min = 1, .n_in_max = 2,
                             .weights = { "real", "imag", "bias_real?",
                                          "bias_imag?" },
                             .attrs = "stride,padding,dilation,groups," EPILOGUE,
                             .shape = cd_shape_complex_conv,
                             .materialize = cd_materialize_complex_conv },
    [CD_OP_DCLS_CONV] = { .name = "dcls_conv", .n_in_min = 1, .n_in_max = 2,
                          .weights = { "weight", "P", "SIG?", "bias?" },
                          .attrs = "dilated_kernel_size,stride,padding,groups,"
                                   EPILOGUE,
                          .shape = cd_shape_dcls_conv,
                          .materialize = cd_materialize_dcls_conv },
    [CD_OP_MULTIDILATED_CONV] = { .name = "multidilated_conv", .n_in_min = 1,
                                  .n_in_max = 2, .weights = { "weight", "bias?" },
                                  .attrs = "dilations,stride," EPILOGUE,
                                  .shape = cd_shape_multidilated_conv,
                                  .ref = cd_ref_multidilated_conv,
                                  .cl = cd_cl_multidilated_conv,
                                  .kernel = "cd_multidilated_conv" },
    [CD_OP_GRN] = { .name = "grn", .n_in_min = 1, .n_in_max = 1,
                    .weights = { "gamma", "beta" }, .attrs = "axis,eps",
                    .shape = cd_shape_grn, .ref = cd_ref_grn, .cl = cd_cl_grn,
                    .kernel = "cd_grn" },
    [CD_OP_HAAR_DWT] = { .name = "haar_dwt", .n_in_min = 1, .n_in_max = 1,
                         .attrs = "", .shape = cd_shape_haar_dwt,
                         .ref = cd_ref_haar_dwt, .cl = cd_cl_haar_dwt,
                         .kernel = "cd_haar_dwt" },
    [CD_OP_HAAR_IDWT] = { .name = "haar_idwt", .n_in_min = 1, .n_in_max = 1,
                          .attrs = "", .shape = cd_shape_haar_idwt,
                          .ref = cd_ref_haar_idwt, .cl = cd_cl_haar_idwt,
                          .kernel = "cd_haar_idwt" },
    [CD_OP_CONV_TRANSPOSE] = { .name = "conv_transpose", .n_in_min = 1,
                               .n_in_max = 2, .weights = { "weight", "bias?" },
                               .attrs = "stride,padding,output_padding,dilation,"
                                        "groups," EPILOGUE,
                               .shape = cd_shape_conv_transpose,
                               .ref = cd_ref_conv_transpose,
                               .cl = cd_cl_conv_transpose,
                               .kernel = "cd_conv_transpose" },
    [CD_OP_DYNAMIC_DWCONV] = { .name = "dynamic_dwconv", .n_in_min = 2,
                               .n_in_max = 2, .weights = { "bias?" },
                               .attrs = "kernel,stride,padding,dilation",
                               .shape = cd_shape_dynamic_dwconv,
                               .ref = cd_ref_dynamic_dwconv,
                               .cl = cd_cl_dynamic_dwconv,
                               .kernel = "cd_dynamic_dwconv" },
    [CD_OP_SCNN] = { .name = "scnn", .n_in_min = 1, .n_in_max = 1,
                     .weights = { "down", "up", "right", "left" },
                     .attrs = "", .shape = cd_shape_scnn, .ref = cd_ref_scnn,
                     .cl = cd_cl_scnn, .kernel = "cd_scnn_slice" },
};

void cd_attrs_default(struct cd_attrs *a, enum cd_op op)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < CD_MAX_SPATIAL; i++) {
        a->stride[i] = 1;
        a->dilation[i] = 1;
    }
    a->groups = 1;
    a->count_include_pad = 1;
    a->axis = 1;
    a->end = INT64_MAX;
    a->step = 1;
    a->start_dim = 1;
    a->end_dim = -1;
    a->eps = 1e-5f;
    a->alpha = 0.01f; /* leaky_relu default slope */
    a->beta = 0.0f;
    a->act = CD_ACT_NONE;
    if (op == CD_OP_PAD)
        a->alpha = 0.0f; /* pad value */
    if (op == CD_OP_CLAMP) {
        a->alpha = -INFINITY;
        a->beta = INFINITY;
    }
}

int cd_op_parse(const char *name)
{
    for (int i = 0; i < CD_OP_COUNT; i++)
        if (!strcmp(cd_ops[i].name, name))
            return i;
    return -1;
}

static const char *const act_names[CD_ACT_COUNT] = {
    [CD_ACT_NONE] = "none",
    [CD_ACT_RELU] = "relu",
    [CD_ACT_RELU6] = "relu6",
    [CD_ACT_LEAKY_RELU] = "leaky_relu",
    [CD_ACT_GELU] = "gelu",
    [CD_ACT_GELU_TANH] = "gelu_tanh",
    [CD_ACT_SILU] = "silu",
    [CD_ACT_SIGMOID] = "sigmoid",
    [CD_ACT_HARDSWISH] = "hardswish",
    [CD_ACT_HARDSIGMOID] = "hardsigmoid",
    [CD_ACT_TANH] = "tanh",
    [CD_ACT_CLAMP] = "clamp",
};

const char *cd_act_name(enum cd_act act)
{
    return (unsigned)act < CD_ACT_COUNT ? act_names[act] : "?";
}

int cd_act_parse(const char *name)
{
    for (int i = 0; i < CD_ACT_COUNT; i++)
        if (!strcmp(act_names[i], name))
            return i;
    return -1;
}

enum cd_act cd_op_act(enum cd_op op, const struct cd_attrs *a, float *alpha,
                      float *beta)
{
    *alpha = 0.0f;
    *beta = 0.0f;
    switch (op) {
    case CD_OP_RELU: return CD_ACT_RELU;
    case CD_OP_RELU6: return CD_ACT_RELU6;
    case CD_OP_LEAKY_RELU: *alpha = a->alpha; return CD_ACT_LEAKY_RELU;
    case CD_OP_GELU: return a->approximate ? CD_ACT_GELU_TANH : CD_ACT_GELU;
    case CD_OP_SILU: return CD_ACT_SILU;
    case CD_OP_SIGMOID: return CD_ACT_SIGMOID;
    case CD_OP_HARDSWISH: return CD_ACT_HARDSWISH;
    case CD_OP_HARDSIGMOID: return CD_ACT_HARDSIGMOID;
    case CD_OP_TANH: return CD_ACT_TANH;
    case CD_OP_CLAMP:
        *alpha = a->alpha;
        *beta = a->beta;
        return CD_ACT_CLAMP;
    default: return CD_ACT_NONE;
    }
}

float cd_act_apply(enum cd_act act, float x, float alpha, float beta)
{
    switch (act) {
    case CD_ACT_NONE: return x;
    case CD_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case CD_ACT_RELU6: return fminf(fmaxf(x, 0.0f), 6.0f);
    case CD_ACT_LEAKY_RELU: return x >= 0.0f ? x : alpha * x;
    case CD_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case CD_ACT_GELU_TANH: {
        float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + tanhf(u));
    }
    case CD_ACT_SILU: return x / (1.0f + expf(-x));
    case CD_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case CD_ACT_HARDSWISH: return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case CD_ACT_HARDSIGMOID: return fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case CD_ACT_TANH: return tanhf(x);
    case CD_ACT_CLAMP: return fminf(fmaxf(x, alpha), beta);
    default: return x;
    }
}
