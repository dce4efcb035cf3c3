/* ops_cl_multidilated.c — OpenCL dispatch of multidilated_conv (kernels in
 * kernels/multidilated.cl): 16-wide output rows, or 8-wide when rows are
 * narrow; 1-D runs as H == 1. Only validates sizes, sets arguments and
 * enqueues: no allocation, no blocking, never aborts. */
#include "op_family.h"
#include "ops_cl_util.h"

#include <stdint.h>
#include <string.h>

#define MAX_ELEMS ((int64_t)INT32_MAX)

CD_CL_FN(multidilated_conv)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *xs = &e->in[0].shape, *ys = &e->out.shape,
                          *ws = &e->w[0].shape;
    int nsp = xs->ndim - 2, m = a->n_dilations;
    if (nsp < 1 || nsp > 2 || ys->ndim != xs->ndim || ws->ndim != xs->ndim ||
        !e->has_w[0] || m < 1 || m > CD_MAX_DILATIONS || xs->dim[1] % m)
        return cd_err_set(err, CD_EINVAL, "%s: bad multidilated_conv node",
                          e->name);
    if (cd_shape_numel(xs) > MAX_ELEMS || cd_shape_numel(ys) > MAX_ELEMS ||
        cd_shape_numel(ws) > MAX_ELEMS)
        return cd_err_set(err, CD_ERANGE, "%s: tensors too large for the "
                          "OpenCL kernels", e->name);
    cl_int has_res = a->residual != 0, has_bias = e->has_w[1], act = a->act;
    if (has_res && (e->n_in < 2 || !cd_shape_eq(&e->in[1].shape, ys)))
        return cd_err_set(err, CD_EINVAL, "%s: residual input missing or not "
                          "shaped like the output", e->name);
    cl_ulong in_off = e->in[0].off, w_off = e->w[0].off, out_off = e->out.off;
    cl_ulong b_off = has_bias ? e->w[1].off : 0;
    cl_ulong res_off = has_res ? e->in[1].off : 0;
    float alpha = a->act_alpha, beta = a->act_beta;
    cl_int16 dils;
    memset(&dils, 0, sizeof dils);
    for (int i = 0; i < m; i++)
        dils.s[i] = a->dilations[i];
    int OW = (int)ys->dim[1 + nsp];
    int vw = OW > 8 ? 16 : 8;
    const char *name = vw == 16 ? "cd_multidilated_conv"
                                : "cd_multidilated_conv8";
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    const struct cd_cl_arg io[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(in_off), CD_CL_ARG(be->wpool),
        CD_CL_ARG(w_off), CD_CL_ARG(b_off), CD_CL_ARG(has_bias),
        CD_CL_ARG(be->arena), CD_CL_ARG(res_off), CD_CL_ARG(has_res),
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off),
    };
    const cl_int v[] = {
        (cl_int)xs->dim[1], nsp == 2 ? (cl_int)xs->dim[2] : 1,
        (cl_int)xs->dim[1 + nsp], (cl_int)ys->dim[1],
        nsp == 2 ? (cl_int)ys->dim[2] : 1, OW,
        nsp == 2 ? (cl_int)ws->dim[2] : 1, (cl_int)ws->dim[1 + nsp],
        nsp == 2 ? a->stride[0] : 1, a->stride[nsp - 1], m, act,
    };
    const struct cd_cl_arg tail[] = { CD_CL_ARG(alpha), CD_CL_ARG(beta),
                                      CD_CL_ARG(dils) };
    cl_uint nio = (cl_uint)CD_CL_NARGS(io), nv = (cl_uint)CD_CL_NARGS(v);
    if (cd_cl_set_args(k, 0, io, (int)nio, name, err) ||
        cd_cl_set_int_args(k, nio, v, (int)nv, name, err) ||
        cd_cl_set_args(k, nio + nv, tail, CD_CL_NARGS(tail), name, err))
        return CD_EDEVICE;
    size_t OH = nsp == 2 ? (size_t)ys->dim[2] : 1;
    size_t gws[3] = { ((size_t)OW + (size_t)vw - 1) / (size_t)vw * OH,
                      ((size_t)ys->dim[1] + 7) / 8, (size_t)batch };
    return cd_cl_enqueue(be, k, 3, gws, NULL, name, err);
}
