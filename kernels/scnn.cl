/* scnn.cl — one SCNN message-passing step: slice i of out (a row or a
 * column, for all channels and samples) gets += relu(conv(slice prev)),
 * where conv is a bias-free C->C conv of width K along the slice (zero
 * padding K/2). The host enqueues one launch per slice in order on the
 * in-order queue; the update is in place (slice i != prev). Register tile:
 * 8 positions along the slice x 4 output channels per work-item, no private
 * arrays. Helpers are prefixed scnn_. Must not read outside its tensors. */

#define SCNN_LANES8 (int8)(0, 1, 2, 3, 4, 5, 6, 7)

/* lane l = p[(q + l) * ls] for 0 <= q + l < L, else 0. */
static inline float8 scnn_load8(global const float *p, int q, int ls, int L)
{
    if (q >= 0 && q + 7 < L) {
        if (ls == 1)
            return vload8(0, p + q);
        global const float *r = p + (long)q * ls;
        return (float8)(r[0], r[ls], r[2 * ls], r[3 * ls], r[4 * ls],
                        r[5 * ls], r[6 * ls], r[7 * ls]);
    }
    int8 x = q + SCNN_LANES8;
    int8 c = clamp(x, 0, L - 1) * ls;
    float8 v = (float8)(p[c.s0], p[c.s1], p[c.s2], p[c.s3], p[c.s4], p[c.s5],
                        p[c.s6], p[c.s7]);
    return select((float8)0.0f, v, x >= 0 && x < L);
}

/* p[(l0 + j) * ls] += max(v.sj, 0) for the first n lanes. */
static inline void scnn_add8(global float *p, int ls, int n, float8 v)
{
    v = fmax(v, (float8)0.0f);
    if (n >= 8 && ls == 1) {
        vstore8(vload8(0, p) + v, 0, p);
        return;
    }
    if (n > 0) p[0] += v.s0;
    if (n > 1) p[ls] += v.s1;
    if (n > 2) p[2 * ls] += v.s2;
    if (n > 3) p[3 * ls] += v.s3;
    if (n > 4) p[4 * ls] += v.s4;
    if (n > 5) p[5 * ls] += v.s5;
    if (n > 6) p[6 * ls] += v.s6;
    if (n > 7) p[7 * ls] += v.s7;
}

/* buf (N, C, H, W) at off, in place; wt (C, C, K) at w_off. A slice has L
 * positions ls apart; slices are ss apart; HW = H * W.
 * gws = (ceil(L/8), ceil(C/4), N). */
__kernel void cd_scnn_slice(global float *buf, ulong off,
                            global const float *wp, ulong w_off, int C,
                            int HW, int L, int ls, int ss, int K, int i,
                            int prev)
{
    int l0 = get_global_id(0) * 8, co0 = get_global_id(1) * 4;
    int b = get_global_id(2);
    if (l0 >= L || co0 >= C)
        return;
    global float *p = buf + off + (ulong)b * C * HW;
    int c1 = min(co0 + 1, C - 1), c2 = min(co0 + 2, C - 1);
    int c3 = min(co0 + 3, C - 1);
    global const float *w0 = wp + w_off + (ulong)co0 * C * K;
    global const float *w1 = wp + w_off + (ulong)c1 * C * K;
    global const float *w2 = wp + w_off + (ulong)c2 * C * K;
    global const float *w3 = wp + w_off + (ulong)c3 * C * K;
    float8 a0 = (float8)0.0f, a1 = (float8)0.0f, a2 = (float8)0.0f,
           a3 = (float8)0.0f;
    int h = K / 2;
    for (int ci = 0; ci < C; ci++) {
        global const float *src = p + (ulong)ci * HW + (ulong)prev * ss;
        int wo = ci * K;
        for (int k = 0; k < K; k++) {
            float8 v = scnn_load8(src, l0 + k - h, ls, L);
            a0 = fma((float8)w0[wo + k], v, a0);
            a1 = fma((float8)w1[wo + k], v, a1);
            a2 = fma((float8)w2[wo + k], v, a2);
            a3 = fma((float8)w3[wo + k], v, a3);
        }
    }
    int n = min(8, L - l0);
    global float *d = p + (ulong)i * ss + (ulong)l0 * ls;
    scnn_add8(d + (ulong)co0 * HW, ls, n, a0);
    if (co0 + 1 < C)
        scnn_add8(d + (ulong)(co0 + 1) * HW, ls, n, a1);
    if (co0 + 2 < C)
        scnn_add8(d + (ulong)(co0 + 2) * HW, ls, n, a2);
    if (co0 + 3 < C)
        scnn_add8(d + (ulong)(co0 + 3) * HW, ls, n, a3);
}
