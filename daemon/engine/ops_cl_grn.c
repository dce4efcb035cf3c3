/* ops_cl_grn.c — OpenCL dispatch of grn (kernels/grn.cl): one work-group
 * per sample with the per-channel norms in local memory. Only validates
 * sizes, sets arguments and enqueues: no allocation, never aborts. */
#include "op_family.h"
#include "ops_cl_util.h"

#include <stdint.h>

CD_CL_FN(grn)
{
    const struct cd_shape *s = &e->in[0].shape;
    if (batch < 0 || s->ndim < 3 || !e->has_w[0] || !e->has_w[1])
        return cd_err_set(err, CD_EINVAL, "%s: bad grn operands", e->name);
    if (batch == 0)
        return CD_OK;
    int ax = e->a->axis < 0 ? e->a->axis + s->ndim : e->a->axis;
    if (ax < 1 || ax >= s->ndim || cd_cl_batched_numel(s, batch) < 0)
        return cd_err_set(err, CD_EINVAL, "%s: bad grn axis or size", e->name);
    cl_uint outer = 1, inner = 1, C = (cl_uint)s->dim[ax];
    for (int k = 1; k < s->ndim; k++) {
        if (k < ax)
            outer *= (cl_uint)s->dim[k];
        else if (k > ax)
            inner *= (cl_uint)s->dim[k];
    }
    size_t lbytes = ((size_t)C + 1) * sizeof(float);
    if (lbytes > be->local_mem)
        return cd_err_set(err, CD_ERANGE, "%s: grn over %u channels needs %zu "
                          "bytes of local memory, device has %zu", e->name,
                          (unsigned)C, lbytes, be->local_mem);
    size_t L = 64;
    while (L > 1 && L > be->max_wg)
        L /= 2;
    cl_kernel k = cd_cl_kernel(be, "cd_grn", err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong so = e->in[0].off, go = e->w[0].off, bo = e->w[1].off,
             oo = e->out.off;
    float eps = e->a->eps;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(so), CD_CL_ARG(be->wpool),
        CD_CL_ARG(go), CD_CL_ARG(bo), CD_CL_ARG(be->arena), CD_CL_ARG(oo),
        CD_CL_ARG(outer), CD_CL_ARG(C), CD_CL_ARG(inner), CD_CL_ARG(eps),
        { lbytes, NULL },
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_grn", err))
        return CD_EDEVICE;
    size_t gws = L * (size_t)batch, lws = L;
    return cd_cl_enqueue(be, k, 1, &gws, &lws, "cd_grn", err);
}
