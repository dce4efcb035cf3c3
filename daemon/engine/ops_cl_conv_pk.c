/* ops_cl_conv_pk.c — host side of the packed-weight convolution kernels
 * (kernels/conv_pk.cl): which shapes each variant accepts, the packing of a
 * layer's weights into 16-channel blocks, and the enqueue of a variant.
 * Which variant a layer uses is decided in conv_select.c, not here; no
 * allocation, no blocking, never aborts. */
#include "ops_cl_conv.h"

#include "ops_cl_util.h"

#include <stdint.h>

/* Per packed variant: positions per work-item, vectors of 16 channels, and
 * the kernel for stride 1 and 2 (NULL: no such kernel). */
struct pk_info {
    int p, nv;
    const char *k1, *k2;
};

static const struct pk_info pk_table[CD_CONV_VARIANT_COUNT] = {
    [CD_CONV_PK14X2] = { 14, 2, "cd_conv_pk14x2_s1", "cd_conv_pk14x2_s2" },
    [CD_CONV_PK7X4] = { 7, 4, "cd_conv_pk7x4_s1", "cd_conv_pk7x4_s2" },
    [CD_CONV_PK8X3] = { 8, 3, "cd_conv_pk8x3_s1", "cd_conv_pk8x3_s2" },
    [CD_CONV_PK16X1] = { 16, 1, "cd_conv_pk16x1_s1", NULL },
    [CD_CONV_PK12X2] = { 12, 2, "cd_conv_pk12x2_s1", NULL },
};

#define PK_NV_MAX 4 /* largest NV in pk_table */

static size_t cdiv(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

bool cd_cl_conv_variant_packed(int v)
{
    return v >= 0 && v < CD_CONV_VARIANT_COUNT && pk_table[v].p > 0;
}

/* The packed kernels see a pointwise conv as one row of all positions. */
static void pk_dims(const struct cd_cl_conv_geo *g, int *h, int *w, int *oh,
                    int *ow)
{
    if (cd_cl_conv_pointwise(g)) {
        *h = *oh = 1;
        *w = *ow = g->out[0] * g->out[1] * g->out[2];
    } else {
        *h = g->in[1];
        *w = g->in[2];
        *oh = g->out[1];
        *ow = g->out[2];
    }
}

bool cd_cl_conv_variant_ok(const struct cd_cl_conv_geo *g, int v)
{
    bool pw = cd_cl_conv_pointwise(g);
    if (cd_cl_conv_variant_wino(v))
        return cd_cl_conv_wino_ok(g);
    if (v == CD_CONV_GEMM || v == CD_CONV_GEMM32)
        return pw;
    if (v == CD_CONV_TILE)
        return g->nsp <= 2;
    if (!cd_cl_conv_variant_packed(v))
        return false;
    if (pw)
        return true;
    if (g->nsp > 2)
        return false;
    /* one stride along both axes (a 1-D conv has no stride along h) */
    int s = g->s[2];
    if (g->nsp == 2 && g->s[1] != s)
        return false;
    return s == 1 ? pk_table[v].k1 != NULL
                  : s == 2 && pk_table[v].k2 != NULL;
}

size_t cd_cl_conv_packed_floats(const struct cd_cl_conv_geo *g)
{
    size_t cog = (size_t)(g->cout / g->groups), cig = (size_t)(g->cin /
                                                              g->groups);
    size_t kk = (size_t)g->k[0] * g->k[1] * g->k[2];
    /* + zero blocks for the widest tile's overhang (NV up to PK_NV_MAX) */
    return ((size_t)g->groups * cdiv(cog, 16) + PK_NV_MAX - 1) * cig * kk *
           16;
}

int cd_cl_conv_pack(struct cd_cl_backend *be, const struct cd_exec_node *e,
                    const struct cd_cl_conv_geo *g, cl_mem wpk,
                    struct cd_err *err)
{
    size_t n = cd_cl_conv_packed_floats(g);
    if (n > INT32_MAX)
        return cd_err_set(err, CD_ERANGE, "%s: packed weights too large",
                          e->name);
    cl_kernel k = cd_cl_kernel(be, "cd_conv_pack16", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong w_off = e->w[0].off;
    cl_int cog = g->cout / g->groups, cig = g->cin / g->groups,
           kk = g->k[0] * g->k[1] * g->k[2], ncb = (cog + 15) / 16,
           groups = g->groups, tail = (PK_NV_MAX - 1) * cig * kk * 16;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->wpool), CD_CL_ARG(w_off), CD_CL_ARG(wpk),
        CD_CL_ARG(cog), CD_CL_ARG(cig), CD_CL_ARG(kk), CD_CL_ARG(ncb),
        CD_CL_ARG(groups), CD_CL_ARG(tail),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_conv_pack16", err))
        return CD_EDEVICE;
    size_t gws[1] = { n };
    return cd_cl_enqueue(be, k, 1, gws, NULL, "cd_conv_pack16", err);
}

/* Padded input geometry for variant v: rows/columns the conv reads when
 * every tile (tails included) runs its interior path. */
static bool pad_dims(const struct cd_cl_conv_geo *g, int v, int *hp, int *wp)
{
    if (!cd_cl_conv_variant_packed(v) || cd_cl_conv_pointwise(g) ||
        (g->p[1] == 0 && g->p[2] == 0))
        return false;
    int s = g->s[2], P = pk_table[v].p;
    int ow_t = (int)cdiv((size_t)g->out[2], (size_t)P) * P;
    *hp = (g->out[1] - 1) * s + (g->k[1] - 1) * g->d[1] + 1;
    *wp = (ow_t - 1) * s + (g->k[2] - 1) * g->d[2] + 1;
    return true;
}

size_t cd_cl_conv_pad_floats(const struct cd_cl_conv_geo *g, int v,
                             int batch)
{
    int hp, wp;
    if (batch < 1 || !pad_dims(g, v, &hp, &wp))
        return 0;
    return (size_t)batch * (size_t)g->cin * (size_t)hp * (size_t)wp;
}

static int enqueue_pad(struct cd_cl_backend *be, const struct cd_exec_node *e,
                       const struct cd_cl_conv_geo *g, cl_mem pad, int hp,
                       int wp, int batch, struct cd_err *err)
{
    cl_kernel k = cd_cl_kernel(be, "cd_conv_pad2d", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong in_off = e->in[0].off;
    const struct cd_cl_arg io[] = { CD_CL_ARG(be->arena), CD_CL_ARG(in_off),
                                    CD_CL_ARG(pad) };
    const cl_int iv[] = { g->cin, g->in[1], g->in[2], hp, wp, g->p[1],
                          g->p[2] };
    if (cd_cl_set_args(k, 0, io, CD_CL_NARGS(io), "cd_conv_pad2d", err) ||
        cd_cl_set_int_args(k, 3, iv, CD_CL_NARGS(iv), "cd_conv_pad2d", err))
        return CD_EDEVICE;
    size_t gws[3] = { (size_t)hp, (size_t)g->cin, (size_t)batch };
    static const size_t lws[3] = { 1, 1, 1 };
    return cd_cl_enqueue(be, k, 3, gws, lws, "cd_conv_pad2d", err);
}

int cd_cl_conv_pk_run(struct cd_cl_backend *be, const struct cd_exec_node *e,
                      const struct cd_cl_conv_geo *g,
                      const struct cd_cl_conv_epi *p, int v,
                      const struct cd_cl_conv_bufs *bufs, int batch,
                      struct cd_err *err)
{
    if (!cd_cl_conv_variant_packed(v) || !bufs || !bufs->wpk)
        return cd_err_set(err, CD_EINVAL, "%s: no packed weights for conv "
                          "variant %s", e->name, cd_conv_variant_name(v));
    const struct pk_info *pi = &pk_table[v];
    bool pw = cd_cl_conv_pointwise(g);
    const char *name = pw || g->s[2] == 1 ? pi->k1 : pi->k2;
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    int h, w, oh, ow, py = g->p[1], px = g->p[2], rc;
    pk_dims(g, &h, &w, &oh, &ow);
    cl_mem src = be->arena;
    cl_ulong in_off = e->in[0].off, out_off = e->out.off;
    size_t need = cd_cl_conv_pad_floats(g, v, batch);
    if (need && bufs->pad && bufs->pad_floats >= need &&
        pad_dims(g, v, &h, &w)) {
        /* the zero-padded copy: no border tests in the conv */
        if ((rc = enqueue_pad(be, e, g, bufs->pad, h, w, batch, err)))
            return rc;
        src = bufs->pad;
        in_off = 0;
        py = px = 0;
    }
    const struct cd_cl_arg io[] = {
        CD_CL_ARG(src), CD_CL_ARG(in_off), CD_CL_ARG(bufs->wpk),
        CD_CL_ARG(be->wpool), CD_CL_ARG(p->b_off), CD_CL_ARG(p->has_bias),
        CD_CL_ARG(be->arena), CD_CL_ARG(p->res_off), CD_CL_ARG(p->has_res),
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off),
    };
    const cl_int iv[] = { g->cin, h, w, g->cout, oh, ow,
                          pw ? 1 : g->k[1], pw ? 1 : g->k[2],
                          g->d[1], g->d[2], py, px, g->groups,
                          p->act };
    const struct cd_cl_arg ab[] = { CD_CL_ARG(p->alpha), CD_CL_ARG(p->beta) };
    cl_uint na = (cl_uint)CD_CL_NARGS(io), ni = (cl_uint)CD_CL_NARGS(iv);
    if (cd_cl_set_args(k, 0, io, CD_CL_NARGS(io), name, err) ||
        cd_cl_set_int_args(k, na, iv, CD_CL_NARGS(iv), name, err) ||
        cd_cl_set_args(k, na + ni, ab, CD_CL_NARGS(ab), name, err))
        return CD_EDEVICE;
    size_t cog = (size_t)(g->cout / g->groups);
    size_t gws[3] = { cdiv((size_t)ow, (size_t)pi->p) * (size_t)oh,
                      (size_t)g->groups * cdiv(cdiv(cog, 16), (size_t)pi->nv),
                      (size_t)batch };
    /* one work-item per work-group: each is thousands of FMAs, and a fixed
     * local size means one compiled kernel per variant, whatever the shape
     * and batch (POCL compiles per local size) */
    static const size_t lws[3] = { 1, 1, 1 };
    return cd_cl_enqueue(be, k, 3, gws, lws, name, err);
}
