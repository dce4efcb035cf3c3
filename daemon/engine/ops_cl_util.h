/* ops_cl_util.h — small helpers shared by the OpenCL op dispatchers
 * (ops_cl_*.c): setting a kernel's arguments from a table, the batched
 * element count the 32-bit kernels accept, and collapsing strided N-d views
 * into the right-aligned int8 vectors of kernels/eltwise.cl and tensor.cl.
 * Only files of the OpenCL layer include this header (it pulls <CL/cl.h>). */
#ifndef CD_OPS_CL_UTIL_H
#define CD_OPS_CL_UTIL_H

#include "cl_backend.h"
#include "tensor.h"

#include <stdint.h>

/* One kernel argument: its size and a pointer to its value (borrowed). */
struct cd_cl_arg {
    size_t size;
    const void *value;
};

/* An argument from an lvalue: CD_CL_ARG(be->arena), CD_CL_ARG(off). */
#define CD_CL_ARG(v) { sizeof(v), &(v) }
/* Entries of a struct cd_cl_arg array. */
#define CD_CL_NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Sets arguments first .. first+n-1 of k from args, stopping at the first
 * failure; then err says "clSetKernelArg(what) failed: CL_NAME (rc)" and the
 * result is CD_EDEVICE. */
int cd_cl_set_args(cl_kernel k, cl_uint first, const struct cd_cl_arg *args,
                   int n, const char *what, struct cd_err *err);

/* As cd_cl_set_args for n cl_int arguments v[0..n) from arg first. */
int cd_cl_set_int_args(cl_kernel k, cl_uint first, const cl_int *v, int n,
                       const char *what, struct cd_err *err);

/* Elements of the batched tensor (dim 0 of s replaced by batch); -1 when s
 * or batch is negative or the count exceeds INT32_MAX. */
int64_t cd_cl_batched_numel(const struct cd_shape *s, int batch);

/* Drops size-1 dims of dim[0..nd) and merges neighbours along which both
 * strided views (strides sa, sb) are contiguous; writes the m <= nd merged
 * dims and strides to d, ma, mb and returns m. */
int cd_cl_merge_dims(int nd, const int64_t *dim, const int64_t *sa,
                     const int64_t *sb, int64_t *d, int64_t *ma, int64_t *mb);

/* Right-aligns m <= 8 merged dims and strides into int8 vectors (unused
 * slots: size 1, stride 0); returns the product of the first 7 sizes (the
 * rows a row kernel walks; the last slot is the row itself). */
int64_t cd_cl_pack_dims(int m, const int64_t *d, const int64_t *ma,
                        const int64_t *mb, cl_int8 *vd, cl_int8 *va,
                        cl_int8 *vb);

#endif
