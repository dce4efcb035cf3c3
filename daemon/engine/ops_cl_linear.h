/* ops_cl_linear.h — pieces of the OpenCL linear op (ops_cl_linear.c) that
 * the per-layer kernel selection (conv_select.c) and the tests use: the
 * linear geometry, its kernel variants, the packing of W into 16-column
 * panels and the enqueue of a variant. Only files of the OpenCL layer
 * include this header (it pulls <CL/cl.h>). */
#ifndef CD_OPS_CL_LINEAR_H
#define CD_OPS_CL_LINEAR_H

#include "ops_cl_conv.h"

/* y (rows x n) = x (rows x k) W^T with W (n x k); rows per sample (the
 * product of x's leading dims), so a batch of b has b * rows rows. */
struct cd_cl_linear_geo {
    int rows, k, n;
};

/* Kernel variants of linear (kernels/gemm.cl). GEMV: cd_linear_gemv, 1 row
 * x 8 outputs, dot products along K on W as stored. PK<MR>X<NV>:
 * cd_linear_pk<MR>x<NV>, MR rows x NV panels of 16 columns as outer
 * products on W packed by cd_cl_linear_pack. */
enum cd_linear_variant {
    CD_LINEAR_GEMV,
    CD_LINEAR_PK4X4,
    CD_LINEAR_PK6X4,
    CD_LINEAR_PK8X2,
    CD_LINEAR_PK8X3,
    CD_LINEAR_VARIANT_COUNT
};

/* Name of a variant ("pk8x2"); "?" when out of range. */
const char *cd_linear_variant_name(int v);
/* True when variant v reads the packed weights. */
bool cd_cl_linear_variant_packed(int v);

/* Fills g from e (ranks and size checks, 32-bit index limits). */
int cd_cl_linear_geo(const struct cd_exec_node *e, struct cd_cl_linear_geo *g,
                     struct cd_err *err);

/* The variant for geometry g at `batch` samples, from the shape alone
 * (measured on this machine, see docs/performance.md). */
int cd_cl_linear_heuristic(const struct cd_cl_linear_geo *g, int batch);

/* Floats of the packed weights of g. */
size_t cd_cl_linear_packed_floats(const struct cd_cl_linear_geo *g);
/* Enqueues the packing of e's weights into wpk
 * (cd_cl_linear_packed_floats floats). */
int cd_cl_linear_pack(struct cd_cl_backend *be, const struct cd_exec_node *e,
                      const struct cd_cl_linear_geo *g, cl_mem wpk,
                      struct cd_err *err);

/* Work per work-item of a packed variant: jper column tiles (of NV
 * panels) by rper row tiles (of MR rows). */
struct cd_cl_linear_tiling {
    int jper, rper;
};
/* The tiling variant v runs g with at `batch` samples (1 x 1 for the
 * dot-product variants). */
void cd_cl_linear_tiling(const struct cd_cl_linear_geo *g, int v, int batch,
                         struct cd_cl_linear_tiling *t);

/* Enqueues e for `batch` samples with variant v and tiling t (NULL:
 * cd_cl_linear_tiling's; larger than the problem: clamped); wpk (the
 * packed weights) matters when v is packed, else is ignored. */
int cd_cl_linear_run_variant(struct cd_cl_backend *be,
                             const struct cd_exec_node *e,
                             const struct cd_cl_linear_geo *g, int v,
                             const struct cd_cl_linear_tiling *t, cl_mem wpk,
                             int batch, struct cd_err *err);

#endif
