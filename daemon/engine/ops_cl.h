/* ops_cl.h — OpenCL dispatch of each op (see cd_cl_fn in ops.h). The
 * definitions include <CL/cl.h>; this header does not. */
#ifndef CD_OPS_CL_H
#define CD_OPS_CL_H

#include "ops.h"

#define CD_CL_FN(n)                                                           \
    int cd_cl_##n(struct cd_cl_backend *be, const struct cd_exec_node *e,     \
                  int batch, struct cd_err *err)

CD_CL_FN(conv);
CD_CL_FN(linear);
CD_CL_FN(matmul);
CD_CL_FN(batchnorm);
CD_CL_FN(layernorm);
CD_CL_FN(unary);
CD_CL_FN(binary);
CD_CL_FN(concat);
CD_CL_FN(slice);
CD_CL_FN(copy);
CD_CL_FN(permute);
CD_CL_FN(pool);
CD_CL_FN(adaptive_pool);
CD_CL_FN(global_pool);
CD_CL_FN(upsample);
CD_CL_FN(softmax);
CD_CL_FN(pad);

#endif
