/* ops_ref_grn.c — C reference of grn: per sample and channel c,
 * G[c] = ||x[.., c, ..]||_2 over all non-channel dims, N = G / (mean_c G +
 * eps), out = gamma[c] * (x * N[c]) + beta[c] + x. Double accumulators; the
 * norms are recomputed rather than stored (references must not allocate).
 * Trusts shapes the shape function checked. */
#include "op_family.h"
#include "ops_ref_util.h"

#include <math.h>

static double chan_norm(const float *x, int64_t outer, int64_t c,
                        int64_t inner, int64_t ch)
{
    double s = 0.0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double v = x[(o * c + ch) * inner + i];
            s += v * v;
        }
    return sqrt(s);
}

CD_REF_FN(grn)
{
    int64_t outer, c, inner, xn = cd_shape_numel(&e->in[0].shape);
    cd_ref_axis_view(&e->in[0].shape, e->a->axis, &outer, &c, &inner);
    if (c < 1)
        return cd_err_set(err, CD_EINVAL, "%s: bad channel count", e->name);
    const float *gam = wpool + e->w[0].off, *bet = wpool + e->w[1].off;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * xn;
        float *y = arena + e->out.off + b * xn;
        double mean = 0.0;
        for (int64_t ch = 0; ch < c; ch++)
            mean += chan_norm(x, outer, c, inner, ch);
        mean /= (double)c;
        for (int64_t ch = 0; ch < c; ch++) {
            double nx = chan_norm(x, outer, c, inner, ch) /
                        (mean + (double)e->a->eps);
            double sc = 1.0 + (double)gam[ch] * nx;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t i = 0; i < inner; i++) {
                    int64_t k = (o * c + ch) * inner + i;
                    y[k] = (float)((double)x[k] * sc + bet[ch]);
                }
        }
    }
    return CD_OK;
}
