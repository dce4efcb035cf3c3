/* ops_cl_scnn.c — OpenCL dispatch of scnn (kernels/scnn.cl): copies x into
 * the output buffer, then enqueues one cd_scnn_slice launch per slice for
 * the down, up, right and left passes, in order; the in-order queue carries
 * the slice-to-slice dependency and the update is in place. Allocates
 * nothing at run time, never blocks, never aborts. */
#include "op_family.h"
#include "ops_cl_util.h"

#include <stdint.h>

#define MAX_ELEMS ((int64_t)INT32_MAX)

/* Enqueues the S-1 slice launches of one pass (s: 0 down, 1 up, 2 right,
 * 3 left). */
static int run_pass(struct cd_cl_backend *be, cl_kernel k,
                    const struct cd_exec_node *e, int s, int batch,
                    struct cd_err *err)
{
    const struct cd_shape *xs = &e->in[0].shape;
    bool vert = s < 2, fwd = s % 2 == 0;
    cl_int C = (cl_int)xs->dim[1], H = (cl_int)xs->dim[2];
    cl_int W = (cl_int)xs->dim[3];
    cl_int S = vert ? H : W;
    if (S < 2)
        return CD_OK;
    cl_ulong oo = e->out.off, wo = e->w[s].off;
    cl_int v[6] = { C, H * W, vert ? W : H, vert ? 1 : W, vert ? W : 1,
                    (cl_int)(vert ? e->w[s].shape.dim[3]
                                  : e->w[s].shape.dim[2]) };
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(oo), CD_CL_ARG(be->wpool),
        CD_CL_ARG(wo),
    };
    int rc = cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_scnn_slice",
                            err);
    if (!rc)
        rc = cd_cl_set_int_args(k, 4, v, 6, "cd_scnn_slice", err);
    size_t gws[3] = { (size_t)(v[2] + 7) / 8, (size_t)(C + 3) / 4,
                      (size_t)batch };
    for (cl_int t = 1; !rc && t < S; t++) {
        cl_int ip[2];
        ip[0] = fwd ? t : S - 1 - t;
        ip[1] = fwd ? ip[0] - 1 : ip[0] + 1;
        rc = cd_cl_set_int_args(k, 10, ip, 2, "cd_scnn_slice", err);
        if (!rc)
            rc = cd_cl_enqueue(be, k, 3, gws, NULL, "cd_scnn_slice", err);
    }
    return rc;
}

CD_CL_FN(scnn)
{
    const struct cd_shape *xs = &e->in[0].shape;
    int64_t n = cd_shape_numel(xs);
    if (batch < 0 || e->n_in != 1 || xs->ndim != 4 || n < 1 ||
        n > MAX_ELEMS || !cd_shape_eq(xs, &e->out.shape))
        return cd_err_set(err, CD_EINVAL, "%s: bad scnn shapes", e->name);
    for (int s = 0; s < 4; s++) {
        const struct cd_shape *ws = &e->w[s].shape;
        if (!e->has_w[s] || ws->ndim != 4 || ws->dim[0] != xs->dim[1] ||
            ws->dim[1] != xs->dim[1])
            return cd_err_set(err, CD_EINVAL, "%s: bad scnn weight %d",
                              e->name, s);
    }
    if (batch == 0)
        return CD_OK;
    size_t bytes;
    if (!cd_size_mul((size_t)n * sizeof(float), (size_t)batch, &bytes))
        return cd_err_set(err, CD_EINVAL, "%s: scnn batch too large",
                          e->name);
    /* out is (N, C, H, W): start from x, then update slices in place */
    cl_int rc = clEnqueueCopyBuffer(be->q, be->arena, be->arena,
                                    e->in[0].off * sizeof(float),
                                    e->out.off * sizeof(float), bytes, 0,
                                    NULL, NULL);
    if (cd_cl_check(rc, "clEnqueueCopyBuffer(scnn)", err))
        return CD_EDEVICE;
    cl_kernel k = cd_cl_kernel(be, "cd_scnn_slice", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    for (int s = 0; s < 4; s++) {
        int r = run_pass(be, k, e, s, batch, err);
        if (r)
            return r;
    }
    return CD_OK;
}
