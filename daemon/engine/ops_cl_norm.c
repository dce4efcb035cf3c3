/* ops_cl_norm.c — OpenCL dispatch of inference batchnorm, layernorm and
 * softmax (kernels in kernels/norm.cl). The tensor is viewed as (outer, len,
 * inner) around the reduced axis: inner == 1 uses the per-row kernels, else
 * the column kernels. Only enqueues: no allocation, never aborts. */
#include "cl_backend.h"
#include "ops_cl.h"

#include <stdint.h>

#define SETARG(k, i, v)                                                       \
    do {                                                                      \
        if (rc == CL_SUCCESS)                                                 \
            rc = clSetKernelArg(k, i, sizeof(v), &(v));                       \
    } while (0)

/* (outer, len, inner) of the full shape (dim 0 = batch) around axis. */
struct view3 {
    int64_t outer, len, inner;
};

static int split_axis(const struct cd_shape *s, int batch, int axis,
                      struct view3 *v, const char *name, struct cd_err *err)
{
    if (s->ndim < 1 || s->ndim > CD_MAX_DIMS)
        return cd_err_set(err, CD_EINVAL, "%s: bad rank %d", name, s->ndim);
    if (axis < 0)
        axis += s->ndim;
    if (axis < 0 || axis >= s->ndim)
        return cd_err_set(err, CD_EINVAL, "%s: axis out of range", name);
    int64_t n = cd_shape_numel(s);
    if (n < 0 || batch < 0 || (batch > 0 && n > INT32_MAX / batch))
        return cd_err_set(err, CD_EINVAL, "%s: tensor too large", name);
    v->outer = 1;
    v->len = 1;
    v->inner = 1;
    for (int k = 0; k < s->ndim; k++) {
        int64_t d = k == 0 ? batch : s->dim[k];
        if (k < axis)
            v->outer *= d;
        else if (k == axis)
            v->len = d;
        else
            v->inner *= d;
    }
    return CD_OK;
}

CD_CL_FN(batchnorm)
{
    struct view3 v;
    int st = split_axis(&e->in[0].shape, batch, 1, &v, e->name, err);
    if (st != CD_OK)
        return st;
    for (int i = 0; i < 4; i++)
        if (!e->has_w[i] || cd_shape_numel(&e->w[i].shape) != v.len)
            return cd_err_set(err, CD_EINVAL,
                              "batchnorm %s: weight %d must have %lld values",
                              e->name, i, (long long)v.len);
    int64_t n = v.outer * v.len * v.inner;
    if (n == 0)
        return CD_OK;
    cl_kernel k = cd_cl_kernel(be, "cd_batchnorm", err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_ulong wo = e->w[0].off, bo = e->w[1].off, mo = e->w[2].off,
             vo = e->w[3].off;
    cl_uint nn = (cl_uint)n, inner = (cl_uint)v.inner, c = (cl_uint)v.len;
    cl_float eps = e->a->eps;
    cl_int rc = CL_SUCCESS;
    SETARG(k, 0, be->arena);
    SETARG(k, 1, oo);
    SETARG(k, 2, be->arena);
    SETARG(k, 3, io);
    SETARG(k, 4, be->wpool);
    SETARG(k, 5, wo);
    SETARG(k, 6, bo);
    SETARG(k, 7, mo);
    SETARG(k, 8, vo);
    SETARG(k, 9, nn);
    SETARG(k, 10, inner);
    SETARG(k, 11, c);
    SETARG(k, 12, eps);
    if (cd_cl_check(rc, "clSetKernelArg(cd_batchnorm)", err))
        return CD_EDEVICE;
    size_t gws = (size_t)((n + 7) / 8);
    return cd_cl_enqueue(be, k, 1, &gws, NULL, "cd_batchnorm", err);
}

CD_CL_FN(layernorm)
{
    struct view3 v;
    int st = split_axis(&e->in[0].shape, batch, e->a->axis, &v, e->name, err);
    if (st != CD_OK)
        return st;
    cl_int has_w = e->has_w[0], has_b = e->has_w[1];
    if ((has_w && cd_shape_numel(&e->w[0].shape) != v.len) ||
        (has_b && cd_shape_numel(&e->w[1].shape) != v.len))
        return cd_err_set(err, CD_EINVAL,
                          "layernorm %s: weight/bias must have %lld values",
                          e->name, (long long)v.len);
    if (v.outer * v.len * v.inner == 0)
        return CD_OK;
    bool rows = v.inner == 1;
    const char *kn = rows ? "cd_layernorm_rows" : "cd_layernorm";
    cl_kernel k = cd_cl_kernel(be, kn, err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_ulong wo = has_w ? e->w[0].off : 0, bo = has_b ? e->w[1].off : 0;
    cl_uint outer = (cl_uint)v.outer, len = (cl_uint)v.len,
            inner = (cl_uint)v.inner;
    cl_float eps = e->a->eps;
    cl_int rc = CL_SUCCESS;
    SETARG(k, 0, be->arena);
    SETARG(k, 1, oo);
    SETARG(k, 2, be->arena);
    SETARG(k, 3, io);
    SETARG(k, 4, be->wpool);
    SETARG(k, 5, wo);
    SETARG(k, 6, bo);
    SETARG(k, 7, has_w);
    SETARG(k, 8, has_b);
    SETARG(k, 9, outer);
    SETARG(k, 10, len);
    if (rows) {
        SETARG(k, 11, eps);
    } else {
        SETARG(k, 11, inner);
        SETARG(k, 12, eps);
    }
    if (cd_cl_check(rc, "clSetKernelArg(layernorm)", err))
        return CD_EDEVICE;
    size_t gws[2] = { rows ? (size_t)v.outer : (size_t)((v.inner + 7) / 8),
                      (size_t)v.outer };
    return cd_cl_enqueue(be, k, rows ? 1 : 2, gws, NULL, kn, err);
}

CD_CL_FN(softmax)
{
    struct view3 v;
    int st = split_axis(&e->in[0].shape, batch, e->a->axis, &v, e->name, err);
    if (st != CD_OK)
        return st;
    if (v.outer * v.len * v.inner == 0)
        return CD_OK;
    bool rows = v.inner == 1;
    const char *kn = rows ? "cd_softmax_rows" : "cd_softmax";
    cl_kernel k = cd_cl_kernel(be, kn, err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_uint outer = (cl_uint)v.outer, len = (cl_uint)v.len,
            inner = (cl_uint)v.inner;
    cl_int rc = CL_SUCCESS;
    SETARG(k, 0, be->arena);
    SETARG(k, 1, oo);
    SETARG(k, 2, be->arena);
    SETARG(k, 3, io);
    SETARG(k, 4, outer);
    SETARG(k, 5, len);
    if (!rows)
        SETARG(k, 6, inner);
    if (cd_cl_check(rc, "clSetKernelArg(softmax)", err))
        return CD_EDEVICE;
    size_t gws[2] = { rows ? (size_t)v.outer : (size_t)((v.inner + 7) / 8),
                      (size_t)v.outer };
    return cd_cl_enqueue(be, k, rows ? 1 : 2, gws, NULL, kn, err);
}
