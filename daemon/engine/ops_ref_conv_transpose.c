/* ops_ref_conv_transpose.c — C reference of conv_transpose (1-D/2-D/3-D,
 * stride, padding, output_padding, dilation, groups, fused epilogue), written
 * as the scatter that defines it: each input element adds x * w[k] to output
 * position i*stride - pad_begin + k*dilation. Trusts shapes checked by
 * op_shape_conv_transpose.c; accumulates directly in the output, which it
 * zero-fills first, so the output must not alias an input. */
#include "op_family.h"

CD_REF_FN(conv_transpose)
{
    (void)err;
    const struct cd_attrs *a = e->a;
    const struct cd_shape *xs = &e->in[0].shape, *ws = &e->w[0].shape,
                          *ys = &e->out.shape;
    int nsp = xs->ndim - 2;
    int64_t in[3], out[3], k[3];
    int s[3], d[3], p[3];
    for (int j = 0; j < 3; j++) {
        int i = j - (3 - nsp);
        in[j] = i < 0 ? 1 : xs->dim[2 + i];
        out[j] = i < 0 ? 1 : ys->dim[2 + i];
        k[j] = i < 0 ? 1 : ws->dim[2 + i];
        s[j] = i < 0 ? 1 : a->stride[i];
        d[j] = i < 0 ? 1 : a->dilation[i];
        p[j] = i < 0 ? 0 : a->pad_begin[i];
    }
    int64_t cin = xs->dim[1], cout = ys->dim[1], grp = a->groups;
    int64_t cig = cin / grp, cog = cout / grp;
    int64_t in_sp = in[0] * in[1] * in[2], out_sp = out[0] * out[1] * out[2];
    int64_t k_sp = k[0] * k[1] * k[2];
    const float *wt = wpool + e->w[0].off;
    const float *bias = e->has_w[1] ? wpool + e->w[1].off : NULL;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * cin * in_sp;
        float *y = arena + e->out.off + b * cout * out_sp;
        const float *res = a->residual ? arena + e->in[1].off +
                                         b * cout * out_sp : NULL;
        for (int64_t i = 0; i < cout * out_sp; i++)
            y[i] = 0.0f;
        for (int64_t ic = 0; ic < cin; ic++) {
            int64_t g = ic / cig;
            const float *xc = x + ic * in_sp;
            for (int64_t j = 0; j < cog; j++) {
                float *yc = y + (g * cog + j) * out_sp;
                const float *wc = wt + (ic * cog + j) * k_sp;
                for (int64_t iz = 0; iz < in[0]; iz++)
                for (int64_t iy = 0; iy < in[1]; iy++)
                for (int64_t ix = 0; ix < in[2]; ix++) {
                    float v = xc[(iz * in[1] + iy) * in[2] + ix];
                    for (int64_t kz = 0; kz < k[0]; kz++) {
                        int64_t oz = iz * s[0] - p[0] + kz * d[0];
                        if (oz < 0 || oz >= out[0])
                            continue;
                        for (int64_t ky = 0; ky < k[1]; ky++) {
                            int64_t oy = iy * s[1] - p[1] + ky * d[1];
                            if (oy < 0 || oy >= out[1])
                                continue;
                            for (int64_t kx = 0; kx < k[2]; kx++) {
                                int64_t ox = ix * s[2] - p[2] + kx * d[2];
                                if (ox < 0 || ox >= out[2])
                                    continue;
                                yc[(oz * out[1] + oy) * out[2] + ox] +=
                                    v * wc[(kz * k[1] + ky) * k[2] + kx];
                            }
                        }
                    }
                }
            }
        }
        for (int64_t oc = 0; oc < cout; oc++)
            for (int64_t i = 0; i < out_sp; i++) {
                int64_t o = oc * out_sp + i;
                float f = y[o] + (bias ? bias[oc] : 0.0f);
                if (res)
                    f += res[o];
                y[o] = cd_act_apply((enum cd_act)a->act, f, a->act_alpha,
                                    a->act_beta);
            }
    }
    return CD_OK;
}
