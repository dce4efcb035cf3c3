/* ops_cl_gram.h — the OpenCL backend's Eigen-CAM Gram hook (the `gram` entry
 * of struct cd_backend_i, see backend.h), defined in ops_cl_gram.c with the
 * kernels in kernels/gram.cl. This header does not include <CL/cl.h>. */
#ifndef CD_OPS_CL_GRAM_H
#define CD_OPS_CL_GRAM_H

#include "backend.h"

int cd_cl_gram(struct cd_backend *b, size_t off, int C, int hw,
               float *gram_out, float *mean_out, struct cd_err *err);

#endif
