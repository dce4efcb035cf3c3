/* ops_ref.h — plain-C reference implementations (see cd_ref_fn in ops.h).
 * Straightforward loops, written for clarity: they define what every kernel
 * must compute. */
#ifndef CD_OPS_REF_H
#define CD_OPS_REF_H

#include "ops.h"

#define CD_REF_FN(n)                                                          \
    int cd_ref_##n(const struct cd_exec_node *e, int batch, float *arena,     \
                   const float *wpool, struct cd_err *err)

CD_REF_FN(conv);
CD_REF_FN(linear);
CD_REF_FN(matmul);
CD_REF_FN(batchnorm);
CD_REF_FN(layernorm);
CD_REF_FN(unary);       /* every activation op, via cd_op_act */
CD_REF_FN(binary);
CD_REF_FN(concat);
CD_REF_FN(slice);
CD_REF_FN(copy);        /* flatten, reshape, identity, dropout when not aliased */
CD_REF_FN(permute);
CD_REF_FN(pool);
CD_REF_FN(adaptive_pool);
CD_REF_FN(global_pool);
CD_REF_FN(upsample);
CD_REF_FN(softmax);
CD_REF_FN(pad);

#endif
