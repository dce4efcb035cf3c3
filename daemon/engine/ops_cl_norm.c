/* ops_cl_norm.c — OpenCL dispatch of inference batchnorm (with its fused
 * activation, kernels/norm_act.cl), layernorm and softmax (kernels/norm.cl).
 * The tensor is viewed as (outer, len, inner) around the reduced axis:
 * inner == 1 uses the per-row kernels, else the column kernels. Only
 * enqueues: no allocation, never aborts. */
#include "ops_cl.h"
#include "ops_cl_util.h"

#include <stdint.h>

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
    if (cd_cl_batched_numel(s, batch) < 0)
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

/* Runs the reduction along v's middle axis: the row kernel when inner == 1,
 * else the column kernel. Arguments: out, in, extra[0..n_extra), outer, len,
 * inner (column kernel only), then tail[0..n_tail). */
static int run_axis(struct cd_cl_backend *be, const struct cd_exec_node *e,
                    const struct view3 *v, const char *rows_kernel,
                    const char *cols_kernel, const struct cd_cl_arg *extra,
                    int n_extra, const struct cd_cl_arg *tail, int n_tail,
                    const char *what, struct cd_err *err)
{
    bool rows = v->inner == 1;
    const char *kn = rows ? rows_kernel : cols_kernel;
    cl_kernel k = cd_cl_kernel(be, kn, err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_uint outer = (cl_uint)v->outer, len = (cl_uint)v->len,
            inner = (cl_uint)v->inner;
    const struct cd_cl_arg head[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(oo), CD_CL_ARG(be->arena),
        CD_CL_ARG(io),
    };
    const struct cd_cl_arg dims[] = {
        CD_CL_ARG(outer), CD_CL_ARG(len), CD_CL_ARG(inner),
    };
    cl_uint at = (cl_uint)(CD_CL_NARGS(head) + n_extra);
    int n_dims = rows ? 2 : 3;
    if (cd_cl_set_args(k, 0, head, CD_CL_NARGS(head), what, err) ||
        cd_cl_set_args(k, CD_CL_NARGS(head), extra, n_extra, what, err) ||
        cd_cl_set_args(k, at, dims, n_dims, what, err) ||
        cd_cl_set_args(k, at + (cl_uint)n_dims, tail, n_tail, what, err))
        return CD_EDEVICE;
    size_t gws[2] = { rows ? (size_t)v->outer : (size_t)((v->inner + 7) / 8),
                      (size_t)v->outer };
    return cd_cl_enqueue(be, k, rows ? 1 : 2, gws, NULL, kn, err);
}

#define NORM_ACT_GROUP 64

/* Batchnorm with its fused activation (a->act) in one pass; input and
 * output may be strided channel prefixes (cd_tref.bstride, pass_concat.c).
 * Kernel cd_batchnorm_act in kernels/norm_act.cl. */
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
    if (v.outer * v.len * v.inner == 0)
        return CD_OK;
    if (v.inner > UINT32_MAX || v.len > UINT32_MAX)
        return cd_err_set(err, CD_EINVAL, "batchnorm %s: tensor too large",
                          e->name);
    cl_kernel k = cd_cl_kernel(be, "cd_batchnorm_act", err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_ulong os = cd_tref_bstride(&e->out), is = cd_tref_bstride(&e->in[0]);
    cl_ulong wo = e->w[0].off, bo = e->w[1].off, mo = e->w[2].off,
             vo = e->w[3].off;
    cl_uint inner = (cl_uint)v.inner, c = (cl_uint)v.len;
    cl_float eps = e->a->eps, alpha = e->a->act_alpha, beta = e->a->act_beta;
    cl_int act = e->a->act;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(oo), CD_CL_ARG(os),
        CD_CL_ARG(be->arena), CD_CL_ARG(io), CD_CL_ARG(is),
        CD_CL_ARG(be->wpool), CD_CL_ARG(wo), CD_CL_ARG(bo), CD_CL_ARG(mo),
        CD_CL_ARG(vo), CD_CL_ARG(c), CD_CL_ARG(inner), CD_CL_ARG(eps),
        CD_CL_ARG(act),
        CD_CL_ARG(alpha), CD_CL_ARG(beta),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_batchnorm_act",
                       err))
        return CD_EDEVICE;
    /* Work-groups of NORM_ACT_GROUP items: along a row, then across
     * channels when rows are short (7x7: 4 items per row, 16 rows). */
    size_t items = (size_t)((v.inner + 15) / 16);
    size_t l0 = items < NORM_ACT_GROUP ? items : NORM_ACT_GROUP;
    size_t l1 = NORM_ACT_GROUP / l0;
    size_t lws[3] = { l0, l1, 1 };
    size_t gws[3] = { (items + l0 - 1) / l0 * l0,
                      ((size_t)v.len + l1 - 1) / l1 * l1, (size_t)batch };
    return cd_cl_enqueue(be, k, 3, gws, lws, "cd_batchnorm_act", err);
}

/* Work-items of cd_layernorm_rows: about this many, each a run of rows
 * (both cores busy, few work-groups for POCL). */
#define LAYERNORM_ROW_ITEMS 1024

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
    int64_t rpi = v.outer / LAYERNORM_ROW_ITEMS;
    cl_uint per = (cl_uint)(rpi < 1 ? 1 : rpi);
    const struct cd_cl_arg head[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(oo), CD_CL_ARG(be->arena),
        CD_CL_ARG(io), CD_CL_ARG(be->wpool), CD_CL_ARG(wo), CD_CL_ARG(bo),
        CD_CL_ARG(has_w), CD_CL_ARG(has_b), CD_CL_ARG(outer), CD_CL_ARG(len),
    };
    const struct cd_cl_arg rows_tail[] = { CD_CL_ARG(eps), CD_CL_ARG(per) };
    const struct cd_cl_arg cols_tail[] = { CD_CL_ARG(inner), CD_CL_ARG(eps) };
    cl_uint nh = (cl_uint)CD_CL_NARGS(head);
    if (cd_cl_set_args(k, 0, head, CD_CL_NARGS(head), kn, err) ||
        cd_cl_set_args(k, nh, rows ? rows_tail : cols_tail, 2, kn, err))
        return CD_EDEVICE;
    size_t gws[2] = { rows ? (size_t)((v.outer + per - 1) / per)
                           : (size_t)((v.inner + 63) / 64),
                      (size_t)v.outer };
    static const size_t lws[2] = { 1, 1 };
    return cd_cl_enqueue(be, k, rows ? 1 : 2, gws, lws, kn, err);
}

CD_CL_FN(softmax)
{
    struct view3 v;
    int st = split_axis(&e->in[0].shape, batch, e->a->axis, &v, e->name, err);
    if (st != CD_OK)
        return st;
    if (v.outer * v.len * v.inner == 0)
        return CD_OK;
    return run_axis(be, e, &v, "cd_softmax_rows", "cd_softmax", NULL, 0, NULL,
                    0, "softmax", err);
}
