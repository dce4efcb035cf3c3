/* ops_cl_conv.c — OpenCL dispatch of conv and matmul (kernels in
 * kernels/conv.cl and kernels/gemm.cl). Picks a path per node: 1x1 stride-1
 * unpadded conv as a batched GEMM (cd_matmul), depthwise (ops_cl_conv_dw.c),
 * the register-tiled 1-D/2-D kernels (16-wide rows, or 2 rows x 8 when
 * narrow), or the generic direct kernel (3-D). Only validates sizes, sets
 * arguments and enqueues: no allocation, no blocking, never aborts. */
#include "ops_cl.h"
#include "ops_cl_conv.h"
#include "ops_cl_conv3d.h"
#include "conv_select.h"
#include "ops_cl_util.h"

#include <stdint.h>

/* Kernels index within one sample (and within one weight) with 32-bit ints. */
#define MAX_ELEMS ((int64_t)INT32_MAX)

int cd_cl_conv_epi(const struct cd_exec_node *e, struct cd_cl_conv_epi *p,
                   struct cd_err *err)
{
    const struct cd_attrs *a = e->a;
    p->has_bias = e->has_w[1];
    p->b_off = e->has_w[1] ? e->w[1].off : 0;
    p->has_res = a->residual != 0;
    p->res_off = 0;
    if (p->has_res) {
        if (e->n_in < 2 || !cd_shape_eq(&e->in[1].shape, &e->out.shape))
            return cd_err_set(err, CD_EINVAL, "%s: residual input missing or "
                              "not shaped like the output", e->name);
        p->res_off = e->in[1].off;
    }
    if (a->act < 0 || a->act >= CD_ACT_COUNT)
        return cd_err_set(err, CD_EINVAL, "%s: bad activation %d", e->name,
                          a->act);
    p->act = a->act;
    p->alpha = a->act_alpha;
    p->beta = a->act_beta;
    return CD_OK;
}

int cd_cl_conv_set_io(struct cd_cl_backend *be, cl_kernel k,
                      const struct cd_exec_node *e,
                      const struct cd_cl_conv_epi *p, const char *what,
                      struct cd_err *err)
{
    cl_ulong in_off = e->in[0].off, w_off = e->w[0].off, out_off = e->out.off;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(in_off), CD_CL_ARG(be->wpool),
        CD_CL_ARG(w_off), CD_CL_ARG(p->b_off), CD_CL_ARG(p->has_bias),
        CD_CL_ARG(be->arena), CD_CL_ARG(p->res_off), CD_CL_ARG(p->has_res),
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off),
    };
    return cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), what, err);
}

int cd_cl_conv_set_io_ints(struct cd_cl_backend *be, cl_kernel k,
                           const struct cd_exec_node *e,
                           const struct cd_cl_conv_epi *p, const cl_int *v,
                           int n, const char *what, struct cd_err *err)
{
    const struct cd_cl_arg ab[] = { CD_CL_ARG(p->alpha), CD_CL_ARG(p->beta) };
    if (cd_cl_conv_set_io(be, k, e, p, what, err) ||
        cd_cl_set_int_args(k, 11, v, n, what, err) ||
        cd_cl_set_args(k, 11 + (cl_uint)n, ab, CD_CL_NARGS(ab), what, err))
        return CD_EDEVICE;
    return CD_OK;
}

static size_t cdiv(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

/* Batched C = A B through cd_matmul; see kernels/gemm.cl for the layout. */
struct gemm_args {
    cl_mem a, b, bias, res, c;
    cl_ulong a_off, a_sb, a_sg, b_off, b_sb, b_sg, bias_off, res_off, c_off,
        c_sb, c_sg;
    cl_int lda, ldb, ldc, has_bias, has_res, m, n, k, groups, act;
    float alpha, beta;
    size_t nbatch;
};

/* cols: columns per work-item, 16 (cd_matmul) or 32 (cd_matmul32). */
static int enqueue_gemm_cols(struct cd_cl_backend *be,
                             const struct gemm_args *g, int cols,
                             struct cd_err *err)
{
    const char *name = cols == 32 ? "cd_matmul32" : "cd_matmul";
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(g->a), CD_CL_ARG(g->a_off), CD_CL_ARG(g->lda),
        CD_CL_ARG(g->a_sb), CD_CL_ARG(g->a_sg),
        CD_CL_ARG(g->b), CD_CL_ARG(g->b_off), CD_CL_ARG(g->ldb),
        CD_CL_ARG(g->b_sb), CD_CL_ARG(g->b_sg),
        CD_CL_ARG(g->bias), CD_CL_ARG(g->bias_off), CD_CL_ARG(g->has_bias),
        CD_CL_ARG(g->res), CD_CL_ARG(g->res_off), CD_CL_ARG(g->has_res),
        CD_CL_ARG(g->c), CD_CL_ARG(g->c_off), CD_CL_ARG(g->ldc),
        CD_CL_ARG(g->c_sb), CD_CL_ARG(g->c_sg),
        CD_CL_ARG(g->m), CD_CL_ARG(g->n), CD_CL_ARG(g->k),
        CD_CL_ARG(g->groups), CD_CL_ARG(g->act), CD_CL_ARG(g->alpha),
        CD_CL_ARG(g->beta),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), name, err))
        return CD_EDEVICE;
    size_t gws[3] = { cdiv((size_t)g->n, (size_t)cols), cdiv((size_t)g->m, 8),
                      g->nbatch * (size_t)g->groups };
    return cd_cl_enqueue(be, k, 3, gws, NULL, name, err);
}

static int enqueue_gemm(struct cd_cl_backend *be, const struct gemm_args *g,
                        struct cd_err *err)
{
    return enqueue_gemm_cols(be, g, 16, err);
}

int cd_cl_conv_geo(const struct cd_exec_node *e, struct cd_cl_conv_geo *g,
                   struct cd_err *err)
{
    const struct cd_shape *x = &e->in[0].shape, *y = &e->out.shape,
                          *w = &e->w[0].shape;
    const struct cd_attrs *a = e->a;
    int nsp = x->ndim - 2;
    if (nsp < 1 || nsp > 3 || y->ndim != x->ndim || w->ndim != x->ndim ||
        !e->has_w[0])
        return cd_err_set(err, CD_EINVAL, "%s: bad conv ranks", e->name);
    if (cd_shape_numel(x) < 1 || cd_shape_numel(x) > MAX_ELEMS ||
        cd_shape_numel(y) < 1 || cd_shape_numel(y) > MAX_ELEMS ||
        cd_shape_numel(w) < 1 || cd_shape_numel(w) > MAX_ELEMS)
        return cd_err_set(err, CD_ERANGE, "%s: conv tensors too large for "
                          "the OpenCL kernels", e->name);
    g->nsp = nsp;
    g->cin = (int)x->dim[1];
    g->cout = (int)y->dim[1];
    g->groups = a->groups;
    if (g->groups < 1 || g->cin % g->groups || g->cout % g->groups ||
        w->dim[0] != g->cout || w->dim[1] * g->groups != g->cin)
        return cd_err_set(err, CD_EINVAL, "%s: bad conv channels/groups",
                          e->name);
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - nsp); /* attribute/shape index, <0: padded dim */
        g->in[i] = j < 0 ? 1 : (int)x->dim[2 + j];
        g->out[i] = j < 0 ? 1 : (int)y->dim[2 + j];
        g->k[i] = j < 0 ? 1 : (int)w->dim[2 + j];
        g->s[i] = j < 0 ? 1 : a->stride[j];
        g->d[i] = j < 0 ? 1 : a->dilation[j];
        g->p[i] = j < 0 ? 0 : a->pad_begin[j];
        if (g->s[i] < 1 || g->d[i] < 1 || g->p[i] < 0)
            return cd_err_set(err, CD_EINVAL, "%s: bad stride/dilation/"
                              "padding", e->name);
    }
    return CD_OK;
}

static int conv_gemm(struct cd_cl_backend *be, const struct cd_exec_node *e,
                     const struct cd_cl_conv_geo *g,
                     const struct cd_cl_conv_epi *p, int cols, int batch,
                     struct cd_err *err)
{
    cl_ulong S = (cl_ulong)g->out[0] * g->out[1] * g->out[2];
    int cig = g->cin / g->groups, cog = g->cout / g->groups;
    struct gemm_args ga = {
        .a = be->wpool, .a_off = e->w[0].off, .lda = cig, .a_sb = 0,
        .a_sg = (cl_ulong)cog * cig,
        .b = be->arena, .b_off = e->in[0].off, .ldb = (cl_int)S,
        .b_sb = (cl_ulong)g->cin * S, .b_sg = (cl_ulong)cig * S,
        .bias = be->wpool, .bias_off = p->b_off, .has_bias = p->has_bias,
        .res = be->arena, .res_off = p->res_off, .has_res = p->has_res,
        .c = be->arena, .c_off = e->out.off, .ldc = (cl_int)S,
        .c_sb = (cl_ulong)g->cout * S, .c_sg = (cl_ulong)cog * S,
        .m = cog, .n = (cl_int)S, .k = cig, .groups = g->groups,
        .act = p->act, .alpha = p->alpha, .beta = p->beta,
        .nbatch = (size_t)batch,
    };
    return enqueue_gemm_cols(be, &ga, cols, err);
}

static int conv_tile(struct cd_cl_backend *be, const struct cd_exec_node *e,
                     const struct cd_cl_conv_geo *g, const struct cd_cl_conv_epi *p, int batch,
                     struct cd_err *err)
{
    /* narrow rows: 2 rows x 8 positions per vector instead of 16 positions */
    bool narrow = g->out[2] <= 8;
    const char *name = narrow ? "cd_conv_tile2x8" : "cd_conv_tile16";
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    const cl_int v[] = { g->cin, g->in[1], g->in[2], g->cout, g->out[1],
                         g->out[2], g->k[1], g->k[2], g->s[1], g->s[2],
                         g->d[1], g->d[2], g->p[1], g->p[2], g->groups,
                         p->act };
    if (cd_cl_conv_set_io_ints(be, k, e, p, v, CD_CL_NARGS(v), "cd_conv_tile",
                               err))
        return CD_EDEVICE;
    size_t cog = (size_t)(g->cout / g->groups);
    size_t gws[3] = { narrow ? cdiv((size_t)g->out[2], 8) *
                                   cdiv((size_t)g->out[1], 2)
                             : cdiv((size_t)g->out[2], 16) * (size_t)g->out[1],
                      (size_t)g->groups * cdiv(cog, 8), (size_t)batch };
    return cd_cl_enqueue(be, k, 3, gws, NULL, name, err);
}

static int conv_direct(struct cd_cl_backend *be, const struct cd_exec_node *e,
                       const struct cd_cl_conv_geo *g, const struct cd_cl_conv_epi *p,
                       int batch, struct cd_err *err)
{
    cl_kernel k = cd_cl_kernel(be, "cd_conv_direct", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_int8 isz = { { g->cin, g->in[0], g->in[1], g->in[2] } };
    cl_int8 osz = { { g->cout, g->out[0], g->out[1], g->out[2] } };
    cl_int8 ksz = { { g->k[0], g->k[1], g->k[2] } };
    cl_int8 st = { { g->s[0], g->s[1], g->s[2] } };
    cl_int8 di = { { g->d[0], g->d[1], g->d[2] } };
    cl_int8 pa = { { g->p[0], g->p[1], g->p[2] } };
    cl_int groups = g->groups;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(isz), CD_CL_ARG(osz), CD_CL_ARG(ksz), CD_CL_ARG(st),
        CD_CL_ARG(di), CD_CL_ARG(pa), CD_CL_ARG(groups), CD_CL_ARG(p->act),
        CD_CL_ARG(p->alpha), CD_CL_ARG(p->beta),
    };
    if (cd_cl_conv_set_io(be, k, e, p, "cd_conv_direct", err) ||
        cd_cl_set_args(k, 11, args, CD_CL_NARGS(args), "cd_conv_direct", err))
        return CD_EDEVICE;
    size_t gws[3] = { (size_t)g->out[0] * g->out[1] * g->out[2],
                      (size_t)g->cout, (size_t)batch };
    return cd_cl_enqueue(be, k, 3, gws, NULL, "cd_conv_direct", err);
}

static const char *const variant_names[CD_CONV_VARIANT_COUNT] = {
    [CD_CONV_TILE] = "tile", [CD_CONV_GEMM] = "gemm",
    [CD_CONV_PK14X2] = "pk14x2", [CD_CONV_PK7X4] = "pk7x4",
    [CD_CONV_PK8X3] = "pk8x3", [CD_CONV_PK16X1] = "pk16x1",
    [CD_CONV_PK12X2] = "pk12x2", [CD_CONV_GEMM32] = "gemm32",
    [CD_CONV_WINO16X16] = "wino16x16", [CD_CONV_WINO32X8] = "wino32x8",
};

const char *cd_conv_variant_name(int v)
{
    return v >= 0 && v < CD_CONV_VARIANT_COUNT ? variant_names[v] : "?";
}

bool cd_cl_conv_pointwise(const struct cd_cl_conv_geo *g)
{
    for (int i = 0; i < 3; i++)
        if (g->k[i] != 1 || g->s[i] != 1 || g->p[i] != 0)
            return false;
    return true;
}

int cd_cl_conv_run_variant(struct cd_cl_backend *be,
                           const struct cd_exec_node *e,
                           const struct cd_cl_conv_geo *g,
                           const struct cd_cl_conv_epi *p, int v,
                           const struct cd_cl_conv_bufs *bufs, int batch,
                           struct cd_err *err)
{
    if (!cd_cl_conv_variant_ok(g, v))
        return cd_err_set(err, CD_EINVAL, "%s: conv variant %s does not fit "
                          "this shape", e->name, cd_conv_variant_name(v));
    if (v == CD_CONV_GEMM || v == CD_CONV_GEMM32)
        return conv_gemm(be, e, g, p, v == CD_CONV_GEMM32 ? 32 : 16, batch,
                         err);
    if (v == CD_CONV_TILE)
        return conv_tile(be, e, g, p, batch, err);
    if (cd_cl_conv_variant_wino(v))
        return cd_cl_conv_wino_run(be, e, g, p, v, bufs, batch, err);
    return cd_cl_conv_pk_run(be, e, g, p, v, bufs, batch, err);
}

CD_CL_FN(conv)
{
    struct cd_cl_conv_geo g = { 0 };
    struct cd_cl_conv_epi p = { 0 };
    int rc;
    if (batch < 0)
        return cd_err_set(err, CD_EINVAL, "%s: negative batch", e->name);
    if ((rc = cd_cl_conv_geo(e, &g, err)) || (rc = cd_cl_conv_epi(e, &p, err)))
        return rc;
    if (batch == 0)
        return CD_OK;
    if (g.nsp == 3 && !cd_cl_conv_pointwise(&g)) {
        bool done = false; /* P3D (1,kh,kw)/(kt,1,1) fast paths */
        if ((rc = cd_cl_conv3d_fast(be, e, batch, &done, err)) || done)
            return rc;
        return conv_direct(be, e, &g, &p, batch, err);
    }
    if (cd_cl_conv_is_depthwise(&g))
        return cd_cl_conv_depthwise(be, e, &g, &p, batch, err);
    /* 1-D/2-D and pointwise: the variant chosen for this layer */
    return cd_conv_select_run(be, e, &g, &p, batch, err);
}

CD_CL_FN(matmul)
{
    const struct cd_shape *x = &e->in[0].shape, *y = &e->in[1].shape;
    int r = x->ndim;
    if (batch < 0 || e->n_in != 2 || r < 2 || y->ndim != r ||
        e->out.shape.ndim != r)
        return cd_err_set(err, CD_EINVAL, "%s: bad matmul operands", e->name);
    int64_t M = x->dim[r - 2], K = x->dim[r - 1], N = y->dim[r - 1];
    int64_t nx = cd_shape_numel(x), ny = cd_shape_numel(y),
            no = cd_shape_numel(&e->out.shape);
    if (M < 1 || K < 1 || N < 1 || y->dim[r - 2] != K || nx < 1 ||
        nx > MAX_ELEMS || ny > MAX_ELEMS || no > MAX_ELEMS ||
        ny / (K * N) != nx / (M * K) || no != nx / K * N)
        return cd_err_set(err, CD_EINVAL, "%s: bad matmul sizes", e->name);
    if (batch == 0)
        return CD_OK;
    struct gemm_args ga = {
        .a = be->arena, .a_off = e->in[0].off, .lda = (cl_int)K,
        .a_sb = (cl_ulong)(M * K),
        .b = be->arena, .b_off = e->in[1].off, .ldb = (cl_int)N,
        .b_sb = (cl_ulong)(K * N),
        .bias = be->wpool, .res = be->arena,
        .c = be->arena, .c_off = e->out.off, .ldc = (cl_int)N,
        .c_sb = (cl_ulong)(M * N),
        .m = (cl_int)M, .n = (cl_int)N, .k = (cl_int)K, .groups = 1,
        .act = CD_ACT_NONE,
        .nbatch = (size_t)(nx / (M * K)) * (size_t)batch,
    };
    return enqueue_gemm(be, &ga, err);
}
