/* ops_ref_dense.c — C references of the arithmetic-heavy ops: conv (1-3 D,
 * groups, dilation, stride, asymmetric padding, fused epilogue), linear,
 * matmul, batchnorm (fused activation, batch strides) and layernorm. Plain loops with double accumulators: they
 * define what the kernels must compute, they are not meant to be fast. They
 * trust shapes already checked by the shape functions (the ref backend
 * re-checks every node before calling them) and must not allocate. */
#include "ops_ref.h"
#include "ops_ref_util.h"

#include <math.h>

static int64_t numel(const struct cd_tref *t)
{
    return cd_shape_numel(&t->shape);
}

/* out = act(v + residual) with the node's epilogue. */
static float epilogue(const struct cd_attrs *a, double v, const float *res,
                      int64_t i)
{
    float f = (float)v;
    if (res)
        f += res[i];
    return cd_act_apply((enum cd_act)a->act, f, a->act_alpha, a->act_beta);
}

/* Spatial geometry of a conv or pool, padded to 3 dims (D, H, W) with 1s. */
struct geom3 {
    int64_t in[3], out[3], k[3];
    int s[3], d[3], p[3];
};

static void conv_geom(const struct cd_exec_node *e, struct geom3 *g)
{
    const struct cd_shape *xs = &e->in[0].shape, *ws = &e->w[0].shape;
    int nsp = xs->ndim - 2;
    for (int j = 0; j < 3; j++) {
        int i = j - (3 - nsp);
        g->in[j] = i < 0 ? 1 : xs->dim[2 + i];
        g->out[j] = i < 0 ? 1 : e->out.shape.dim[2 + i];
        g->k[j] = i < 0 ? 1 : ws->dim[2 + i];
        g->s[j] = i < 0 ? 1 : e->a->stride[i];
        g->d[j] = i < 0 ? 1 : e->a->dilation[i];
        g->p[j] = i < 0 ? 0 : e->a->pad_begin[i];
    }
}

CD_REF_FN(conv)
{
    const struct cd_attrs *a = e->a;
    struct geom3 g;
    conv_geom(e, &g);
    int64_t cin = e->in[0].shape.dim[1], cout = e->out.shape.dim[1];
    int64_t grp = a->groups, cin_g = cin / grp, cout_g = cout / grp;
    int64_t in_sp = g.in[0] * g.in[1] * g.in[2];
    int64_t k_sp = g.k[0] * g.k[1] * g.k[2];
    int64_t out_sp = g.out[0] * g.out[1] * g.out[2];
    int64_t xn = numel(&e->in[0]), on = numel(&e->out);
    const float *wt = wpool + e->w[0].off;
    const float *bias = e->has_w[1] ? wpool + e->w[1].off : NULL;

    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * xn;
        float *y = arena + e->out.off + b * on;
        const float *res = a->residual ? arena + e->in[1].off + b * on : NULL;
        for (int64_t oc = 0; oc < cout; oc++) {
            const float *x_g = x + (oc / cout_g) * cin_g * in_sp;
            const float *w_oc = wt + oc * cin_g * k_sp;
            double bv = bias ? bias[oc] : 0.0;
            for (int64_t oz = 0; oz < g.out[0]; oz++)
            for (int64_t oy = 0; oy < g.out[1]; oy++)
            for (int64_t ox = 0; ox < g.out[2]; ox++) {
                int64_t z0 = oz * g.s[0] - g.p[0], y0 = oy * g.s[1] - g.p[1];
                int64_t x0 = ox * g.s[2] - g.p[2];
                double acc = 0.0;
                for (int64_t ic = 0; ic < cin_g; ic++) {
                    const float *xc = x_g + ic * in_sp;
                    const float *wc = w_oc + ic * k_sp;
                    for (int64_t kz = 0; kz < g.k[0]; kz++) {
                        int64_t iz = z0 + kz * g.d[0];
                        if (iz < 0 || iz >= g.in[0])
                            continue;
                        for (int64_t ky = 0; ky < g.k[1]; ky++) {
                            int64_t iy = y0 + ky * g.d[1];
                            if (iy < 0 || iy >= g.in[1])
                                continue;
                            const float *xr = xc + (iz * g.in[1] + iy) * g.in[2];
                            const float *wr = wc + (kz * g.k[1] + ky) * g.k[2];
                            for (int64_t kx = 0; kx < g.k[2]; kx++) {
                                int64_t ix = x0 + kx * g.d[2];
                                if (ix >= 0 && ix < g.in[2])
                                    acc += (double)xr[ix] * wr[kx];
                            }
                        }
                    }
                }
                int64_t oi = oc * out_sp + (oz * g.out[1] + oy) * g.out[2] + ox;
                y[oi] = epilogue(a, acc + bv, res, oi);
            }
        }
    }
    return CD_OK;
}

CD_REF_FN(linear)
{
    const struct cd_attrs *a = e->a;
    int64_t nin = e->w[0].shape.dim[1], nout = e->w[0].shape.dim[0];
    int64_t xn = numel(&e->in[0]), on = numel(&e->out), rows = xn / nin;
    const float *wt = wpool + e->w[0].off;
    const float *bias = e->has_w[1] ? wpool + e->w[1].off : NULL;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * xn;
        float *y = arena + e->out.off + b * on;
        const float *res = a->residual ? arena + e->in[1].off + b * on : NULL;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < nout; o++) {
                double acc = bias ? bias[o] : 0.0;
                for (int64_t k = 0; k < nin; k++)
                    acc += (double)x[r * nin + k] * wt[o * nin + k];
                y[r * nout + o] = epilogue(a, acc, res, r * nout + o);
            }
    }
    return CD_OK;
}

CD_REF_FN(matmul)
{
    const struct cd_shape *as = &e->in[0].shape, *bs = &e->in[1].shape;
    int r = as->ndim;
    int64_t m = as->dim[r - 2], k = as->dim[r - 1], n = bs->dim[r - 1];
    int64_t an = numel(&e->in[0]), bn = numel(&e->in[1]), on = numel(&e->out);
    int64_t mats = an / (m * k);
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * an;
        const float *w = arena + e->in[1].off + b * bn;
        float *y = arena + e->out.off + b * on;
        for (int64_t t = 0; t < mats; t++)
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) {
                    double acc = 0.0;
                    for (int64_t q = 0; q < k; q++)
                        acc += (double)x[t * m * k + i * k + q] *
                               w[t * k * n + q * n + j];
                    y[t * m * n + i * n + j] = (float)acc;
                }
    }
    return CD_OK;
}

CD_REF_FN(batchnorm)
{
    const struct cd_shape *xs = &e->in[0].shape;
    int64_t c = xs->dim[1], xn = numel(&e->in[0]), inner = xn / c;
    const float *wt = wpool + e->w[0].off, *bias = wpool + e->w[1].off;
    const float *mean = wpool + e->w[2].off, *var = wpool + e->w[3].off;
    size_t xs_b = cd_tref_bstride(&e->in[0]), ys_b = cd_tref_bstride(&e->out);
    const struct cd_attrs *a = e->a;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * xs_b;
        float *y = arena + e->out.off + b * ys_b;
        for (int64_t ch = 0; ch < c; ch++) {
            double inv = 1.0 / sqrt((double)var[ch] + (double)a->eps);
            for (int64_t i = 0; i < inner; i++) {
                int64_t idx = ch * inner + i;
                float v = (float)(((double)x[idx] - mean[ch]) * inv * wt[ch] +
                                  bias[ch]);
                y[idx] = cd_act_apply((enum cd_act)a->act, v, a->act_alpha,
                                      a->act_beta);
            }
        }
    }
    return CD_OK;
}

CD_REF_FN(layernorm)
{
    /* element (o, ch, i) at (o * c + ch) * inner + i */
    int64_t outer, c, inner, xn = numel(&e->in[0]);
    cd_ref_axis_view(&e->in[0].shape, e->a->axis, &outer, &c, &inner);
    const float *wt = e->has_w[0] ? wpool + e->w[0].off : NULL;
    const float *bias = e->has_w[1] ? wpool + e->w[1].off : NULL;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * xn;
        float *y = arena + e->out.off + b * xn;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                const float *xp = x + o * c * inner + i;
                float *yp = y + o * c * inner + i;
                double sum = 0.0, sq = 0.0;
                for (int64_t ch = 0; ch < c; ch++)
                    sum += xp[ch * inner];
                double mu = sum / (double)c;
                for (int64_t ch = 0; ch < c; ch++) {
                    double dv = xp[ch * inner] - mu;
                    sq += dv * dv;
                }
                double inv = 1.0 / sqrt(sq / (double)c + (double)e->a->eps);
                for (int64_t ch = 0; ch < c; ch++) {
                    double v = (xp[ch * inner] - mu) * inv;
                    if (wt)
                        v *= wt[ch];
                    if (bias)
                        v += bias[ch];
                    yp[ch * inner] = (float)v;
                }
            }
    }
    return CD_OK;
}
