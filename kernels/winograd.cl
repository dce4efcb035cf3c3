/* winograd.cl — 3x3 stride-1 convolution (groups 1, dilation 1) by Winograd
 * F(4x4, 3x3) (Lavin & Gray's matrices, interpolation points 0, +-1, +-2):
 * every 6x6 input tile (stride 4) and every 3x3 filter go to a 36-point
 * transform domain, where the conv is 36 independent GEMMs over the input
 * channels; the inverse transform turns each tile's 36 products back into a
 * 4x4 output block. 4x fewer multiplies than the direct conv, for 2.25x the
 * activation traffic (V and M scratch). Four kernels:
 *   cd_wino_wt   U = G g G^T, once at load,        U (36, nkbp, C, 16)
 *   cd_wino_in   V = B^T d B per tile and channel, V (36, ntb, C, P)
 *   cd_wino_gemm M[xi] = V[xi] U[xi],              M (36, Tp, Kp)
 *   cd_wino_out  Y = A^T M A + fused epilogue,     NCHW output
 * Tiles t = (n * nty + ty) * ntx + tx (ntx = ceil(OW / 4), nty = ceil(OH /
 * 4)), T of them, blocked by P for the GEMM (ntb = ceil(T / P) blocks, Tp =
 * ntb * P); output channels in blocks of 16 (nkb = ceil(K / 16), padded
 * with zero filters to nkbp, a multiple of 4, so that a GEMM work-item's NV
 * blocks never pass the end). The tile slots past T hold whatever the
 * scratch held: their products are never stored. */

/* r = B^T z for one 6-vector (rows of B^T: 4 0 -5 0 1 0 / 0 -4 -4 1 1 0 /
 * 0 4 -4 -1 1 0 / 0 -2 -1 2 1 0 / 0 2 -1 -2 1 0 / 0 4 0 -5 0 1). */
#define WG_BT(z0, z1, z2, z3, z4, z5, r0, r1, r2, r3, r4, r5)                 \
    {                                                                         \
        float16 p_ = z4 - 4.0f * z2, q_ = z3 - 4.0f * z1;                     \
        float16 s_ = z4 - z2, u_ = 2.0f * (z3 - z1);                          \
        r0 = 4.0f * z0 - 5.0f * z2 + z4;                                      \
        r1 = p_ + q_;                                                         \
        r2 = p_ - q_;                                                         \
        r3 = s_ + u_;                                                         \
        r4 = s_ - u_;                                                         \
        r5 = 4.0f * z1 - 5.0f * z3 + z5;                                      \
    }

/* r = A^T z (rows of A^T: 1 1 1 1 1 0 / 0 1 -1 2 -2 0 / 0 1 1 4 4 0 /
 * 0 1 -1 8 -8 1). */
#define WG_AT(z0, z1, z2, z3, z4, z5, r0, r1, r2, r3)                         \
    {                                                                         \
        float16 a_ = z1 + z2, b_ = z1 - z2, c_ = z3 + z4, d_ = z3 - z4;       \
        r0 = z0 + a_ + c_;                                                    \
        r1 = b_ + 2.0f * d_;                                                  \
        r2 = a_ + 4.0f * c_;                                                  \
        r3 = b_ + 8.0f * d_ + z5;                                             \
    }

/* U = G g G^T for output channel k (zero filter for k >= K) and input
 * channel c; g is w (K, C, 3, 3). u (36, nkbp, C, 16): point xi, block
 * k / 16, channel c, lane k % 16. gws = (nkbp * 16, C). */
__kernel void cd_wino_wt(global const float *w, ulong w_off, global float *u,
                         int K, int C, int nkbp)
{
    int k = get_global_id(0), c = get_global_id(1);
    if (k >= nkbp * 16 || c >= C)
        return;
    float g[3][3], t[6][3];
    global const float *wk = w + w_off + ((ulong)k * C + c) * 9;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            g[i][j] = k < K ? wk[i * 3 + j] : 0.0f;
    /* t = G g (rows of G: 1/4 0 0 / -1/6 -1/6 -1/6 / -1/6 1/6 -1/6 /
     * 1/24 1/12 1/6 / 1/24 -1/12 1/6 / 0 0 1) */
    for (int j = 0; j < 3; j++) {
        float a = g[0][j], b = g[1][j], e = g[2][j];
        t[0][j] = a * 0.25f;
        t[1][j] = -(a + b + e) / 6.0f;
        t[2][j] = -(a - b + e) / 6.0f;
        t[3][j] = a / 24.0f + b / 12.0f + e / 6.0f;
        t[4][j] = a / 24.0f - b / 12.0f + e / 6.0f;
        t[5][j] = e;
    }
    ulong xs = (ulong)nkbp * C * 16;
    global float *o = u + ((ulong)(k / 16) * C + c) * 16 + k % 16;
    for (int i = 0; i < 6; i++) {
        float a = t[i][0], b = t[i][1], e = t[i][2];
        float r[6] = { a * 0.25f, -(a + b + e) / 6.0f, -(a - b + e) / 6.0f,
                       a / 24.0f + b / 12.0f + e / 6.0f,
                       a / 24.0f - b / 12.0f + e / 6.0f, e };
        for (int j = 0; j < 6; j++)
            o[(ulong)(i * 6 + j) * xs] = r[j];
    }
}

/* Lane l = b[4 l + j]: column j of 16 consecutive tiles' rows. */
#define WG_COL(b, j)                                                          \
    (float16)(b[j], b[j + 4], b[j + 8], b[j + 12], b[j + 16], b[j + 20],      \
              b[j + 24], b[j + 28], b[j + 32], b[j + 36], b[j + 40],          \
              b[j + 44], b[j + 48], b[j + 52], b[j + 56], b[j + 60])

#define WG_LANES(X)                                                           \
    X(0, s0) X(1, s1) X(2, s2) X(3, s3) X(4, s4) X(5, s5) X(6, s6) X(7, s7)   \
    X(8, s8) X(9, s9) X(10, sa) X(11, sb) X(12, sc) X(13, sd) X(14, se)       \
    X(15, sf)

/* V = B^T d B for 16 consecutive tiles of one tile row (lanes) and one
 * channel; d is the 6x6 window at (4 ty - py, 4 tx - px) of src (N, C, H,
 * W), zero outside. gws = (ceil(ntx / 16) * nty, C, N). */
__kernel void cd_wino_in(global const float *src, ulong src_off,
                         global float *v, int C, int H, int W, int py,
                         int px, int ntx, int nty, int P, int ntb)
{
    int nxb = (ntx + 15) / 16;
    int ty = get_global_id(0) / nxb, tx0 = get_global_id(0) % nxb * 16;
    int c = get_global_id(1), n = get_global_id(2);
    if (ty >= nty || c >= C)
        return;
    global const float *plane = src + src_off + ((ulong)n * C + c) * H * W;
    int x0 = 4 * tx0 - px;
    float16 t[6][6];
    for (int i = 0; i < 6; i++) {
        int y = 4 * ty - py + i;
        float b[80];
        if (y >= 0 && y < H) {
            global const float *row = plane + (ulong)y * W;
            for (int q = 0; q < 5; q++)
                vstore16(cd_sload16(row, x0 + 16 * q, 1, W), q, b);
        } else {
            for (int q = 0; q < 5; q++)
                vstore16((float16)0.0f, q, b);
        }
        float16 z0 = WG_COL(b, 0), z1 = WG_COL(b, 1), z2 = WG_COL(b, 2),
                z3 = WG_COL(b, 3), z4 = WG_COL(b, 4), z5 = WG_COL(b, 5);
        WG_BT(z0, z1, z2, z3, z4, z5, t[i][0], t[i][1], t[i][2], t[i][3],
              t[i][4], t[i][5])
    }
    /* per lane: the slot of its tile in every point's block */
    int nl = min(16, ntx - tx0);
    int t0 = (n * nty + ty) * ntx + tx0;
    ulong xs = (ulong)ntb * C * P;
    ulong off[16];
    for (int l = 0; l < 16; l++) {
        int tt = t0 + l;
        off[l] = ((ulong)(tt / P) * C + c) * P + tt % P;
    }
    for (int j = 0; j < 6; j++) {
        float16 r0, r1, r2, r3, r4, r5;
        WG_BT(t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j], r0, r1,
              r2, r3, r4, r5)
        global float *vj = v + (ulong)j * xs;
#define WG_ST_LANE(l, s)                                                      \
        if (l < nl) {                                                         \
            vj[off[l]] = r0.s;                                                \
            vj[off[l] + 6 * xs] = r1.s;                                       \
            vj[off[l] + 12 * xs] = r2.s;                                      \
            vj[off[l] + 18 * xs] = r3.s;                                      \
            vj[off[l] + 24 * xs] = r4.s;                                      \
            vj[off[l] + 30 * xs] = r5.s;                                      \
        }
        WG_LANES(WG_ST_LANE)
#undef WG_ST_LANE
    }
}

/* Tile lists (P = 7, 14) and channel-vector lists (NV = 2, 4). */
#define WG_P7(X, A) X(0, A) X(1, A) X(2, A) X(3, A) X(4, A) X(5, A) X(6, A)
#define WG_P14(X, A)                                                          \
    WG_P7(X, A) X(7, A) X(8, A) X(9, A) X(10, A) X(11, A) X(12, A) X(13, A)
#define WG_V2(Y, p) Y(0, p) Y(1, p)
#define WG_V4(Y, p) Y(0, p) Y(1, p) Y(2, p) Y(3, p)

#define WG_DECL1(q, p) float16 a##p##_##q = (float16)0.0f;
#define WG_DECL(p, VL) VL(WG_DECL1, p)
#define WG_WLOAD(q, unused) float16 w##q = vload16(0, up + q * us);
#define WG_FMA1(q, p) a##p##_##q = fma(xb, w##q, a##p##_##q);
#define WG_STEP(p, VL)                                                        \
    {                                                                         \
        float16 xb = (float16)vp[p];                                          \
        VL(WG_FMA1, p)                                                        \
    }
#define WG_ST1(q, p) vstore16(a##p##_##q, 0, mp + (ulong)(p) * Kp + q * 16);
#define WG_ST(p, VL) VL(WG_ST1, p)

/* M[xi] (Tp, Kp) = V[xi] (C, Tp) ^T U[xi] (C, Kp), as in the packed direct
 * kernels: each work-item keeps P tiles x NV blocks of 16 channels in
 * registers and streams its V block (C, P) and U blocks (C, 16) in order;
 * M starts at float m_off of m. gws = (ntb, nkbp / NV, 36). */
#define WG_GEMM_KERNEL(NAME, P, PL, NV, VL)                                   \
__kernel void NAME(global const float *v, global const float *u,             \
                   global float *m, ulong m_off, int C, int ntb, int nkbp)    \
{                                                                             \
    int tb = get_global_id(0), kb0 = get_global_id(1) * NV,                   \
        xi = get_global_id(2);                                                \
    if (tb >= ntb || kb0 >= nkbp)                                             \
        return;                                                               \
    ulong us = (ulong)C * 16;                                                 \
    global const float *vp = v + ((ulong)xi * ntb + tb) * C * P;              \
    global const float *up = u + ((ulong)xi * nkbp + kb0) * us;               \
    PL(WG_DECL, VL)                                                           \
    for (int c = 0; c < C; c++) {                                             \
        VL(WG_WLOAD, 0)                                                       \
        PL(WG_STEP, VL)                                                       \
        vp += P;                                                              \
        up += 16;                                                             \
    }                                                                         \
    int Kp = nkbp * 16;                                                       \
    global float *mp = m + m_off + ((ulong)xi * ntb + tb) * P * Kp +          \
                       kb0 * 16;                                              \
    PL(WG_ST, VL)                                                             \
}

WG_GEMM_KERNEL(cd_wino_gemm7x4, 7, WG_P7, 4, WG_V4)
WG_GEMM_KERNEL(cd_wino_gemm14x2, 14, WG_P14, 2, WG_V2)

/* Y = A^T M A for tile t and channels 16 kb .. 16 kb + 15 (lanes), then
 * act(Y + bias + residual) into dst (N, K, OH, OW) inside the output only.
 * m (36, Tp, Kp) from float m_off. gws = (T, ceil(K / 16)). */
__kernel void cd_wino_out(global const float *m, ulong m_off,
                          global const float *wp,
                          ulong b_off, int has_bias, global const float *res,
                          ulong res_off, int has_res, global float *dst,
                          ulong dst_off, int K, int OH, int OW, int ntx,
                          int nty, int T, int Tp, int Kp, int act,
                          float alpha, float beta)
{
    int t = get_global_id(0), kb = get_global_id(1);
    if (t >= T || kb * 16 >= K)
        return;
    ulong xs = (ulong)Tp * Kp;
    global const float *mp = m + m_off + (ulong)t * Kp + kb * 16;
    float16 s[6][4];
    for (int i = 0; i < 6; i++) {
        global const float *mr = mp + (ulong)(i * 6) * xs;
        float16 z0 = vload16(0, mr), z1 = vload16(0, mr + xs),
                z2 = vload16(0, mr + 2 * xs), z3 = vload16(0, mr + 3 * xs),
                z4 = vload16(0, mr + 4 * xs), z5 = vload16(0, mr + 5 * xs);
        WG_AT(z0, z1, z2, z3, z4, z5, s[i][0], s[i][1], s[i][2], s[i][3])
    }
    int nk = min(16, K - kb * 16);
    float16 bias = (float16)0.0f;
    if (has_bias)
        bias = nk == 16 ? vload16(0, wp + b_off + kb * 16)
                        : cd_gather16(wp + b_off + kb * 16, 0, 1, nk);
    int per = ntx * nty, n = t / per, ty = t % per / ntx, tx = t % ntx;
    ulong cs = (ulong)OH * OW;
    ulong o = ((ulong)n * K + (ulong)kb * 16) * cs;
    global const float *rp = res + res_off + o;
    global float *dp = dst + dst_off + o;
    for (int j = 0; j < 4; j++) {
        int ox = 4 * tx + j;
        if (ox >= OW)
            break;
        float16 y[4];
        WG_AT(s[0][j], s[1][j], s[2][j], s[3][j], s[4][j], s[5][j], y[0],
              y[1], y[2], y[3])
        for (int i = 0; i < 4; i++) {
            int oy = 4 * ty + i;
            if (oy >= OH)
                break;
            ulong p = (ulong)oy * OW + ox;
            float16 r = y[i] + bias;
            if (has_res) {
#define WG_RES_LANE(l, s) r.s += l < nk ? rp[(ulong)l * cs + p] : 0.0f;
                WG_LANES(WG_RES_LANE)
#undef WG_RES_LANE
            }
            r = cd_act16(r, act, alpha, beta);
#define WG_OUT_LANE(l, s)                                                     \
            if (l < nk)                                                       \
                dp[(ulong)l * cs + p] = r.s;
            WG_LANES(WG_OUT_LANE)
#undef WG_OUT_LANE
        }
    }
}
