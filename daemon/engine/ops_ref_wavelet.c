/* ops_ref_wavelet.c — C references of the orthonormal 2-D Haar transform and
 * its inverse, in WaveMix's channel order: out channel c is LL of input
 * channel c; out channel C + 3c + k (k = 0, 1, 2) is band k+1 of channel c
 * (pytorch_wavelets' yh[:, c, k]: (lo_w, hi_h), (hi_w, lo_h), (hi_w, hi_h)).
 * Trusts shapes checked by op_shape_wavelet.c; never allocates. */
#include "op_family.h"

/* x is (N, C, H, W); y is (N, 4C, H/2, W/2). For the 2x2 block (a b / c d):
 * LL = (a+b+c+d)/2, B1 = (a+b-c-d)/2, B2 = (a-b+c-d)/2, B3 = (a-b-c+d)/2. */
CD_REF_FN(haar_dwt)
{
    (void)wpool;
    (void)err;
    const struct cd_shape *xs = &e->in[0].shape;
    int64_t C = xs->dim[1], H = xs->dim[2], W = xs->dim[3];
    int64_t OH = H / 2, OW = W / 2, plane = OH * OW;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * C * H * W;
        float *y = arena + e->out.off + b * 4 * C * plane;
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < OH; i++)
                for (int64_t j = 0; j < OW; j++) {
                    const float *r0 = x + (c * H + 2 * i) * W + 2 * j;
                    const float *r1 = r0 + W;
                    float p = r0[0], q = r0[1], r = r1[0], s = r1[1];
                    int64_t o = i * OW + j;
                    y[c * plane + o] = 0.5f * ((p + q) + (r + s));
                    y[(C + 3 * c) * plane + o] = 0.5f * ((p + q) - (r + s));
                    y[(C + 3 * c + 1) * plane + o] = 0.5f * ((p - q) + (r - s));
                    y[(C + 3 * c + 2) * plane + o] = 0.5f * ((p - q) - (r - s));
                }
    }
    return CD_OK;
}

/* x is (N, 4C, H, W) in the layout above; y is (N, C, 2H, 2W). */
CD_REF_FN(haar_idwt)
{
    (void)wpool;
    (void)err;
    const struct cd_shape *xs = &e->in[0].shape;
    int64_t C = xs->dim[1] / 4, H = xs->dim[2], W = xs->dim[3];
    int64_t plane = H * W, OW = 2 * W;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * 4 * C * plane;
        float *y = arena + e->out.off + b * 4 * C * plane;
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < H; i++)
                for (int64_t j = 0; j < W; j++) {
                    int64_t o = i * W + j;
                    float ll = x[c * plane + o];
                    float b1 = x[(C + 3 * c) * plane + o];
                    float b2 = x[(C + 3 * c + 1) * plane + o];
                    float b3 = x[(C + 3 * c + 2) * plane + o];
                    float *r0 = y + (c * 2 * H + 2 * i) * OW + 2 * j;
                    float *r1 = r0 + OW;
                    r0[0] = 0.5f * ((ll + b1) + (b2 + b3));
                    r0[1] = 0.5f * ((ll + b1) - (b2 + b3));
                    r1[0] = 0.5f * ((ll - b1) + (b2 - b3));
                    r1[1] = 0.5f * ((ll - b1) - (b2 - b3));
                }
    }
    return CD_OK;
}
