/* ops_ref_pool.c — C references of the spatial resampling ops: max/avg pool
 * (PyTorch padding, ceil_mode and divisor rules), adaptive and global average
 * pool, nearest/bilinear upsample (F.interpolate index arithmetic, in float
 * as PyTorch's CPU kernels do). They trust shapes already checked by the
 * shape functions (the ref backend re-checks every node); no allocation. */
#include "ops_ref.h"

#include <math.h>

static int64_t numel(const struct cd_tref *t)
{
    return cd_shape_numel(&t->shape);
}

/* Input/output spatial sizes padded to 3 dims (D, H, W) with leading 1s. */
static void sizes3(const struct cd_shape *xs, const struct cd_shape *os,
                   int64_t *in, int64_t *out)
{
    int nsp = xs->ndim - 2;
    for (int j = 0; j < 3; j++) {
        int i = j - (3 - nsp);
        in[j] = i < 0 ? 1 : xs->dim[2 + i];
        out[j] = i < 0 ? 1 : os->dim[2 + i];
    }
}

/* Pool window of output o along one dim (PyTorch avg_pool rules): [lo, hi)
 * clipped to the real input, and the unclipped-by-input size used as the
 * divisor when count_include_pad. */
struct win {
    int64_t lo, hi, padded;
};

static struct win avg_win(int64_t o, int64_t in, int k, int s, int pb, int pe)
{
    int64_t lo = o * s - pb, hi = lo + k;
    if (hi > in + pe)
        hi = in + pe;
    struct win w = { lo, hi, hi - lo };
    if (w.lo < 0)
        w.lo = 0;
    if (w.hi > in)
        w.hi = in;
    return w;
}

CD_REF_FN(pool)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *xs = &e->in[0].shape;
    int nsp = xs->ndim - 2;
    int64_t in[3], out[3];
    int k[3], s[3], d[3], pb[3], pe[3];
    sizes3(xs, &e->out.shape, in, out);
    for (int j = 0; j < 3; j++) {
        int i = j - (3 - nsp);
        k[j] = i < 0 ? 1 : a->kernel[i];
        s[j] = i < 0 ? 1 : a->stride[i];
        d[j] = i < 0 ? 1 : a->dilation[i];
        pb[j] = i < 0 ? 0 : a->pad_begin[i];
        pe[j] = i < 0 ? 0 : a->pad_end[i];
    }
    bool is_max = e->op == CD_OP_MAXPOOL;
    int64_t planes = xs->dim[1] * (int64_t)batch;
    int64_t in_sp = in[0] * in[1] * in[2], out_sp = out[0] * out[1] * out[2];
    /* samples are contiguous, so (batch, C) flattens into planes */
    const float *x = arena + e->in[0].off;
    float *y = arena + e->out.off;
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * in_sp;
        float *yp = y + p * out_sp;
        for (int64_t oz = 0; oz < out[0]; oz++)
        for (int64_t oy = 0; oy < out[1]; oy++)
        for (int64_t ox = 0; ox < out[2]; ox++) {
            float v;
            if (is_max) {
                float mx = -INFINITY;
                for (int kz = 0; kz < k[0]; kz++) {
                    int64_t iz = oz * s[0] - pb[0] + (int64_t)kz * d[0];
                    if (iz < 0 || iz >= in[0])
                        continue;
                    for (int ky = 0; ky < k[1]; ky++) {
                        int64_t iy = oy * s[1] - pb[1] + (int64_t)ky * d[1];
                        if (iy < 0 || iy >= in[1])
                            continue;
                        for (int kx = 0; kx < k[2]; kx++) {
                            int64_t ix = ox * s[2] - pb[2] + (int64_t)kx * d[2];
                            if (ix < 0 || ix >= in[2])
                                continue;
                            float t = xp[(iz * in[1] + iy) * in[2] + ix];
                            if (t > mx || isnan(t))
                                mx = t;
                        }
                    }
                }
                v = mx;
            } else {
                struct win wz = avg_win(oz, in[0], k[0], s[0], pb[0], pe[0]);
                struct win wy = avg_win(oy, in[1], k[1], s[1], pb[1], pe[1]);
                struct win wx = avg_win(ox, in[2], k[2], s[2], pb[2], pe[2]);
                double sum = 0.0;
                for (int64_t iz = wz.lo; iz < wz.hi; iz++)
                    for (int64_t iy = wy.lo; iy < wy.hi; iy++)
                        for (int64_t ix = wx.lo; ix < wx.hi; ix++)
                            sum += xp[(iz * in[1] + iy) * in[2] + ix];
                int64_t div = a->count_include_pad
                                  ? wz.padded * wy.padded * wx.padded
                                  : (wz.hi - wz.lo) * (wy.hi - wy.lo) *
                                        (wx.hi - wx.lo);
                v = div > 0 ? (float)(sum / (double)div) : 0.0f;
            }
            yp[(oz * out[1] + oy) * out[2] + ox] = v;
        }
    }
    return CD_OK;
}

CD_REF_FN(adaptive_pool)
{
    int64_t in[3], out[3];
    sizes3(&e->in[0].shape, &e->out.shape, in, out);
    int64_t planes = e->in[0].shape.dim[1] * (int64_t)batch;
    int64_t in_sp = in[0] * in[1] * in[2], out_sp = out[0] * out[1] * out[2];
    const float *x = arena + e->in[0].off;
    float *y = arena + e->out.off;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t oz = 0; oz < out[0]; oz++)
        for (int64_t oy = 0; oy < out[1]; oy++)
        for (int64_t ox = 0; ox < out[2]; ox++) {
            /* start = floor(i * in / out), end = ceil((i + 1) * in / out) */
            int64_t z0 = oz * in[0] / out[0];
            int64_t z1 = ((oz + 1) * in[0] + out[0] - 1) / out[0];
            int64_t y0 = oy * in[1] / out[1];
            int64_t y1 = ((oy + 1) * in[1] + out[1] - 1) / out[1];
            int64_t x0 = ox * in[2] / out[2];
            int64_t x1 = ((ox + 1) * in[2] + out[2] - 1) / out[2];
            double sum = 0.0;
            for (int64_t iz = z0; iz < z1; iz++)
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++)
                        sum += x[p * in_sp + (iz * in[1] + iy) * in[2] + ix];
            y[p * out_sp + (oz * out[1] + oy) * out[2] + ox] =
                (float)(sum / (double)((z1 - z0) * (y1 - y0) * (x1 - x0)));
        }
    return CD_OK;
}

CD_REF_FN(global_pool)
{
    int64_t planes = e->in[0].shape.dim[1] * (int64_t)batch;
    int64_t sp = numel(&e->in[0]) / e->in[0].shape.dim[1];
    const float *x = arena + e->in[0].off;
    float *y = arena + e->out.off;
    for (int64_t p = 0; p < planes; p++) {
        double sum = 0.0;
        for (int64_t i = 0; i < sp; i++)
            sum += x[p * sp + i];
        y[p] = (float)(sum / (double)sp);
    }
    return CD_OK;
}

/* PyTorch compute_scales_value: 1/scale when a scale was given, else in/out. */
static float coord_scale(float scale, int64_t in, int64_t out)
{
    return scale > 0.0f ? (float)(1.0 / (double)scale)
                        : (float)in / (float)out;
}

/* PyTorch nearest_idx (legacy 'nearest'). */
static int64_t nearest_idx(int64_t o, int64_t in, int64_t out, float scale)
{
    if (out == in)
        return o;
    if (out == 2 * in)
        return o >> 1;
    int64_t i = (int64_t)floorf((float)o * coord_scale(scale, in, out));
    return i < in - 1 ? i : in - 1;
}

/* PyTorch compute_source_index_and_lambda for linear interpolation. */
static void linear_idx(int64_t o, int64_t in, int64_t out, float scale,
                       int align, int64_t *i0, int64_t *i1, float *l1)
{
    if (out == in) {
        *i0 = *i1 = o;
        *l1 = 0.0f;
        return;
    }
    float ratio = align ? (out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f)
                        : coord_scale(scale, in, out);
    float src = align ? ratio * (float)o : ratio * ((float)o + 0.5f) - 0.5f;
    if (!align && src < 0.0f)
        src = 0.0f;
    *i0 = (int64_t)src;
    *i1 = *i0 + (*i0 < in - 1 ? 1 : 0);
    *l1 = fminf(fmaxf(src - (float)*i0, 0.0f), 1.0f);
}

CD_REF_FN(upsample)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *xs = &e->in[0].shape;
    int nsp = xs->ndim - 2;
    int64_t in[3], out[3];
    float sc[3];
    sizes3(xs, &e->out.shape, in, out);
    for (int j = 0; j < 3; j++) {
        int i = j - (3 - nsp);
        sc[j] = i < 0 ? 0.0f : a->scale[i];
    }
    int64_t planes = xs->dim[1] * (int64_t)batch;
    int64_t in_sp = in[0] * in[1] * in[2], out_sp = out[0] * out[1] * out[2];
    const float *x = arena + e->in[0].off;
    float *y = arena + e->out.off;
    bool bil = a->mode == CD_UPSAMPLE_BILINEAR;
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * in_sp;
        float *yp = y + p * out_sp;
        for (int64_t oz = 0; oz < out[0]; oz++)
        for (int64_t oy = 0; oy < out[1]; oy++)
        for (int64_t ox = 0; ox < out[2]; ox++) {
            float v;
            if (bil) { /* 2-D only: out[0] == in[0] == 1 */
                int64_t y0, y1, x0, x1;
                float ly, lx;
                linear_idx(oy, in[1], out[1], sc[1], a->align_corners, &y0,
                           &y1, &ly);
                linear_idx(ox, in[2], out[2], sc[2], a->align_corners, &x0,
                           &x1, &lx);
                const float *r0 = xp + y0 * in[2], *r1 = xp + y1 * in[2];
                v = (1.0f - ly) * ((1.0f - lx) * r0[x0] + lx * r0[x1]) +
                    ly * ((1.0f - lx) * r1[x0] + lx * r1[x1]);
            } else {
                int64_t iz = nearest_idx(oz, in[0], out[0], sc[0]);
                int64_t iy = nearest_idx(oy, in[1], out[1], sc[1]);
                int64_t ix = nearest_idx(ox, in[2], out[2], sc[2]);
                v = xp[(iz * in[1] + iy) * in[2] + ix];
            }
            yp[(oz * out[1] + oy) * out[2] + ox] = v;
        }
    }
    return CD_OK;
}
