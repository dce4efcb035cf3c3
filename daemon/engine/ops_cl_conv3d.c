/* ops_cl_conv3d.c — OpenCL dispatch of the pseudo-3-D conv fast paths
 * (kernels/conv3d.cl): (kt, 1, 1) kernels with unit spatial stride and no
 * spatial padding run on the plane kernel, other (kt, 1, 1) and every
 * (1, kh, kw) kernel on the row kernel; anything else is left to the caller
 * (cd_cl_conv's generic direct kernel). Only validates sizes, sets arguments
 * and enqueues: no allocation, no blocking, never aborts. */
#include "ops_cl_conv3d.h"

#include "ops_cl_convgeom.h"

#include <stdint.h>

#define MAX_ELEMS ((int64_t)INT32_MAX)

bool cd_cl_conv3d_enabled = true;

int cd_cl_conv3d_fast(struct cd_cl_backend *be, const struct cd_exec_node *e,
                      int batch, bool *handled, struct cd_err *err)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *x = &e->in[0].shape, *y = &e->out.shape,
                          *w = &e->w[0].shape;
    *handled = false;
    if (!cd_cl_conv3d_enabled || x->ndim != 5 || y->ndim != 5 ||
        w->ndim != 5 || !e->has_w[0] || batch < 1)
        return CD_OK;
    bool spatial = w->dim[2] == 1, temporal = w->dim[3] == 1 &&
                                              w->dim[4] == 1;
    if (!spatial && !temporal)
        return CD_OK;
    if (cd_shape_numel(x) > MAX_ELEMS || cd_shape_numel(y) > MAX_ELEMS ||
        cd_shape_numel(w) > MAX_ELEMS || cd_shape_numel(y) < 1)
        return cd_err_set(err, CD_ERANGE, "%s: conv3d tensors too large for "
                          "the OpenCL kernels", e->name);
    int groups = a->groups;
    int64_t cin = x->dim[1], cout = y->dim[1];
    if (groups < 1 || cin % groups || cout % groups || w->dim[0] != cout ||
        w->dim[1] * groups != cin)
        return cd_err_set(err, CD_EINVAL, "%s: bad conv channels/groups",
                          e->name);
    int rc = cd_cl_convgeom_check_epilogue(e, err);
    struct cd_cl_convgeom g;
    if (rc == CD_OK)
        rc = cd_cl_convgeom_fill(e, 3, &g, err);
    if (rc != CD_OK)
        return rc;
    const cl_int8 *isz = &g.isz, *osz = &g.osz, *st = &g.st, *pa = &g.pa;
    bool plane = temporal && st->s[1] == 1 && st->s[2] == 1 &&
                 pa->s[1] == 0 && pa->s[2] == 0 && osz->s[2] == isz->s[2] &&
                 osz->s[3] == isz->s[3];
    int64_t cog = cout / groups, ntc = (cog + 7) / 8;
    int64_t n2 = (int64_t)batch * osz->s[1];
    if (n2 > MAX_ELEMS || groups * ntc > MAX_ELEMS)
        return cd_err_set(err, CD_ERANGE, "%s: conv3d grid too large",
                          e->name);
    size_t gws[3] = { 0, (size_t)(groups * ntc), (size_t)n2 };
    if (plane)
        gws[0] = ((size_t)osz->s[2] * (size_t)osz->s[3] + 15) / 16;
    else
        gws[0] = ((size_t)osz->s[3] + 15) / 16 * (size_t)osz->s[2];
    const char *name = plane ? "cd_conv3d_plane16" : "cd_conv3d_row16";
    rc = cd_cl_convgeom_enqueue(be, e, name, &g, groups, gws, err);
    if (rc == CD_OK)
        *handled = true;
    return rc;
}
