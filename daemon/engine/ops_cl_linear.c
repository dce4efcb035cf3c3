/* ops_cl_linear.c — OpenCL dispatch of linear (y = x W^T + bias, fused
 * activation and residual; kernels in kernels/gemm.cl): the linear geometry,
 * the kernel variants, the packing of W into 16-column panels and the
 * enqueue of a variant. Which variant a layer runs with, and where its
 * packed weights live, is decided in conv_select.c, not here; no
 * allocation, no blocking, never aborts. */
#include "ops_cl.h"
#include "ops_cl_linear.h"

#include "conv_select.h"
#include "ops_cl_util.h"

#include <stdint.h>

/* Kernels index within the batched tensors with 32-bit ints. */
#define MAX_ELEMS ((int64_t)INT32_MAX)

/* Per variant: its kernel, and rows x panels of 16 columns per work-item
 * for the packed ones (mr == 0: cd_linear_gemv, 1 row x 8 outputs). */
struct lin_info {
    const char *name, *kernel;
    int mr, nv;
};

static const struct lin_info lin_table[CD_LINEAR_VARIANT_COUNT] = {
    [CD_LINEAR_GEMV] = { "gemv", "cd_linear_gemv", 0, 0 },
    [CD_LINEAR_PK4X4] = { "pk4x4", "cd_linear_pk4x4", 4, 4 },
    [CD_LINEAR_PK6X4] = { "pk6x4", "cd_linear_pk6x4", 6, 4 },
    [CD_LINEAR_PK8X2] = { "pk8x2", "cd_linear_pk8x2", 8, 2 },
    [CD_LINEAR_PK8X3] = { "pk8x3", "cd_linear_pk8x3", 8, 3 },
};

static size_t cdiv(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

const char *cd_linear_variant_name(int v)
{
    return v >= 0 && v < CD_LINEAR_VARIANT_COUNT ? lin_table[v].name : "?";
}

bool cd_cl_linear_variant_packed(int v)
{
    return v >= 0 && v < CD_LINEAR_VARIANT_COUNT && lin_table[v].mr > 0;
}

int cd_cl_linear_geo(const struct cd_exec_node *e, struct cd_cl_linear_geo *g,
                     struct cd_err *err)
{
    const struct cd_shape *x = &e->in[0].shape, *w = &e->w[0].shape;
    if (x->ndim < 2 || w->ndim != 2 || !e->has_w[0])
        return cd_err_set(err, CD_EINVAL, "%s: bad linear operands", e->name);
    int64_t K = x->dim[x->ndim - 1], N = w->dim[0], nx = cd_shape_numel(x);
    if (K < 1 || N < 1 || w->dim[1] != K || nx < K || nx > MAX_ELEMS ||
        cd_shape_numel(w) > MAX_ELEMS ||
        cd_shape_numel(&e->out.shape) != nx / K * N)
        return cd_err_set(err, CD_EINVAL, "%s: bad linear sizes", e->name);
    g->rows = (int)(nx / K);
    g->k = (int)K;
    g->n = (int)N;
    return CD_OK;
}

/* Outputs variant v computes for g at `rows` rows, tails included. */
static double padded_outputs(const struct cd_cl_linear_geo *g, int v,
                             int64_t rows)
{
    const struct lin_info *li = &lin_table[v];
    size_t cols = cdiv(cdiv((size_t)g->n, 16), (size_t)li->nv) * 16 * li->nv;
    return (double)cdiv((size_t)rows, (size_t)li->mr) * li->mr * (double)cols;
}

/* From bench/micro/bench_linear on this machine: one row is a gemv (as
 * fast as a packed 1-row kernel and needs no packing); a few rows go 4 at a
 * time; from 8 rows on, of 6 x 64, 8 x 48 and 8 x 32 tiles (equal within
 * noise where they all fit) the one that computes the fewest padding
 * outputs, e.g. 8 x 48 for convnext's 384 -> 96 (6 x 64 wastes a quarter)
 * and for 1000 classes. */
int cd_cl_linear_heuristic(const struct cd_cl_linear_geo *g, int batch)
{
    int64_t rows = (int64_t)g->rows * (batch > 0 ? batch : 1);
    if (rows < 2)
        return CD_LINEAR_GEMV;
    if (rows < 8)
        return CD_LINEAR_PK4X4;
    static const int order[] = { CD_LINEAR_PK6X4, CD_LINEAR_PK8X3,
                                 CD_LINEAR_PK8X2 };
    int best = order[0];
    for (int i = 1; i < 3; i++)
        if (padded_outputs(g, order[i], rows) <
            padded_outputs(g, best, rows))
            best = order[i];
    return best;
}

size_t cd_cl_linear_packed_floats(const struct cd_cl_linear_geo *g)
{
    return cdiv((size_t)g->n, 16) * 16 * (size_t)g->k;
}

int cd_cl_linear_pack(struct cd_cl_backend *be, const struct cd_exec_node *e,
                      const struct cd_cl_linear_geo *g, cl_mem wpk,
                      struct cd_err *err)
{
    size_t n = cd_cl_linear_packed_floats(g);
    if (n > INT32_MAX)
        return cd_err_set(err, CD_ERANGE, "%s: packed weights too large",
                          e->name);
    cl_kernel k = cd_cl_kernel(be, "cd_linear_pack16", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong w_off = e->w[0].off;
    cl_int K = g->k, N = g->n, npan = (cl_int)cdiv((size_t)g->n, 16);
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->wpool), CD_CL_ARG(w_off), CD_CL_ARG(wpk),
        CD_CL_ARG(K), CD_CL_ARG(N), CD_CL_ARG(npan),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_linear_pack16",
                       err))
        return CD_EDEVICE;
    size_t gws[1] = { n };
    return cd_cl_enqueue(be, k, 1, gws, NULL, "cd_linear_pack16", err);
}

/* Work per work-item of a packed variant: about LIN_ITEM_FLOPS, so that
 * POCL's cost per work-group stays small, while leaving at least
 * LIN_MIN_ITEMS work-items to share out. */
#define LIN_ITEM_FLOPS (1 << 21)
#define LIN_MIN_ITEMS 64

void cd_cl_linear_tiling(const struct cd_cl_linear_geo *g, int v, int batch,
                         struct cd_cl_linear_tiling *t)
{
    t->jper = t->rper = 1;
    if (!cd_cl_linear_variant_packed(v) || batch < 1)
        return;
    const struct lin_info *li = &lin_table[v];
    size_t tiles = cdiv(cdiv((size_t)g->n, 16), (size_t)li->nv),
           rtiles = cdiv((size_t)g->rows * (size_t)batch, (size_t)li->mr);
    size_t f = (size_t)2 * li->mr * 16 * li->nv * (size_t)g->k;
    size_t r = cdiv(LIN_ITEM_FLOPS, f);
    if (r > rtiles)
        r = rtiles;
    while (r > 1 && tiles * cdiv(rtiles, r) < LIN_MIN_ITEMS)
        r--;
    t->rper = (int)r;
}

int cd_cl_linear_run_variant(struct cd_cl_backend *be,
                             const struct cd_exec_node *e,
                             const struct cd_cl_linear_geo *g, int v,
                             const struct cd_cl_linear_tiling *t, cl_mem wpk,
                             int batch, struct cd_err *err)
{
    struct cd_cl_conv_epi p;
    int rc;
    if (v < 0 || v >= CD_LINEAR_VARIANT_COUNT)
        return cd_err_set(err, CD_EINVAL, "%s: bad linear variant %d",
                          e->name, v);
    const struct lin_info *li = &lin_table[v];
    if (li->mr > 0 && !wpk)
        return cd_err_set(err, CD_EINVAL, "%s: no packed weights for linear "
                          "variant %s", e->name, li->name);
    if ((rc = cd_cl_conv_epi(e, &p, err)))
        return rc;
    int64_t rows = (int64_t)g->rows * batch;
    if (rows == 0)
        return CD_OK;
    if (rows > MAX_ELEMS || rows * g->n > ((int64_t)1 << 40))
        return cd_err_set(err, CD_ERANGE, "%s: linear too large", e->name);
    cl_kernel k = cd_cl_kernel(be, li->kernel, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong x_off = e->in[0].off, w_off = e->w[0].off, out_off = e->out.off;
    const cl_int iv[] = { (cl_int)rows, g->k, g->n, p.act };
    const struct cd_cl_arg ab[] = { CD_CL_ARG(p.alpha), CD_CL_ARG(p.beta) };
    /* the packed kernels read W from wpk and the bias from the pool, the
     * gemv both from the pool (W at w_off) */
    bool pk = li->mr > 0;
    const struct cd_cl_arg io[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(x_off),
        pk ? (struct cd_cl_arg)CD_CL_ARG(wpk)
           : (struct cd_cl_arg)CD_CL_ARG(be->wpool),
        pk ? (struct cd_cl_arg)CD_CL_ARG(be->wpool)
           : (struct cd_cl_arg)CD_CL_ARG(w_off),
        CD_CL_ARG(p.b_off), CD_CL_ARG(p.has_bias),
        CD_CL_ARG(be->arena), CD_CL_ARG(p.res_off), CD_CL_ARG(p.has_res),
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off),
    };
    cl_uint na = (cl_uint)CD_CL_NARGS(io);
    if (cd_cl_set_args(k, 0, io, CD_CL_NARGS(io), li->kernel, err) ||
        cd_cl_set_int_args(k, na, iv, CD_CL_NARGS(iv), li->kernel, err) ||
        cd_cl_set_args(k, na + (cl_uint)CD_CL_NARGS(iv), ab, CD_CL_NARGS(ab),
                       li->kernel, err))
        return CD_EDEVICE;
    if (!pk) {
        size_t gws[2] = { cdiv((size_t)g->n, 8), (size_t)rows };
        return cd_cl_enqueue(be, k, 2, gws, NULL, li->kernel, err);
    }
    size_t tiles = cdiv(cdiv((size_t)g->n, 16), (size_t)li->nv),
           rtiles = cdiv((size_t)rows, (size_t)li->mr);
    struct cd_cl_linear_tiling auto_t;
    if (!t || t->jper < 1 || t->rper < 1) {
        cd_cl_linear_tiling(g, v, batch, &auto_t);
        t = &auto_t;
    }
    size_t jper = (size_t)t->jper < tiles ? (size_t)t->jper : tiles,
           rper = (size_t)t->rper < rtiles ? (size_t)t->rper : rtiles;
    const cl_int per[] = { (cl_int)jper, (cl_int)rper };
    if (cd_cl_set_int_args(k, na + (cl_uint)CD_CL_NARGS(iv) + 2, per, 2,
                           li->kernel, err))
        return CD_EDEVICE;
    size_t gws[2] = { cdiv(tiles, jper), cdiv(rtiles, rper) };
    /* one work-item per work-group, as the packed conv kernels: a fixed
     * local size means one compiled kernel whatever the shape and batch */
    static const size_t lws[2] = { 1, 1 };
    return cd_cl_enqueue(be, k, 2, gws, lws, li->kernel, err);
}

CD_CL_FN(linear)
{
    struct cd_cl_linear_geo g;
    int rc;
    if (batch < 0)
        return cd_err_set(err, CD_EINVAL, "%s: negative batch", e->name);
    if ((rc = cd_cl_linear_geo(e, &g, err)))
        return rc;
    if (batch == 0)
        return CD_OK;
    return cd_conv_select_linear_run(be, e, &g, batch, err);
}
