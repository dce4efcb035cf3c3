/* ops_ref_scnn.c — C reference of scnn: copies x to out, then four
 * sequential passes (down, up, right, left); in each, slice i (a row, or a
 * column) gets out[i] += relu(conv(out[i-1])) with a bias-free C->C conv of
 * width w along the slice (zero padding w/2), the previous slice already
 * updated. Plain loops in double; defines what kernels/scnn.cl computes. */
#include "op_family.h"

#include <stdint.h>
#include <string.h>

/* One slice update in place: out[:, i] += relu(conv(out[:, prev])) for one
 * sample. p is (C, H, W); a slice has L positions at stride ls; slices are
 * ss apart; wt is (C, C, K). */
static void slice_update(float *p, const float *wt, int64_t C, int64_t HW,
                         int64_t L, int64_t ls, int64_t ss, int64_t K,
                         int64_t i, int64_t prev)
{
    int64_t h = K / 2;
    for (int64_t co = 0; co < C; co++)
        for (int64_t l = 0; l < L; l++) {
            double acc = 0.0;
            for (int64_t ci = 0; ci < C; ci++) {
                const float *src = p + ci * HW + prev * ss;
                const float *wr = wt + (co * C + ci) * K;
                for (int64_t k = 0; k < K; k++) {
                    int64_t q = l + k - h;
                    if (q >= 0 && q < L)
                        acc += (double)wr[k] * src[q * ls];
                }
            }
            if (acc > 0.0)
                p[co * HW + i * ss + l * ls] += (float)acc;
        }
}

CD_REF_FN(scnn)
{
    const struct cd_shape *xs = &e->in[0].shape;
    if (batch < 0 || e->n_in != 1 || xs->ndim != 4)
        return cd_err_set(err, CD_EINVAL, "%s: bad scnn node", e->name);
    for (int s = 0; s < 4; s++)
        if (!e->has_w[s])
            return cd_err_set(err, CD_EINVAL, "%s: scnn weight %d missing",
                              e->name, s);
    int64_t C = xs->dim[1], H = xs->dim[2], W = xs->dim[3], HW = H * W;
    size_t n = (size_t)(C * HW) * (size_t)batch;
    /* out is (N, C, H, W); separate from x (the planner never aliases) */
    memmove(arena + e->out.off, arena + e->in[0].off, n * sizeof(float));
    for (int64_t b = 0; b < batch; b++) {
        float *p = arena + e->out.off + b * C * HW;
        for (int s = 0; s < 4; s++) {
            const float *wt = wpool + e->w[s].off;
            bool vert = s < 2, fwd = s % 2 == 0; /* down, right go forward */
            int64_t K = vert ? e->w[s].shape.dim[3] : e->w[s].shape.dim[2];
            int64_t S = vert ? H : W, L = vert ? W : H;
            int64_t ls = vert ? 1 : W, ss = vert ? W : 1;
            for (int64_t t = 1; t < S; t++) {
                int64_t i = fwd ? t : S - 1 - t, prev = fwd ? i - 1 : i + 1;
                slice_update(p, wt, C, HW, L, ls, ss, K, i, prev);
            }
        }
    }
    return CD_OK;
}
