/* ops_cl_conv_dw.c — OpenCL dispatch of depthwise convolutions (groups ==
 * Cin == Cout, 1-D/2-D, kernels in kernels/conv_dw.cl): the fixed-size
 * K x K kernels (K 3, 5, 7, stride 1 or 2, no dilation), the large-kernel
 * one (stride 1, k >= 5, rows staged in local memory) and the generic one
 * (anything else). Picks a kernel per shape (or the one a test forces),
 * validates sizes, sets arguments and enqueues: no allocation, no
 * blocking, never aborts. */
#include "ops_cl_conv.h"

#include "ops_cl_util.h"

static size_t cdiv(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

bool cd_cl_conv_is_depthwise(const struct cd_cl_conv_geo *g)
{
    return g->nsp <= 2 && g->groups == g->cin && g->cout == g->cin &&
           !cd_cl_conv_pointwise(g);
}

/* ---- fixed K x K kernels ----------------------------------------------- */

#define DW_ROWS 8 /* output rows per work-item step in cd_conv_dwK_sS */

/* Kernel name of the fixed-size kernel for g, NULL when none fits. */
static const char *fixed_name(const struct cd_cl_conv_geo *g)
{
    static const char *const names[3][2] = {
        { "cd_conv_dw3_s1", "cd_conv_dw3_s2" },
        { "cd_conv_dw5_s1", "cd_conv_dw5_s2" },
        { "cd_conv_dw7_s1", "cd_conv_dw7_s2" },
    };
    int k = g->k[2], s = g->s[2];
    if (g->k[1] != k || g->s[1] != s || g->d[1] != 1 || g->d[2] != 1 ||
        (k != 3 && k != 5 && k != 7) || (s != 1 && s != 2))
        return NULL;
    return names[k / 2 - 1][s - 1];
}

/* Channels per work-item: one, except on small planes (under 16 output
 * vectors per block, e.g. 14x14 and 7x7), where up to 4 channels share a
 * work-item while at least 64 work-items remain. Measured with
 * bench/micro/bench_dw at batch 8 per CPU second: 2 channels per
 * work-item ran 144x56x56 3x3 at 37% of the roof against 67% with one;
 * 960x7x7 gained 8.0 -> 10.1 GFLOP/s with 4. */
static int fixed_cpb(const struct cd_cl_conv_geo *g, int batch)
{
    size_t vecs = cdiv((size_t)g->out[2], 16) *
                  (size_t)(g->out[1] < DW_ROWS ? g->out[1] : DW_ROWS);
    size_t blocks = cdiv((size_t)g->out[1], DW_ROWS) * (size_t)batch;
    int cpb = 1;
    while (vecs < 16 && cpb < 4 && cpb < g->cin && vecs * (size_t)cpb < 32 &&
           blocks * cdiv((size_t)g->cin, (size_t)cpb * 2) >= 64)
        cpb *= 2;
    return cpb;
}

static int conv_dw_fixed(struct cd_cl_backend *be,
                         const struct cd_exec_node *e,
                         const struct cd_cl_conv_geo *g,
                         const struct cd_cl_conv_epi *p, int batch,
                         struct cd_err *err)
{
    const char *name = fixed_name(g);
    if (!name)
        return cd_err_set(err, CD_EINVAL, "%s: no fixed-size depthwise "
                          "kernel for this shape", e->name);
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_int cpb = fixed_cpb(g, batch);
    /* wz: 0, an argument only so that the compiler cannot merge the
     * weight loads of different input rows (see kernels/conv_dw.cl) */
    const cl_int v[] = { g->cin, g->in[1], g->in[2], g->out[1], g->out[2],
                         g->p[1], g->p[2], cpb, 0, p->act };
    if (cd_cl_conv_set_io_ints(be, k, e, p, v, CD_CL_NARGS(v), name, err))
        return CD_EDEVICE;
    size_t gws[3] = { cdiv((size_t)g->out[1], DW_ROWS),
                      cdiv((size_t)g->cin, (size_t)cpb), (size_t)batch };
    /* one work-item per work-group: POCL compiles the kernel once for
     * every shape and batch */
    static const size_t lws[3] = { 1, 1, 1 };
    return cd_cl_enqueue(be, k, 3, gws, lws, name, err);
}

/* ---- large kernels ------------------------------------------------------ */

/* Large depthwise kernels (stride 1, dilation 1, KH and KW >= LK_MIN):
 * cd_conv_dwlk with a block of th output rows per work-group cached in
 * local memory. Fills th and the local size; false when the shape does not
 * suit it. */
#define LK_MIN 5
#define LK_ROWS 4 /* output rows per work-item in cd_conv_dwlk */
static bool large_plan(const struct cd_cl_backend *be,
                       const struct cd_cl_conv_geo *g, cl_int *th_out,
                       size_t *lws_out, size_t *lds_out)
{
    if (g->s[1] != 1 || g->s[2] != 1 || g->d[1] != 1 || g->d[2] != 1 ||
        g->k[1] < LK_MIN || g->k[2] < LK_MIN || g->out[1] < 4)
        return false;
    size_t ntx = cdiv((size_t)g->out[2], 32);
    cl_int th = 16;
    while (th > LK_ROWS && (size_t)(th / LK_ROWS) * ntx > be->max_wg)
        th -= LK_ROWS;
    if (th > 8 && g->out[1] <= 8)
        th = 8;
    size_t lc = ntx * 32 + (size_t)g->k[2] - 1, lr;
    for (;;) {
        lr = (size_t)th + (size_t)g->k[1] - 1;
        if (lr * lc * sizeof(float) <= be->local_mem || th == LK_ROWS)
            break;
        th -= LK_ROWS;
    }
    size_t lws = (size_t)(th / LK_ROWS) * ntx;
    if (lr * lc * sizeof(float) > be->local_mem || lws > be->max_wg)
        return false;
    *th_out = th;
    *lws_out = lws;
    *lds_out = lr * lc * sizeof(float);
    return true;
}

static int conv_dw_large(struct cd_cl_backend *be,
                         const struct cd_exec_node *e,
                         const struct cd_cl_conv_geo *g,
                         const struct cd_cl_conv_epi *p, int batch,
                         struct cd_err *err)
{
    cl_int th;
    size_t lws, lds;
    if (!large_plan(be, g, &th, &lws, &lds))
        return cd_err_set(err, CD_EINVAL, "%s: the large-kernel depthwise "
                          "kernel does not fit this shape", e->name);
    cl_kernel k = cd_cl_kernel(be, "cd_conv_dwlk", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_int ntx = (cl_int)cdiv((size_t)g->out[2], 32);
    const cl_int v[] = { g->cin, g->in[1], g->in[2], g->out[1], g->out[2],
                         g->k[1], g->k[2], g->p[1], g->p[2], th, ntx, p->act };
    const struct cd_cl_arg ab[] = { CD_CL_ARG(p->alpha), CD_CL_ARG(p->beta),
                                    { lds, NULL } };
    if (cd_cl_conv_set_io(be, k, e, p, "cd_conv_dwlk", err) ||
        cd_cl_set_int_args(k, 11, v, CD_CL_NARGS(v), "cd_conv_dwlk", err) ||
        cd_cl_set_args(k, 11 + CD_CL_NARGS(v), ab, CD_CL_NARGS(ab),
                       "cd_conv_dwlk", err))
        return CD_EDEVICE;
    size_t gws[3] = { lws * cdiv((size_t)g->out[1], (size_t)th),
                      (size_t)g->cout, (size_t)batch };
    size_t l3[3] = { lws, 1, 1 };
    return cd_cl_enqueue(be, k, 3, gws, l3, "cd_conv_dwlk", err);
}

/* ---- generic ------------------------------------------------------------ */

static int conv_dw_generic(struct cd_cl_backend *be,
                           const struct cd_exec_node *e,
                           const struct cd_cl_conv_geo *g,
                           const struct cd_cl_conv_epi *p, int batch,
                           struct cd_err *err)
{
    int vw = g->out[2] > 8 ? 16 : 8;
    const char *name = vw == 16 ? "cd_conv_dw16" : "cd_conv_dw8";
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    const cl_int v[] = { g->cin, g->in[1], g->in[2], g->out[1], g->out[2],
                         g->k[1], g->k[2], g->s[1], g->s[2], g->d[1], g->d[2],
                         g->p[1], g->p[2], p->act };
    if (cd_cl_conv_set_io_ints(be, k, e, p, v, CD_CL_NARGS(v), name, err))
        return CD_EDEVICE;
    size_t gws[3] = { cdiv((size_t)g->out[2], (size_t)vw) *
                          cdiv((size_t)g->out[1], 4),
                      (size_t)g->cout, (size_t)batch };
    return cd_cl_enqueue(be, k, 3, gws, NULL, name, err);
}

/* ---- selection ---------------------------------------------------------- */

static const char *const dw_names[CD_DW_VARIANT_COUNT] = {
    [CD_DW_AUTO] = "auto", [CD_DW_GENERIC] = "generic",
    [CD_DW_LARGE] = "large", [CD_DW_FIXED] = "fixed",
};

const char *cd_dw_variant_name(int v)
{
    return v >= 0 && v < CD_DW_VARIANT_COUNT ? dw_names[v] : "?";
}

bool cd_cl_conv_dw_variant_ok(const struct cd_cl_backend *be,
                              const struct cd_cl_conv_geo *g, int v)
{
    cl_int th;
    size_t lws, lds;
    if (!cd_cl_conv_is_depthwise(g))
        return false;
    switch (v) {
    case CD_DW_GENERIC:
        return true;
    case CD_DW_LARGE:
        return large_plan(be, g, &th, &lws, &lds);
    case CD_DW_FIXED:
        return fixed_name(g) != NULL;
    default:
        return false;
    }
}

int cd_cl_conv_dw_pick(const struct cd_cl_backend *be,
                       const struct cd_cl_conv_geo *g)
{
    if (be->dw_force != CD_DW_AUTO &&
        cd_cl_conv_dw_variant_ok(be, g, be->dw_force))
        return be->dw_force;
    /* stride 2 onto outputs one tile wide (14x14, 7x7) ran faster on the
     * generic kernel (bench_dw, b8 per CPU second: 3x3/s2 192x28x28 10.0
     * vs 7.5, 576x14x14 6.5 vs 6.1 GFLOP/s) */
    if (cd_cl_conv_dw_variant_ok(be, g, CD_DW_FIXED) &&
        !(g->s[2] == 2 && g->out[2] <= 16))
        return CD_DW_FIXED;
    if (cd_cl_conv_dw_variant_ok(be, g, CD_DW_LARGE))
        return CD_DW_LARGE;
    return CD_DW_GENERIC;
}

int cd_cl_conv_depthwise(struct cd_cl_backend *be,
                         const struct cd_exec_node *e,
                         const struct cd_cl_conv_geo *g,
                         const struct cd_cl_conv_epi *p, int batch,
                         struct cd_err *err)
{
    if (!cd_cl_conv_is_depthwise(g))
        return cd_err_set(err, CD_EINVAL, "%s: not a depthwise conv",
                          e->name);
    switch (cd_cl_conv_dw_pick(be, g)) {
    case CD_DW_FIXED:
        return conv_dw_fixed(be, e, g, p, batch, err);
    case CD_DW_LARGE:
        return conv_dw_large(be, e, g, p, batch, err);
    default:
        return conv_dw_generic(be, e, g, p, batch, err);
    }
}

void cd_cl_conv_dw_force(struct cd_cl_backend *be, int v)
{
    if (be)
        be->dw_force = v > CD_DW_AUTO && v < CD_DW_VARIANT_COUNT
                           ? v : CD_DW_AUTO;
}
