/* op_shape.h — shape functions of the op table (see cd_shape_fn in ops.h). */
#ifndef CD_OP_SHAPE_H
#define CD_OP_SHAPE_H

#include "ops.h"

#define CD_SHAPE_FN(n)                                                        \
    int cd_shape_##n(const struct cd_attrs *a, int n_in,                      \
                     const struct cd_shape *in, const struct cd_shape *w,     \
                     struct cd_shape *out, struct cd_err *err)

CD_SHAPE_FN(conv);
CD_SHAPE_FN(linear);
CD_SHAPE_FN(matmul);
CD_SHAPE_FN(batchnorm);
CD_SHAPE_FN(layernorm);
CD_SHAPE_FN(same);      /* unary activations, identity, dropout */
CD_SHAPE_FN(binary);    /* numpy broadcasting, optional weight operand */
CD_SHAPE_FN(concat);
CD_SHAPE_FN(slice);
CD_SHAPE_FN(flatten);
CD_SHAPE_FN(reshape);
CD_SHAPE_FN(permute);
CD_SHAPE_FN(pool);      /* maxpool, avgpool */
CD_SHAPE_FN(adaptive_pool);
CD_SHAPE_FN(global_pool);
CD_SHAPE_FN(upsample);
CD_SHAPE_FN(softmax);
CD_SHAPE_FN(pad);

#endif
