/* ops_cl_conv.h — pieces shared by the OpenCL convolution dispatchers
 * (ops_cl_conv.c, ops_cl_conv_pk.c) and the per-layer kernel selection
 * (conv_select.c): the conv geometry, the fused-epilogue operands, the
 * kernel variants a 2-D convolution can run with, and their enqueue
 * functions. Only files of the OpenCL layer include this header (it pulls
 * <CL/cl.h>). */
#ifndef CD_OPS_CL_CONV_H
#define CD_OPS_CL_CONV_H

#include "cl_backend.h"
#include "ops.h"

#include <stdbool.h>

/* Conv geometry with 1-D/2-D mapped onto (d, h, w) with leading sizes 1. */
struct cd_cl_conv_geo {
    int cin, cout, groups;
    int in[3], out[3], k[3], s[3], d[3], p[3]; /* (d, h, w) */
    int nsp;
};

/* Fused epilogue operands shared by conv and linear. */
struct cd_cl_conv_epi {
    cl_ulong b_off, res_off;
    cl_int has_bias, has_res, act;
    float alpha, beta;
};

/* Kernel variants of a 1-D/2-D convolution that is neither depthwise nor
 * 3-D. TILE: cd_conv_tile16/tile2x8 (vectors along x, weights as scalars;
 * any shape). GEMM/GEMM32: cd_matmul/cd_matmul32 (16 or 32 columns per
 * work-item; 1x1, stride 1, unpadded only). PK*: the
 * packed-weight kernels of kernels/conv_pk.cl, P positions x NV vectors of
 * 16 output channels (stride 1 or 2 along both axes where the kernel
 * exists). WINO*: Winograd F(4x4, 3x3) (ops_cl_conv_winograd.c), its
 * 36 GEMMs P tiles (vectors of 16) x NK output channels per work-item
 * (3x3, stride 1, dilation 1, groups 1 only). */
enum cd_conv_variant {
    CD_CONV_TILE,
    CD_CONV_GEMM,
    CD_CONV_PK14X2,
    CD_CONV_PK7X4,
    CD_CONV_PK8X3,
    CD_CONV_PK16X1,
    CD_CONV_PK12X2,
    CD_CONV_GEMM32,
    CD_CONV_WINO16X16,
    CD_CONV_WINO32X8,
    CD_CONV_VARIANT_COUNT
};

/* Name of a variant ("pk14x2"); "?" when out of range. */
const char *cd_conv_variant_name(int v);

/* Fills g from e (ranks, channel/group and size checks). */
int cd_cl_conv_geo(const struct cd_exec_node *e, struct cd_cl_conv_geo *g,
                   struct cd_err *err);
/* Fills p from e's bias slot and fused attributes (residual shape check). */
/* Sets args 0..10 of a conv-family kernel: (in, w, bias, residual, out) in
 * the order of kernels/conv.cl and conv_dw.cl. CD_EDEVICE on failure. */
int cd_cl_conv_set_io(struct cd_cl_backend *be, cl_kernel k,
                      const struct cd_exec_node *e,
                      const struct cd_cl_conv_epi *p, const char *what,
                      struct cd_err *err);
/* cd_cl_conv_set_io, then the n ints v from arg 11, then the activation's
 * alpha and beta. */
int cd_cl_conv_set_io_ints(struct cd_cl_backend *be, cl_kernel k,
                           const struct cd_exec_node *e,
                           const struct cd_cl_conv_epi *p, const cl_int *v,
                           int n, const char *what, struct cd_err *err);
int cd_cl_conv_epi(const struct cd_exec_node *e, struct cd_cl_conv_epi *p,
                   struct cd_err *err);

/* True for a 1x1, stride-1, unpadded convolution. */
bool cd_cl_conv_pointwise(const struct cd_cl_conv_geo *g);
/* True when variant v can run geometry g (depthwise and 3-D convolutions
 * have their own kernels and no variants). */
bool cd_cl_conv_variant_ok(const struct cd_cl_conv_geo *g, int v);
/* True when variant v reads the packed weights (cd_cl_conv_pack). */
bool cd_cl_conv_variant_packed(int v);

/* Floats of e's packed weights for geometry g. */
size_t cd_cl_conv_packed_floats(const struct cd_cl_conv_geo *g);
/* Enqueues the packing of e's weights into wpk (cd_cl_conv_packed_floats
 * floats). */
int cd_cl_conv_pack(struct cd_cl_backend *be, const struct cd_exec_node *e,
                    const struct cd_cl_conv_geo *g, cl_mem wpk,
                    struct cd_err *err);

/* What a packed variant reads besides e's tensors: the packed weights and
 * a scratch buffer for the zero-padded input (pad NULL or smaller than
 * cd_cl_conv_pad_floats: the kernel tests the borders itself). */
struct cd_cl_conv_bufs {
    cl_mem wpk, pad;
    size_t pad_floats;
};

/* Floats of padded input variant v of g needs at `batch` samples; 0 when
 * it runs unpadded (no padding, pointwise, or not a packed variant). */
size_t cd_cl_conv_pad_floats(const struct cd_cl_conv_geo *g, int v,
                             int batch);

/* Enqueues e for `batch` samples with variant v (which must be ok for g);
 * bufs matter when v is packed (else ignored). */
int cd_cl_conv_run_variant(struct cd_cl_backend *be,
                           const struct cd_exec_node *e,
                           const struct cd_cl_conv_geo *g,
                           const struct cd_cl_conv_epi *p, int v,
                           const struct cd_cl_conv_bufs *bufs, int batch,
                           struct cd_err *err);

/* Depthwise convolutions (ops_cl_conv_dw.c, kernels/conv_dw.cl): the
 * kernel a layer runs with. FIXED: cd_conv_dwK_sS (K x K, K 3/5/7, stride
 * 1 or 2, no dilation); LARGE: cd_conv_dwlk (stride 1, k >= 5, rows staged
 * in local memory); GENERIC: cd_conv_dw16/dw8 (any size, stride, dilation).
 * AUTO: chosen per shape. */
enum cd_dw_variant {
    CD_DW_AUTO,
    CD_DW_GENERIC,
    CD_DW_LARGE,
    CD_DW_FIXED,
    CD_DW_VARIANT_COUNT
};

/* Name of a depthwise variant ("fixed"); "?" when out of range. */
const char *cd_dw_variant_name(int v);
/* True for a 1-D/2-D conv with groups == Cin == Cout that is not 1x1. */
bool cd_cl_conv_is_depthwise(const struct cd_cl_conv_geo *g);
/* True when depthwise variant v (not AUTO) can run g on be. */
bool cd_cl_conv_dw_variant_ok(const struct cd_cl_backend *be,
                              const struct cd_cl_conv_geo *g, int v);
/* The variant a depthwise g runs with on be (the forced one if it fits). */
int cd_cl_conv_dw_pick(const struct cd_cl_backend *be,
                       const struct cd_cl_conv_geo *g);
/* Enqueues depthwise e for `batch` samples with cd_cl_conv_dw_pick's
 * kernel. */
int cd_cl_conv_depthwise(struct cd_cl_backend *be,
                         const struct cd_exec_node *e,
                         const struct cd_cl_conv_geo *g,
                         const struct cd_cl_conv_epi *p, int batch,
                         struct cd_err *err);
/* Tests and benches: every depthwise conv variant v fits runs with v
 * (CD_DW_AUTO: back to the per-shape choice). */
void cd_cl_conv_dw_force(struct cd_cl_backend *be, int v);

/* The packed-weight kernels (ops_cl_conv_pk.c): enqueues packed variant v
 * of e (padding the input into bufs->pad first when it is large enough). */
int cd_cl_conv_pk_run(struct cd_cl_backend *be, const struct cd_exec_node *e,
                      const struct cd_cl_conv_geo *g,
                      const struct cd_cl_conv_epi *p, int v,
                      const struct cd_cl_conv_bufs *bufs, int batch,
                      struct cd_err *err);

/* Winograd F(4x4, 3x3) (ops_cl_conv_winograd.c). True when v is one of its
 * variants / when g is a 3x3, stride-1, dilation-1, ungrouped 2-D conv. */
bool cd_cl_conv_variant_wino(int v);
bool cd_cl_conv_wino_ok(const struct cd_cl_conv_geo *g);
/* Floats of e's transformed weights for g; enqueues the transform into u. */
size_t cd_cl_conv_wino_weight_floats(const struct cd_cl_conv_geo *g);
int cd_cl_conv_wino_pack(struct cd_cl_backend *be,
                         const struct cd_exec_node *e,
                         const struct cd_cl_conv_geo *g, cl_mem u,
                         struct cd_err *err);
/* Floats of scratch (transformed input and products) variant v of g needs
 * at `batch` samples; 0 when v is not a Winograd variant fitting g. */
size_t cd_cl_conv_wino_scratch_floats(const struct cd_cl_conv_geo *g, int v,
                                      int batch);
/* Enqueues Winograd variant v of e: bufs->wpk holds the transformed
 * weights, bufs->pad at least cd_cl_conv_wino_scratch_floats floats. */
int cd_cl_conv_wino_run(struct cd_cl_backend *be,
                        const struct cd_exec_node *e,
                        const struct cd_cl_conv_geo *g,
                        const struct cd_cl_conv_epi *p, int v,
                        const struct cd_cl_conv_bufs *bufs, int batch,
                        struct cd_err *err);

#endif
