/* ops_cl_conv_winograd.c — host side of the Winograd F(4x4, 3x3)
 * convolution (kernels/winograd.cl) for 3x3, stride-1, dilation-1,
 * ungrouped 2-D layers: which shapes it accepts, the weight transform at
 * load, the scratch it needs (transformed input V and products M), and the
 * enqueue of its three per-run kernels. Which variant a layer uses is
 * decided in conv_select.c; no allocation, no blocking, never aborts. */
#include "ops_cl_conv.h"

#include "ops_cl_util.h"

#include <stdint.h>

#define WG_POINTS 36 /* 6x6 transform points */

/* Per Winograd variant: tiles (vectors of 16) and output channels per GEMM
 * work-item. */
struct wg_info {
    int nt, nk;
    const char *gemm;
};

static const struct wg_info *wg_of(int v)
{
    static const struct wg_info w16 = { 1, 16, "cd_wino_gemm16x16" },
                                w32 = { 2, 8, "cd_wino_gemm32x8" };
    switch (v) {
    case CD_CONV_WINO16X16: return &w16;
    case CD_CONV_WINO32X8: return &w32;
    default: return NULL;
    }
}

static size_t cdiv(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

bool cd_cl_conv_variant_wino(int v)
{
    return wg_of(v) != NULL;
}

bool cd_cl_conv_wino_ok(const struct cd_cl_conv_geo *g)
{
    return g->nsp == 2 && g->groups == 1 && g->k[1] == 3 && g->k[2] == 3 &&
           g->s[1] == 1 && g->s[2] == 1 && g->d[1] == 1 && g->d[2] == 1;
}

/* Tile and channel-block counts of g at `batch` samples for variant w. */
struct wg_dims {
    size_t ntx, nty, T, Tg, Tv, nkb;
};

static struct wg_dims wg_dims(const struct cd_cl_conv_geo *g,
                              const struct wg_info *w, int batch)
{
    struct wg_dims d;
    d.ntx = cdiv((size_t)g->out[2], 4);
    d.nty = cdiv((size_t)g->out[1], 4);
    d.T = (size_t)batch * d.ntx * d.nty;
    /* the GEMM's tiles; a 16-tile vector starting at any tile stays
     * inside Tv */
    d.Tg = cdiv(d.T, 16 * (size_t)w->nt) * 16 * (size_t)w->nt;
    d.Tv = d.T + 16 > d.Tg ? cdiv(d.T + 16, 16) * 16 : d.Tg;
    d.nkb = cdiv((size_t)g->cout, 16);
    return d;
}

size_t cd_cl_conv_wino_weight_floats(const struct cd_cl_conv_geo *g)
{
    return (size_t)WG_POINTS * cdiv((size_t)g->cout, 16) * 16 *
           (size_t)g->cin;
}

int cd_cl_conv_wino_pack(struct cd_cl_backend *be,
                         const struct cd_exec_node *e,
                         const struct cd_cl_conv_geo *g, cl_mem u,
                         struct cd_err *err)
{
    if (!cd_cl_conv_wino_ok(g))
        return cd_err_set(err, CD_EINVAL, "%s: not a 3x3 stride-1 conv",
                          e->name);
    if (cd_cl_conv_wino_weight_floats(g) > INT32_MAX)
        return cd_err_set(err, CD_ERANGE, "%s: Winograd weights too large",
                          e->name);
    cl_kernel k = cd_cl_kernel(be, "cd_wino_wt", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong w_off = e->w[0].off;
    cl_int nkb = (cl_int)cdiv((size_t)g->cout, 16);
    const struct cd_cl_arg io[] = { CD_CL_ARG(be->wpool), CD_CL_ARG(w_off),
                                    CD_CL_ARG(u) };
    const cl_int iv[] = { g->cout, g->cin, nkb };
    if (cd_cl_set_args(k, 0, io, CD_CL_NARGS(io), "cd_wino_wt", err) ||
        cd_cl_set_int_args(k, 3, iv, CD_CL_NARGS(iv), "cd_wino_wt", err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)nkb * 16, (size_t)g->cin };
    return cd_cl_enqueue(be, k, 2, gws, NULL, "cd_wino_wt", err);
}

/* Floats from one point's V or M block (n floats) to the next: the
 * kernels' WG_PSTRIDE (4 KB multiple + one cache line). */
static size_t pstride(size_t n)
{
    return ((n + 1023) & ~(size_t)1023) + 16;
}

static size_t scratch_of(const struct cd_cl_conv_geo *g,
                         const struct wg_info *w, int batch)
{
    struct wg_dims d = wg_dims(g, w, batch);
    return (size_t)WG_POINTS * (pstride(d.Tv * (size_t)g->cin) +
                                pstride(d.Tv * d.nkb * 16));
}

/* Samples per pass: V and M of a whole batch of large maps are tens of MB,
 * written and read back through memory (b8 ran each kernel 13-25x slower
 * than b1), so large maps go through in chunks whose scratch stays in
 * cache; unless U outweighs them (deep, narrow layers), as U is read once
 * per pass. */
#define WG_CHUNK_FLOATS ((size_t)1 << 20) /* 4 MB of V and M */
static int chunk_of(const struct cd_cl_conv_geo *g, const struct wg_info *w,
                    int batch)
{
    size_t one = scratch_of(g, w, 1);
    if (2 * cd_cl_conv_wino_weight_floats(g) > scratch_of(g, w, batch))
        return batch;
    size_t nb = WG_CHUNK_FLOATS / one;
    return nb < 1 ? 1 : nb > (size_t)batch ? batch : (int)nb;
}

size_t cd_cl_conv_wino_scratch_floats(const struct cd_cl_conv_geo *g, int v,
                                      int batch)
{
    const struct wg_info *w = wg_of(v);
    if (!w || batch < 1 || !cd_cl_conv_wino_ok(g))
        return 0;
    return scratch_of(g, w, chunk_of(g, w, batch));
}

static int enqueue_in(struct cd_cl_backend *be, const struct cd_cl_conv_geo *g,
                      const struct wg_dims *d, cl_ulong in_off,
                      cl_mem scratch, int batch, struct cd_err *err)
{
    const char *name = "cd_wino_in";
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    const struct cd_cl_arg io[] = { CD_CL_ARG(be->arena), CD_CL_ARG(in_off),
                                    CD_CL_ARG(scratch) };
    const cl_int iv[] = { g->cin, g->in[1], g->in[2], g->p[1], g->p[2],
                          (cl_int)d->ntx, (cl_int)d->nty, (cl_int)d->Tv };
    if (cd_cl_set_args(k, 0, io, CD_CL_NARGS(io), name, err) ||
        cd_cl_set_int_args(k, 3, iv, CD_CL_NARGS(iv), name, err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)g->cin, (size_t)batch };
    static const size_t lws[2] = { 1, 1 };
    return cd_cl_enqueue(be, k, 2, gws, lws, name, err);
}

static int enqueue_gemm(struct cd_cl_backend *be,
                        const struct cd_cl_conv_geo *g,
                        const struct wg_info *w, const struct wg_dims *d,
                        cl_mem u, cl_mem scratch, cl_ulong m_off,
                        struct cd_err *err)
{
    cl_kernel k = cd_cl_kernel(be, w->gemm, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    const struct cd_cl_arg io[] = { CD_CL_ARG(scratch), CD_CL_ARG(u),
                                    CD_CL_ARG(scratch), CD_CL_ARG(m_off) };
    /* stream the smaller of U[xi] and V[xi] once per block of the other */
    cl_int kfast = d->nkb * 16 <= d->Tg;
    const cl_int iv[] = { g->cin, (cl_int)d->Tv, (cl_int)d->Tg,
                          (cl_int)d->nkb, kfast };
    if (cd_cl_set_args(k, 0, io, CD_CL_NARGS(io), w->gemm, err) ||
        cd_cl_set_int_args(k, 4, iv, CD_CL_NARGS(iv), w->gemm, err))
        return CD_EDEVICE;
    /* one work-item per work-group, as the packed direct kernels: one
     * compiled kernel whatever the shape and batch */
    size_t nk = d->nkb * 16 / (size_t)w->nk, nt = d->Tg / (16 * (size_t)w->nt);
    size_t gws[3] = { kfast ? nk : nt, kfast ? nt : nk, WG_POINTS };
    static const size_t lws[3] = { 1, 1, 1 };
    return cd_cl_enqueue(be, k, 3, gws, lws, w->gemm, err);
}

static int enqueue_out(struct cd_cl_backend *be,
                       const struct cd_cl_conv_geo *g,
                       const struct cd_cl_conv_epi *p,
                       const struct wg_dims *d, cl_mem scratch,
                       cl_ulong m_off, cl_ulong out_off, cl_ulong res_off,
                       int batch, struct cd_err *err)
{
    const char *name = "cd_wino_out";
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    const struct cd_cl_arg io[] = {
        CD_CL_ARG(scratch), CD_CL_ARG(m_off), CD_CL_ARG(be->wpool),
        CD_CL_ARG(p->b_off), CD_CL_ARG(p->has_bias), CD_CL_ARG(be->arena),
        CD_CL_ARG(res_off), CD_CL_ARG(p->has_res), CD_CL_ARG(be->arena),
        CD_CL_ARG(out_off),
    };
    const cl_int iv[] = { g->cout, g->out[1], g->out[2], (cl_int)d->ntx,
                          (cl_int)d->nty, (cl_int)d->Tv,
                          (cl_int)(d->nkb * 16), p->act };
    const struct cd_cl_arg ab[] = { CD_CL_ARG(p->alpha), CD_CL_ARG(p->beta) };
    cl_uint na = (cl_uint)CD_CL_NARGS(io), ni = (cl_uint)CD_CL_NARGS(iv);
    if (cd_cl_set_args(k, 0, io, CD_CL_NARGS(io), name, err) ||
        cd_cl_set_int_args(k, na, iv, CD_CL_NARGS(iv), name, err) ||
        cd_cl_set_args(k, na + ni, ab, CD_CL_NARGS(ab), name, err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)g->cout, (size_t)batch };
    static const size_t lws[2] = { 1, 1 };
    return cd_cl_enqueue(be, k, 2, gws, lws, name, err);
}

int cd_cl_conv_wino_run(struct cd_cl_backend *be,
                        const struct cd_exec_node *e,
                        const struct cd_cl_conv_geo *g,
                        const struct cd_cl_conv_epi *p, int v,
                        const struct cd_cl_conv_bufs *bufs, int batch,
                        struct cd_err *err)
{
    const struct wg_info *w = wg_of(v);
    if (!w || !cd_cl_conv_wino_ok(g))
        return cd_err_set(err, CD_EINVAL, "%s: conv variant %s does not fit "
                          "this shape", e->name, cd_conv_variant_name(v));
    size_t need = cd_cl_conv_wino_scratch_floats(g, v, batch);
    if (!bufs || !bufs->wpk || !bufs->pad || bufs->pad_floats < need)
        return cd_err_set(err, CD_EINVAL, "%s: no Winograd weights or "
                          "scratch for conv variant %s", e->name,
                          cd_conv_variant_name(v));
    int nb = chunk_of(g, w, batch);
    struct wg_dims d = wg_dims(g, w, nb);
    /* the kernels count tiles with 32-bit ints */
    if (d.Tv > INT32_MAX / 2)
        return cd_err_set(err, CD_ERANGE, "%s: too many Winograd tiles",
                          e->name);
    cl_ulong m_off = (cl_ulong)WG_POINTS * pstride(d.Tv * (size_t)g->cin);
    cl_ulong in_n = (cl_ulong)g->cin * g->in[1] * g->in[2],
             out_n = (cl_ulong)g->cout * g->out[1] * g->out[2];
    int rc = CD_OK;
    for (int s0 = 0; s0 < batch && rc == CD_OK; s0 += nb) {
        int n = batch - s0 < nb ? batch - s0 : nb;
        if (n < nb)
            d = wg_dims(g, w, n);
        cl_ulong in_off = e->in[0].off + (cl_ulong)s0 * in_n,
                 out_off = e->out.off + (cl_ulong)s0 * out_n,
                 res_off = p->res_off + (cl_ulong)s0 * out_n;
        if (!(rc = enqueue_in(be, g, &d, in_off, bufs->pad, n, err)) &&
            !(rc = enqueue_gemm(be, g, w, &d, bufs->wpk, bufs->pad, m_off,
                                err)))
            rc = enqueue_out(be, g, p, &d, bufs->pad, m_off, out_off,
                             res_off, n, err);
    }
    return rc;
}
