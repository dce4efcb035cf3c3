/* ops_ref_multidilated.c — C reference of multidilated_conv (D3Net): input
 * channel slice s (Cin / m channels) is convolved with dilation d_s and
 * 'same' padding (d_s (k - 1) / 2 before, the rest after), the m results
 * summed with the bias, then residual and activation. Plain loops with double
 * accumulation: the definition the OpenCL kernel is tested against. */
#include "op_family.h"

#include <stdint.h>

CD_REF_FN(multidilated_conv)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *xs = &e->in[0].shape, *ys = &e->out.shape,
                          *ws = &e->w[0].shape;
    int nsp = xs->ndim - 2, m = a->n_dilations;
    if (nsp < 1 || nsp > 2 || m < 1 || xs->dim[1] % m || !e->has_w[0])
        return cd_err_set(err, CD_EINVAL, "%s: bad multidilated_conv node",
                          e->name);
    int64_t cin = xs->dim[1], cout = ys->dim[1], cs = cin / m;
    int64_t H = nsp == 2 ? xs->dim[2] : 1, W = xs->dim[1 + nsp];
    int64_t OH = nsp == 2 ? ys->dim[2] : 1, OW = ys->dim[1 + nsp];
    int64_t KH = nsp == 2 ? ws->dim[2] : 1, KW = ws->dim[1 + nsp];
    int sy = nsp == 2 ? a->stride[0] : 1, sx = a->stride[nsp - 1];
    int64_t xn = cin * H * W, on = cout * OH * OW;
    const float *wt = wpool + e->w[0].off;
    const float *bias = e->has_w[1] ? wpool + e->w[1].off : NULL;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * xn;
        float *y = arena + e->out.off + b * on;
        const float *res = a->residual ? arena + e->in[1].off + b * on : NULL;
        for (int64_t oc = 0; oc < cout; oc++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double acc = bias ? bias[oc] : 0.0;
                    for (int64_t ic = 0; ic < cin; ic++) {
                        int64_t d = a->dilations[ic / cs];
                        int64_t y0 = oy * sy - d * (KH - 1) / 2;
                        int64_t x0 = ox * sx - d * (KW - 1) / 2;
                        const float *xc = x + ic * H * W;
                        const float *wc = wt + (oc * cin + ic) * KH * KW;
                        for (int64_t ky = 0; ky < KH; ky++) {
                            int64_t iy = y0 + ky * d;
                            if (iy < 0 || iy >= H)
                                continue;
                            for (int64_t kx = 0; kx < KW; kx++) {
                                int64_t ix = x0 + kx * d;
                                if (ix >= 0 && ix < W)
                                    acc += (double)xc[iy * W + ix] *
                                           wc[ky * KW + kx];
                            }
                        }
                    }
                    int64_t oi = (oc * OH + oy) * OW + ox;
                    float v = (float)acc;
                    if (res)
                        v += res[oi];
                    y[oi] = cd_act_apply(a->act, v, a->act_alpha,
                                         a->act_beta);
                }
    }
    return CD_OK;
}
