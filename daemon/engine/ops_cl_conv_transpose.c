/* ops_cl_conv_transpose.c — OpenCL dispatch of conv_transpose (kernel
 * cd_conv_transpose in kernels/conv_transpose.cl): maps 1-D/2-D/3-D onto
 * (d, h, w) with leading sizes 1, checks the sizes the 32-bit kernel indexes
 * with, sets arguments and enqueues. No allocation, no blocking, never aborts. */
#include "op_family.h"
#include "ops_cl_convgeom.h"

#include <stdint.h>

#define MAX_ELEMS ((int64_t)INT32_MAX)

CD_CL_FN(conv_transpose)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *x = &e->in[0].shape, *y = &e->out.shape,
                          *w = &e->w[0].shape;
    int nsp = x->ndim - 2;
    if (batch < 0 || nsp < 1 || nsp > 3 || y->ndim != x->ndim ||
        w->ndim != x->ndim || !e->has_w[0])
        return cd_err_set(err, CD_EINVAL, "%s: bad conv_transpose operands",
                          e->name);
    if (cd_shape_numel(x) > MAX_ELEMS || cd_shape_numel(y) > MAX_ELEMS ||
        cd_shape_numel(w) > MAX_ELEMS || cd_shape_numel(y) < 1)
        return cd_err_set(err, CD_ERANGE, "%s: conv_transpose tensors too "
                          "large for the OpenCL kernel", e->name);
    int groups = a->groups;
    int64_t cin = x->dim[1], cout = y->dim[1];
    if (groups < 1 || cin % groups || w->dim[0] != cin ||
        w->dim[1] * groups != cout)
        return cd_err_set(err, CD_EINVAL, "%s: bad conv_transpose channels/"
                          "groups", e->name);
    int rc = cd_cl_convgeom_check_epilogue(e, err);
    struct cd_cl_convgeom g;
    if (rc == CD_OK)
        rc = cd_cl_convgeom_fill(e, nsp, &g, err);
    if (rc != CD_OK)
        return rc;
    if (batch == 0)
        return CD_OK;
    int sx = g.st.s[2], px = g.pa.s[2], OW = g.osz.s[3];
    int64_t m = (int64_t)(px + OW - 1) / sx - px / sx + 1;
    int64_t cog = cout / groups, ntc = (cog + 7) / 8;
    size_t gws[3] = { (size_t)((m + 15) / 16) * (size_t)sx,
                      (size_t)g.osz.s[1] * (size_t)g.osz.s[2],
                      (size_t)batch * (size_t)groups * (size_t)ntc };
    if ((int64_t)batch * groups * ntc > MAX_ELEMS || gws[0] > INT32_MAX ||
        gws[1] > INT32_MAX)
        return cd_err_set(err, CD_ERANGE, "%s: conv_transpose grid too large",
                          e->name);
    return cd_cl_convgeom_enqueue(be, e, "cd_conv_transpose", &g, groups, gws,
                                  err);
}
