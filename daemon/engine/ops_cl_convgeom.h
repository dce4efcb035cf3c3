/* ops_cl_convgeom.h — pieces shared by the OpenCL dispatchers of the
 * convolution kernels that take their sizes as (d, h, w) int8 vectors
 * (kernels/conv3d.cl, conv_transpose.cl): the fused-epilogue checks, the
 * geometry vectors, and setting the common argument list then enqueueing.
 * Only files of the OpenCL layer include this header (it pulls <CL/cl.h>). */
#ifndef CD_OPS_CL_CONVGEOM_H
#define CD_OPS_CL_CONVGEOM_H

#include "cl_backend.h"
#include "ops.h"

#include <stddef.h>

/* isz = (Cin, D, H, W), osz = (Cout, OD, OH, OW), ksz/st/di/pa = kernel
 * size, stride, dilation and pad_begin along (d, h, w); slots past those
 * are 0. */
struct cd_cl_convgeom {
    cl_int8 isz, osz, ksz, st, di, pa;
};

/* CD_EINVAL (message naming e) when e->a->residual is set but in[1] is
 * missing or not shaped like the output, or the activation is out of
 * range; else CD_OK. */
int cd_cl_convgeom_check_epilogue(const struct cd_exec_node *e,
                                  struct cd_err *err);

/* Fills g from in[0], out and w[0] of e (rank 2 + nsp, nsp 1..3): channels
 * from dim 1, spatial dims right-aligned into (d, h, w) with leading sizes
 * 1. CD_EINVAL when a stride or dilation is < 1 or a pad_begin < 0. The
 * caller has checked the ranks and that every size fits a cl_int. */
int cd_cl_convgeom_fill(const struct cd_exec_node *e, int nsp,
                        struct cd_cl_convgeom *g, struct cd_err *err);

/* Enqueues kernel `name` over gws with the arguments (src, src_off, wpool,
 * w_off, b_off, has_bias, res, res_off, has_res, dst, dst_off, isz, osz,
 * ksz, st, di, pa, groups, act, alpha, beta) taken from e and g. */
int cd_cl_convgeom_enqueue(struct cd_cl_backend *be,
                           const struct cd_exec_node *e, const char *name,
                           const struct cd_cl_convgeom *g, int groups,
                           const size_t gws[3], struct cd_err *err);

#endif
