/* ops_cl_conv_transpose.c — OpenCL dispatch of conv_transpose (kernel
 * cd_conv_transpose in kernels/conv_transpose.cl): maps 1-D/2-D/3-D onto
 * (d, h, w) with leading sizes 1, checks the sizes the 32-bit kernel indexes
 * with, sets arguments and enqueues. No allocation, no blocking, never aborts. */
#include "op_family.h"
#include "ops_cl_util.h"

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
    if (a->residual && (e->n_in < 2 || !cd_shape_eq(&e->in[1].shape, y)))
        return cd_err_set(err, CD_EINVAL, "%s: residual input missing or not "
                          "shaped like the output", e->name);
    if (a->act < 0 || a->act >= CD_ACT_COUNT)
        return cd_err_set(err, CD_EINVAL, "%s: bad activation %d", e->name,
                          a->act);
    cl_int8 isz = { { (cl_int)cin, 1, 1, 1 } }, osz = { { (cl_int)cout, 1, 1,
                                                          1 } };
    cl_int8 ksz = { { 1, 1, 1 } }, st = { { 1, 1, 1 } }, di = { { 1, 1, 1 } };
    cl_int8 pa = { { 0, 0, 0 } };
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - nsp);
        if (j < 0)
            continue;
        isz.s[1 + i] = (cl_int)x->dim[2 + j];
        osz.s[1 + i] = (cl_int)y->dim[2 + j];
        ksz.s[i] = (cl_int)w->dim[2 + j];
        st.s[i] = a->stride[j];
        di.s[i] = a->dilation[j];
        pa.s[i] = a->pad_begin[j];
        if (st.s[i] < 1 || di.s[i] < 1 || pa.s[i] < 0)
            return cd_err_set(err, CD_EINVAL, "%s: bad stride/dilation/"
                              "padding", e->name);
    }
    if (batch == 0)
        return CD_OK;
    int sx = st.s[2], px = pa.s[2], OW = osz.s[3];
    int64_t m = (int64_t)(px + OW - 1) / sx - px / sx + 1;
    int64_t cog = cout / groups, ntc = (cog + 7) / 8;
    size_t gws[3] = { (size_t)((m + 15) / 16) * (size_t)sx,
                      (size_t)osz.s[1] * (size_t)osz.s[2],
                      (size_t)batch * (size_t)groups * (size_t)ntc };
    if ((int64_t)batch * groups * ntc > MAX_ELEMS || gws[0] > INT32_MAX ||
        gws[1] > INT32_MAX)
        return cd_err_set(err, CD_ERANGE, "%s: conv_transpose grid too large",
                          e->name);
    cl_kernel k = cd_cl_kernel(be, "cd_conv_transpose", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong in_off = e->in[0].off, w_off = e->w[0].off, out_off = e->out.off;
    cl_ulong b_off = e->has_w[1] ? e->w[1].off : 0;
    cl_ulong res_off = a->residual ? e->in[1].off : 0;
    cl_int has_bias = e->has_w[1], has_res = a->residual != 0, act = a->act;
    cl_int grp = groups;
    float alpha = a->act_alpha, beta = a->act_beta;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(in_off), CD_CL_ARG(be->wpool),
        CD_CL_ARG(w_off), CD_CL_ARG(b_off), CD_CL_ARG(has_bias),
        CD_CL_ARG(be->arena), CD_CL_ARG(res_off), CD_CL_ARG(has_res),
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off), CD_CL_ARG(isz),
        CD_CL_ARG(osz), CD_CL_ARG(ksz), CD_CL_ARG(st), CD_CL_ARG(di),
        CD_CL_ARG(pa), CD_CL_ARG(grp), CD_CL_ARG(act), CD_CL_ARG(alpha),
        CD_CL_ARG(beta),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_conv_transpose",
                       err))
        return CD_EDEVICE;
    return cd_cl_enqueue(be, k, 3, gws, NULL, "cd_conv_transpose", err);
}
