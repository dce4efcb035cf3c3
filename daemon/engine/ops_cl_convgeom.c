/* ops_cl_convgeom.c — shared dispatch pieces of the conv-family kernels with
 * (d, h, w) int8 geometry (conv3d.cl, conv_transpose.cl): epilogue checks,
 * geometry vectors, argument list and enqueue. Knows no op's own sizes or
 * grid; no allocation, no blocking, never aborts. */
#include "ops_cl_convgeom.h"

#include "ops_cl_util.h"

int cd_cl_convgeom_check_epilogue(const struct cd_exec_node *e,
                                  struct cd_err *err)
{
    const struct cd_attrs *a = e->a;
    if (a->residual &&
        (e->n_in < 2 || !cd_shape_eq(&e->in[1].shape, &e->out.shape)))
        return cd_err_set(err, CD_EINVAL, "%s: residual input missing or not "
                          "shaped like the output", e->name);
    if (a->act < 0 || a->act >= CD_ACT_COUNT)
        return cd_err_set(err, CD_EINVAL, "%s: bad activation %d", e->name,
                          a->act);
    return CD_OK;
}

int cd_cl_convgeom_fill(const struct cd_exec_node *e, int nsp,
                        struct cd_cl_convgeom *g, struct cd_err *err)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *x = &e->in[0].shape, *y = &e->out.shape,
                          *w = &e->w[0].shape;
    if (nsp < 1 || nsp > 3)
        return cd_err_set(err, CD_EINVAL, "%s: %d spatial dims (1..3 "
                          "expected)", e->name, nsp);
    *g = (struct cd_cl_convgeom){ .isz = { { (cl_int)x->dim[1], 1, 1, 1 } },
                                  .osz = { { (cl_int)y->dim[1], 1, 1, 1 } },
                                  .ksz = { { 1, 1, 1 } },
                                  .st = { { 1, 1, 1 } },
                                  .di = { { 1, 1, 1 } } };
    for (int i = 3 - nsp; i < 3; i++) {
        int j = i - (3 - nsp);
        g->isz.s[1 + i] = (cl_int)x->dim[2 + j];
        g->osz.s[1 + i] = (cl_int)y->dim[2 + j];
        g->ksz.s[i] = (cl_int)w->dim[2 + j];
        g->st.s[i] = a->stride[j];
        g->di.s[i] = a->dilation[j];
        g->pa.s[i] = a->pad_begin[j];
        if (g->st.s[i] < 1 || g->di.s[i] < 1 || g->pa.s[i] < 0)
            return cd_err_set(err, CD_EINVAL, "%s: bad stride/dilation/"
                              "padding", e->name);
    }
    return CD_OK;
}

int cd_cl_convgeom_enqueue(struct cd_cl_backend *be,
                           const struct cd_exec_node *e, const char *name,
                           const struct cd_cl_convgeom *g, int groups,
                           const size_t gws[3], struct cd_err *err)
{
    const struct cd_attrs *a = e->a;
    cl_kernel k = cd_cl_kernel(be, name, err);
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
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off), CD_CL_ARG(g->isz),
        CD_CL_ARG(g->osz), CD_CL_ARG(g->ksz), CD_CL_ARG(g->st),
        CD_CL_ARG(g->di), CD_CL_ARG(g->pa), CD_CL_ARG(grp), CD_CL_ARG(act),
        CD_CL_ARG(alpha), CD_CL_ARG(beta),
    };
    int rc = cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), name, err);
    if (rc != CD_OK)
        return rc;
    return cd_cl_enqueue(be, k, 3, gws, NULL, name, err);
}
