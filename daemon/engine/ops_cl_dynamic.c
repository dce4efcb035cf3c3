/* ops_cl_dynamic.c — OpenCL dispatch of dynamic_dwconv (kernels/dynamic.cl,
 * cd_dynamic_dwconv): the per-sample kernel is read from the arena (it is an
 * activation), the optional bias from the weight pool. 1-D maps to H = 1.
 * Only validates sizes, sets arguments and enqueues: no allocation, no
 * blocking, never aborts. */
#include "op_family.h"
#include "ops_cl_util.h"

#include <stdint.h>

#define MAX_ELEMS ((int64_t)INT32_MAX)

CD_CL_FN(dynamic_dwconv)
{
    const struct cd_shape *xs = &e->in[0].shape, *ks = &e->in[1].shape;
    const struct cd_shape *os = &e->out.shape;
    const struct cd_attrs *a = e->a;
    int nsp = xs->ndim - 2;
    if (batch < 0 || e->n_in != 2 || nsp < 1 || nsp > 2 ||
        os->ndim != xs->ndim || cd_shape_numel(xs) > MAX_ELEMS ||
        cd_shape_numel(os) > MAX_ELEMS || cd_shape_numel(ks) > MAX_ELEMS ||
        cd_shape_numel(xs) < 1 || cd_shape_numel(os) < 1)
        return cd_err_set(err, CD_EINVAL, "%s: bad dynamic_dwconv shapes",
                          e->name);
    int j = nsp - 1;
    cl_int C = (cl_int)xs->dim[1];
    cl_int H = nsp == 2 ? (cl_int)xs->dim[2] : 1, W = (cl_int)xs->dim[2 + j];
    cl_int OH = nsp == 2 ? (cl_int)os->dim[2] : 1, OW = (cl_int)os->dim[2 + j];
    cl_int KH = 1, KW;
    if (a->kernel[0] > 0) {
        KH = nsp == 2 ? a->kernel[0] : 1;
        KW = a->kernel[j];
    } else {
        if (ks->ndim != xs->ndim)
            return cd_err_set(err, CD_EINVAL, "%s: kernel size unknown",
                              e->name);
        KH = nsp == 2 ? (cl_int)ks->dim[2] : 1;
        KW = (cl_int)ks->dim[2 + j];
    }
    if ((int64_t)C * KH * KW != cd_shape_numel(ks))
        return cd_err_set(err, CD_EINVAL, "%s: kernel input holds %lld values "
                          "per sample, expected %lld", e->name,
                          (long long)cd_shape_numel(ks),
                          (long long)C * KH * KW);
    cl_int st[8] = { nsp == 2 ? a->stride[0] : 1, a->stride[j],
                     nsp == 2 ? a->dilation[0] : 1, a->dilation[j],
                     nsp == 2 ? a->pad_begin[0] : 0, a->pad_begin[j] };
    for (int i = 0; i < 6; i++)
        if (st[i] < (i < 4 ? 1 : 0))
            return cd_err_set(err, CD_EINVAL, "%s: bad stride/dilation/"
                              "padding", e->name);
    if (batch == 0)
        return CD_OK;
    const char *name = "cd_dynamic_dwconv";
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong xo = e->in[0].off, ko = e->in[1].off, oo = e->out.off;
    cl_ulong bo = e->has_w[0] ? e->w[0].off : 0;
    cl_int has_bias = e->has_w[0];
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(xo), CD_CL_ARG(be->arena),
        CD_CL_ARG(ko), CD_CL_ARG(be->wpool), CD_CL_ARG(bo),
        CD_CL_ARG(has_bias), CD_CL_ARG(be->arena), CD_CL_ARG(oo),
    };
    cl_int dims[7] = { C, H, W, OH, OW, KH, KW };
    int rc = cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), name, err);
    if (!rc)
        rc = cd_cl_set_int_args(k, 9, dims, 7, name, err);
    if (!rc) /* sy, sx, dy, dx, py, px */
        rc = cd_cl_set_int_args(k, 16, st, 6, name, err);
    if (rc)
        return rc;
    size_t gws[3] = { (size_t)((OW + 15) / 16) * (size_t)((OH + 3) / 4),
                      (size_t)C, (size_t)batch };
    return cd_cl_enqueue(be, k, 3, gws, NULL, name, err);
}
