/* gram.cl — the device half of Eigen-CAM (daemon/engine/eigencam.c): for one
 * sample X (C, hw) of a kept value, the channel means and the Gram matrix of
 * the centred rows, G[i][j] = sum_p (X[i,p] - m[i]) (X[j,p] - m[j]). The
 * results go to a scratch buffer s: s[0..C) means, s[C..C+C*C) G row-major.
 * Helpers are prefixed gram_. */

#define GRAM_TS 8

/* x (C, hw) at x_off; gws = (C rounded up), any lws. */
kernel void cd_gram_mean(global const float *x, ulong x_off, uint C, uint hw,
                         global float *s)
{
    uint c = (uint)get_global_id(0);
    if (c >= C)
        return;
    global const float *row = x + x_off + (ulong)c * hw;
    float acc = 0.0f;
    for (uint p = 0; p < hw; p++)
        acc += row[p];
    s[c] = acc / (float)hw;
}

/* Centred value X[i,p] - m[i], or 0 outside the matrix. */
float gram_load(global const float *x, global const float *m, uint C, uint hw,
                uint i, uint p)
{
    return (i < C && p < hw) ? x[(ulong)i * hw + p] - m[i] : 0.0f;
}

/* x (C, hw) at x_off, means in s[0..C); writes G into s[C..). gws = (C, C)
 * rounded up to GRAM_TS, lws = (GRAM_TS, GRAM_TS). The (i, j) and (j, i)
 * entries add the same products in the same order, so G is exactly
 * symmetric. */
kernel void cd_gram_xtx(global const float *x, ulong x_off, uint C, uint hw,
                        global float *s)
{
    local float ta[GRAM_TS][GRAM_TS + 1], tb[GRAM_TS][GRAM_TS + 1];
    uint lj = (uint)get_local_id(0), li = (uint)get_local_id(1);
    uint j0 = (uint)get_group_id(0) * GRAM_TS, i0 = (uint)get_group_id(1) * GRAM_TS;
    global const float *xs = x + x_off;
    global const float *m = s;
    float acc = 0.0f;
    for (uint p0 = 0; p0 < hw; p0 += GRAM_TS) {
        /* work-item (li, lj) loads row i0+li / j0+li, column p0+lj */
        ta[li][lj] = gram_load(xs, m, C, hw, i0 + li, p0 + lj);
        tb[li][lj] = gram_load(xs, m, C, hw, j0 + li, p0 + lj);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint k = 0; k < GRAM_TS; k++)
            acc = fma(ta[li][k], tb[lj][k], acc);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    uint i = i0 + li, j = j0 + lj;
    if (i < C && j < C)
        s[C + (ulong)i * C + j] = acc;
}
