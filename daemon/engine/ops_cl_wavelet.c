/* ops_cl_wavelet.c — OpenCL dispatch of haar_dwt and haar_idwt (kernels in
 * kernels/wavelet.cl). Re-checks the sizes the 32-bit kernels index with,
 * sets arguments and enqueues; no allocation, no blocking, never aborts. */
#include "op_family.h"
#include "ops_cl_util.h"

#include <stdint.h>

/* inv: 0 for the forward transform, 1 for the inverse. */
static int haar(struct cd_cl_backend *be, const struct cd_exec_node *e,
                int batch, int inv, struct cd_err *err)
{
    const char *name = inv ? "cd_haar_idwt" : "cd_haar_dwt";
    const struct cd_shape *x = &e->in[0].shape;
    if (batch < 0 || e->n_in != 1 || x->ndim != 4 || e->out.shape.ndim != 4)
        return cd_err_set(err, CD_EINVAL, "%s: bad %s operands", e->name,
                          name);
    int64_t C = inv ? x->dim[1] / 4 : x->dim[1], H = x->dim[2],
            W = x->dim[3];
    if (C < 1 || H < 1 || W < 1 || (!inv && (H % 2 || W % 2)) ||
        (inv && x->dim[1] % 4))
        return cd_err_set(err, CD_EINVAL, "%s: bad %s sizes", e->name, name);
    if (cd_cl_batched_numel(x, batch) < 0 ||
        cd_cl_batched_numel(&e->out.shape, batch) < 0 ||
        (int64_t)batch * C > INT32_MAX)
        return cd_err_set(err, CD_ERANGE, "%s: tensor too large for %s",
                          e->name, name);
    if (batch == 0)
        return CD_OK;
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong in_off = e->in[0].off, out_off = e->out.off;
    cl_int c = (cl_int)C, h = (cl_int)H, w = (cl_int)W;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(in_off), CD_CL_ARG(be->arena),
        CD_CL_ARG(out_off), CD_CL_ARG(c), CD_CL_ARG(h), CD_CL_ARG(w),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), name, err))
        return CD_EDEVICE;
    size_t rows = (size_t)(inv ? H : H / 2), cols = (size_t)(inv ? W : W / 2);
    size_t gws[3] = { (cols + 7) / 8, rows, (size_t)batch * (size_t)C };
    return cd_cl_enqueue(be, k, 3, gws, NULL, name, err);
}

CD_CL_FN(haar_dwt)
{
    return haar(be, e, batch, 0, err);
}

CD_CL_FN(haar_idwt)
{
    return haar(be, e, batch, 1, err);
}
