/* ops_cl_conv3d.h — the fast paths of pseudo-3-D convolution kernels
 * ((1, kh, kw) and (kt, 1, 1)), called from cd_cl_conv for 3-D convs. */
#ifndef CD_OPS_CL_CONV3D_H
#define CD_OPS_CL_CONV3D_H

#include "ops.h"

#include <stdbool.h>

/* If node e (a CD_OP_CONV with 3 spatial dims) has a (1, kh, kw) or
 * (kt, 1, 1) kernel, enqueues the fast kernel and sets *handled; otherwise
 * leaves *handled false and returns CD_OK so the caller uses its generic
 * path. Errors (bad sizes, OpenCL failures) return a status with err set. */
/* false disables the fast paths (benchmarks and tests compare them with the
 * generic kernel); true by default. Not for use while kernels are enqueued. */
extern bool cd_cl_conv3d_enabled;

int cd_cl_conv3d_fast(struct cd_cl_backend *be, const struct cd_exec_node *e,
                      int batch, bool *handled, struct cd_err *err);

#endif
