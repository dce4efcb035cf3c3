/* ops_ref_dynamic.c — C reference of dynamic_dwconv: out[n,c] =
 * cross-correlation of x[n,c] with the per-sample kernel kern[n,c] (plus
 * bias[c]), with stride, zero padding and dilation. Plain loops in double:
 * this defines what kernels/dynamic.cl must compute. No allocation. */
#include "op_family.h"

#include <stdint.h>

/* (KH, KW) of node e: the "kernel" attribute, else the kernel input's
 * trailing dims; 1-D maps to KH = 1. Shapes were validated at load. */
static void kernel_hw(const struct cd_exec_node *e, int64_t *kh, int64_t *kw)
{
    const struct cd_shape *x = &e->in[0].shape, *kn = &e->in[1].shape;
    int nsp = x->ndim - 2;
    int64_t k[2];
    for (int i = 0; i < nsp; i++)
        k[i] = e->a->kernel[0] > 0 ? e->a->kernel[i] : kn->dim[2 + i];
    *kh = nsp == 2 ? k[0] : 1;
    *kw = k[nsp - 1];
}

CD_REF_FN(dynamic_dwconv)
{
    const struct cd_shape *xs = &e->in[0].shape, *os = &e->out.shape;
    int nsp = xs->ndim - 2;
    if (batch < 0 || e->n_in != 2 || nsp < 1 || nsp > 2)
        return cd_err_set(err, CD_EINVAL, "%s: bad dynamic_dwconv node",
                          e->name);
    int64_t KH, KW;
    kernel_hw(e, &KH, &KW);
    int64_t C = xs->dim[1];
    int64_t H = nsp == 2 ? xs->dim[2] : 1, W = xs->dim[xs->ndim - 1];
    int64_t OH = nsp == 2 ? os->dim[2] : 1, OW = os->dim[os->ndim - 1];
    int j = nsp - 1; /* attribute index of the W dim */
    int64_t sy = nsp == 2 ? e->a->stride[0] : 1, sx = e->a->stride[j];
    int64_t dy = nsp == 2 ? e->a->dilation[0] : 1, dx = e->a->dilation[j];
    int64_t py = nsp == 2 ? e->a->pad_begin[0] : 0, px = e->a->pad_begin[j];
    const float *bias = e->has_w[0] ? wpool + e->w[0].off : NULL;

    for (int64_t b = 0; b < batch; b++) {
        /* x is (N, C, H, W), kern (N, C, KH, KW), out (N, C, OH, OW) */
        const float *x = arena + e->in[0].off + b * C * H * W;
        const float *kn = arena + e->in[1].off + b * C * KH * KW;
        float *y = arena + e->out.off + b * C * OH * OW;
        for (int64_t c = 0; c < C; c++) {
            const float *xc = x + c * H * W, *kc = kn + c * KH * KW;
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double acc = bias ? bias[c] : 0.0;
                    for (int64_t ky = 0; ky < KH; ky++) {
                        int64_t iy = oy * sy - py + ky * dy;
                        if (iy < 0 || iy >= H)
                            continue;
                        for (int64_t kx = 0; kx < KW; kx++) {
                            int64_t ix = ox * sx - px + kx * dx;
                            if (ix >= 0 && ix < W)
                                acc += (double)xc[iy * W + ix] *
                                       kc[ky * KW + kx];
                        }
                    }
                    y[(c * OH + oy) * OW + ox] = (float)acc;
                }
        }
    }
    return CD_OK;
}
