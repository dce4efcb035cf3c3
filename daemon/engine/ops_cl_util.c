/* ops_cl_util.c — helpers shared by the OpenCL op dispatchers: kernel
 * arguments from a table, batched element counts, and collapsing strided
 * views into int8 vectors. Knows no op and enqueues nothing; never aborts. */
#include "ops_cl_util.h"

#include <stdio.h>

int cd_cl_set_args(cl_kernel k, cl_uint first, const struct cd_cl_arg *args,
                   int n, const char *what, struct cd_err *err)
{
    for (int i = 0; i < n; i++) {
        cl_int rc = clSetKernelArg(k, first + (cl_uint)i, args[i].size,
                                   args[i].value);
        if (rc != CL_SUCCESS) {
            char call[96];
            snprintf(call, sizeof call, "clSetKernelArg(%s)", what);
            return cd_cl_check(rc, call, err);
        }
    }
    return CD_OK;
}

int cd_cl_set_int_args(cl_kernel k, cl_uint first, const cl_int *v, int n,
                       const char *what, struct cd_err *err)
{
    for (int i = 0; i < n; i++) {
        const struct cd_cl_arg arg = CD_CL_ARG(v[i]);
        int rc = cd_cl_set_args(k, first + (cl_uint)i, &arg, 1, what, err);
        if (rc)
            return rc;
    }
    return CD_OK;
}

int64_t cd_cl_batched_numel(const struct cd_shape *s, int batch)
{
    int64_t n = cd_shape_numel(s);
    if (n < 0 || batch < 0 || (batch > 0 && n > INT32_MAX / batch))
        return -1;
    return n * batch;
}

int cd_cl_merge_dims(int nd, const int64_t *dim, const int64_t *sa,
                     const int64_t *sb, int64_t *d, int64_t *ma, int64_t *mb)
{
    int m = 0;
    for (int k = 0; k < nd; k++) {
        if (dim[k] == 1)
            continue;
        if (m > 0 && ma[m - 1] == sa[k] * dim[k] &&
            mb[m - 1] == sb[k] * dim[k]) {
            d[m - 1] *= dim[k];
            ma[m - 1] = sa[k];
            mb[m - 1] = sb[k];
            continue;
        }
        d[m] = dim[k];
        ma[m] = sa[k];
        mb[m] = sb[k];
        m++;
    }
    return m;
}

int64_t cd_cl_pack_dims(int m, const int64_t *d, const int64_t *ma,
                        const int64_t *mb, cl_int8 *vd, cl_int8 *va,
                        cl_int8 *vb)
{
    int64_t rows = 1;
    for (int k = 0; k < 8; k++) {
        int j = k - (8 - m);
        vd->s[k] = j >= 0 ? (cl_int)d[j] : 1;
        va->s[k] = j >= 0 ? (cl_int)ma[j] : 0;
        vb->s[k] = j >= 0 ? (cl_int)mb[j] : 0;
        if (k < 7)
            rows *= vd->s[k];
    }
    return rows;
}
