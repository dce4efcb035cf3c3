/* op_family.h — functions of the convolution-family ops (docs/families.md):
 * shape functions, load-time materialisers for structured-weight ops, C
 * references and OpenCL dispatch of the ops that run as their own kernels. */
#ifndef CD_OP_FAMILY_H
#define CD_OP_FAMILY_H

#include "op_shape.h"
#include "ops_cl.h"
#include "ops_ref.h"

#define CD_MATERIALIZE_FN(n)                                                  \
    int cd_materialize_##n(struct cd_graph *g, struct cd_node *node,          \
                           struct cd_err *err)

/* structured weights, rewritten into conv at load (materialize_*.c) */
CD_SHAPE_FN(phc_conv);
CD_SHAPE_FN(quaternion_conv);
CD_SHAPE_FN(complex_conv);
CD_SHAPE_FN(dcls_conv);
CD_MATERIALIZE_FN(phc_conv);
CD_MATERIALIZE_FN(quaternion_conv);
CD_MATERIALIZE_FN(complex_conv);
CD_MATERIALIZE_FN(dcls_conv);

/* ops with kernels of their own */
#define CD_FAMILY_OP(n) CD_SHAPE_FN(n); CD_REF_FN(n); CD_CL_FN(n)
CD_FAMILY_OP(multidilated_conv);
CD_FAMILY_OP(grn);
CD_FAMILY_OP(haar_dwt);
CD_FAMILY_OP(haar_idwt);
CD_FAMILY_OP(conv_transpose);
CD_FAMILY_OP(dynamic_dwconv);
CD_FAMILY_OP(scnn);
#undef CD_FAMILY_OP

#endif
