/* winograd.cl — 3x3 stride-1 convolution (groups 1, dilation 1) by Winograd
 * F(4x4, 3x3) (Lavin & Gray's matrices, interpolation points 0, +-1, +-2):
 * every 6x6 input tile (stride 4) and every 3x3 filter go to a 36-point
 * transform domain, where the conv is 36 independent GEMMs over the input
 * channels; the inverse transform turns each tile's 36 products back into a
 * 4x4 output block. 4x fewer multiplies than the direct conv, for 2.25x the
 * activation traffic (V and M scratch). Four kernels:
 *   cd_wino_wt   U = G g G^T, once at load,        U (36, nkb, C, 16)
 *   cd_wino_in   V = B^T d B per tile and channel, V (36, C, Tv)
 *   cd_wino_gemm M[xi] = U[xi]^T V[xi],            M (36, nkb * 16, Tv)
 * (V and M points WG_PSTRIDE apart)
 *   cd_wino_out  Y = A^T M A + fused epilogue,     NCHW output
 * Tiles t = (n * nty + ty) * ntx + tx (ntx = ceil(OW / 4), nty = ceil(OH /
 * 4)), T of them, padded to Tv >= T + 16 (a multiple of the GEMM's tile
 * block; the products of the slots past T are never stored); every vector
 * runs along 16 consecutive tiles of a tile row, so V and M are read and
 * written with whole-vector accesses and the input and output rows with
 * vector loads and stores. Output channels in blocks of 16 (nkb = ceil(K
 * / 16)), zero filters past K. */

/* Floats from one transform point's V or M block to the next, for blocks
 * of n floats: rounded up to 4 KB plus one cache line, so that the 36
 * point streams of a tile vector fall into different L1 sets (at a
 * multiple of 4 KB they all hit one set: 56x56x64 blocks are 14 x 4 KB). */
#define WG_PSTRIDE(n) ((((ulong)(n) + 1023) & ~(ulong)1023) + 16)

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
 * channel c; g is w (K, C, 3, 3). u (36, nkb, C, 16): point xi, block
 * k / 16, channel c, lane k % 16. gws = (nkb * 16, C). */
__kernel void cd_wino_wt(global const float *w, ulong w_off, global float *u,
                         int K, int C, int nkb)
{
    int k = get_global_id(0), c = get_global_id(1);
    if (k >= nkb * 16 || c >= C)
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
    ulong xs = (ulong)nkb * C * 16;
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

/* Shuffle masks: even / odd lanes of a 32-lane pair, the lane pairs of an
 * interleave, and a shift by one lane. */
#define WG_EVEN (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,   \
                         28, 30)
#define WG_ODD (uint16)(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,    \
                        29, 31)
#define WG_ZIPLO (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, \
                          23)
#define WG_ZIPHI (uint16)(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14,   \
                          30, 15, 31)
#define WG_SHIFT1(e) (uint16)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,  \
                              15, e)

/* Lane l = row[ix + l], 0 outside [0, W): one vector load when inside,
 * none when wholly outside, and for a window across an edge of a row of
 * 16+ floats the 16 floats at that edge moved into place by one permute
 * (no per-lane loads). */
static inline float16 wg_load16(global const float *row, int ix, int W)
{
    if (ix >= 0 && ix + 16 <= W)
        return vload16(0, row + ix);
    if (ix >= W || ix + 16 <= 0)
        return (float16)0.0f;
    if (W < 16)
        return cd_gather16(row, ix, 1, W);
    int16 x = ix + CD_LANES16;
    int base = ix < 0 ? 0 : W - 16;
    float16 v = shuffle(vload16(0, row + base),
                        convert_uint16(clamp(x - base, 0, 15)));
    return select((float16)0.0f, v, x >= 0 && x < W);
}

/* One input row of 16 consecutive tiles: from the 80 floats r0 .. r4
 * starting at the first tile's window, z[j] lane l = element 4 l + j. */
static inline void wg_cols(float16 r0, float16 r1, float16 r2, float16 r3,
                           float16 r4, float16 *z)
{
    float16 el = shuffle2(r0, r1, WG_EVEN), eh = shuffle2(r2, r3, WG_EVEN);
    float16 ol = shuffle2(r0, r1, WG_ODD), oh = shuffle2(r2, r3, WG_ODD);
    z[0] = shuffle2(el, eh, WG_EVEN);
    z[2] = shuffle2(el, eh, WG_ODD);
    z[1] = shuffle2(ol, oh, WG_EVEN);
    z[3] = shuffle2(ol, oh, WG_ODD);
    z[4] = shuffle2(z[0], r4, WG_SHIFT1(16));
    z[5] = shuffle2(z[1], r4, WG_SHIFT1(17));
}

/* V = B^T d B for every tile of channel c of sample n, 16 consecutive
 * tiles of a tile row (lanes) at a time; d is the 6x6 window at (4 ty -
 * py, 4 tx - px) of src (N, C, H, W), zero outside. v (36, C, Tv). A
 * segment shorter than 16 tiles also writes the first tiles of the next
 * rows, which this work-item rewrites next, as long as the vector ends
 * inside the sample; else it writes its own tiles only. gws = (C, N). */
__kernel void cd_wino_in(global const float *src, ulong src_off,
                         global float *v, int C, int H, int W, int py,
                         int px, int ntx, int nty, int Tv)
{
    int c = get_global_id(0), n = get_global_id(1);
    if (c >= C)
        return;
    global const float *plane = src + src_off + ((ulong)n * C + c) * H * W;
    ulong xs = WG_PSTRIDE((ulong)C * Tv);
    global float *vc = v + (ulong)c * Tv;
    for (int ty = 0; ty < nty; ty++) {
        for (int tx0 = 0; tx0 < ntx; tx0 += 16) {
            int x0 = 4 * tx0 - px;
            float16 t[6][6];
#pragma unroll
            for (int i = 0; i < 6; i++) {
                int y = 4 * ty - py + i;
                float16 z[6], r[5];
                if (y >= 0 && y < H) {
                    global const float *row = plane + (ulong)y * W;
#pragma unroll
                    for (int q = 0; q < 5; q++)
                        r[q] = wg_load16(row, x0 + 16 * q, W);
                } else {
                    for (int q = 0; q < 5; q++)
                        r[q] = (float16)0.0f;
                }
                wg_cols(r[0], r[1], r[2], r[3], r[4], z);
                WG_BT(z[0], z[1], z[2], z[3], z[4], z[5], t[i][0], t[i][1],
                      t[i][2], t[i][3], t[i][4], t[i][5])
            }
            /* whole vectors while they end inside this sample's tiles */
            int nl = (nty - ty) * ntx - tx0 >= 16 ? 16 : min(16, ntx - tx0);
            global float *vt = vc + ((ulong)n * nty + ty) * ntx + tx0;
#pragma unroll
            for (int j = 0; j < 6; j++) {
                float16 r[6];
                WG_BT(t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j],
                      r[0], r[1], r[2], r[3], r[4], r[5])
#pragma unroll
                for (int a = 0; a < 6; a++) {
                    global float *o = vt + (ulong)(a * 6 + j) * xs;
                    if (nl == 16)
                        vstore16(r[a], 0, o);
                    else
                        cd_store_part16(r[a], o, nl);
                }
            }
        }
    }
}

/* Tile-vector lists (NT = 1, 2) and channel lists (NK = 8, 16). */
#define WG_T1(X, A) X(0, A)
#define WG_T2(X, A) X(0, A) X(1, A)
#define WG_K8(Y, q) Y(0, q) Y(1, q) Y(2, q) Y(3, q) Y(4, q) Y(5, q) Y(6, q)   \
    Y(7, q)
#define WG_K16(Y, q) WG_K8(Y, q) Y(8, q) Y(9, q) Y(10, q) Y(11, q) Y(12, q)   \
    Y(13, q) Y(14, q) Y(15, q)

#define WG_DECL1(k, q) float16 a##q##_##k = (float16)0.0f;
#define WG_DECL(q, KL) KL(WG_DECL1, q)
#define WG_VLOAD(q, unused) float16 x##q = vload16(q, vp);
#define WG_FMA1(k, q) a##q##_##k = fma(x##q, (float16)up[k], a##q##_##k);
#define WG_STEP(q, KL) KL(WG_FMA1, q)
#define WG_ST1(k, q) vstore16(a##q##_##k, q, mp + (ulong)(k) * Tv);
#define WG_ST(q, KL) KL(WG_ST1, q)

/* M[xi] (Kp, Tv) = U[xi]^T (Kp, C) V[xi] (C, Tv): each work-item keeps NT
 * vectors of 16 tiles x NK output channels in registers; per input
 * channel it loads NT tile vectors of V and broadcasts NK scalars of U
 * (lanes kq .. kq + NK - 1 of one 16-channel block). Tiles 0 .. Tg - 1
 * only. gws = (nkb * 16 / NK, Tg / (16 NT), 36) with kfast (the
 * work-items sharing a V block run in turn, U[xi] is read once per tile
 * block: for Kp <= Tg), else (Tg / (16 NT), nkb * 16 / NK, 36). */
#define WG_GEMM_KERNEL(NAME, NT, TL, NK, KL)                                  \
__kernel void NAME(global const float *v, global const float *u,             \
                   global float *m, ulong m_off, int C, int Tv, int Tg,       \
                   int nkb, int kfast)                                        \
{                                                                             \
    int g0 = get_global_id(0), g1 = get_global_id(1);                         \
    int k0 = (kfast ? g0 : g1) * NK, t0 = (kfast ? g1 : g0) * (16 * NT),      \
        xi = get_global_id(2);                                                \
    if (t0 >= Tg || k0 >= nkb * 16)                                           \
        return;                                                               \
    global const float *vp = v + (ulong)xi * WG_PSTRIDE((ulong)C * Tv) + t0;  \
    global const float *up = u + (((ulong)xi * nkb + k0 / 16) * C) * 16 +    \
                             k0 % 16;                                         \
    TL(WG_DECL, KL)                                                           \
    for (int c = 0; c < C; c++) {                                             \
        TL(WG_VLOAD, 0)                                                       \
        TL(WG_STEP, KL)                                                       \
        vp += Tv;                                                             \
        up += 16;                                                             \
    }                                                                         \
    global float *mp = m + m_off +                                            \
                       (ulong)xi * WG_PSTRIDE((ulong)nkb * 16 * Tv) +         \
                       (ulong)k0 * Tv + t0;                                   \
    TL(WG_ST, KL)                                                             \
}

WG_GEMM_KERNEL(cd_wino_gemm16x16, 1, WG_T1, 16, WG_K16)
WG_GEMM_KERNEL(cd_wino_gemm32x8, 2, WG_T2, 8, WG_K8)

/* Y = A^T M A for every tile of output channel k of sample n, 16 tiles
 * of a tile row (lanes) at a time, then act(Y + bias + residual) into dst
 * (N, K, OH, OW): the 4 columns of a tile row's outputs are interleaved
 * into 64 consecutive floats of an output row. m (36, Kp, Tv) from float
 * m_off. gws = (K, N). */
__kernel void cd_wino_out(global const float *m, ulong m_off,
                          global const float *wp, ulong b_off, int has_bias,
                          global const float *res, ulong res_off,
                          int has_res, global float *dst, ulong dst_off,
                          int K, int OH, int OW, int ntx, int nty, int Tv,
                          int Kp, int act, float alpha, float beta)
{
    int k = get_global_id(0), n = get_global_id(1);
    if (k >= K)
        return;
    ulong xs = WG_PSTRIDE((ulong)Kp * Tv);
    float bias = has_bias ? wp[b_off + k] : 0.0f;
    ulong o = ((ulong)n * K + k) * OH * OW;
    global const float *mk = m + m_off + (ulong)k * Tv;
    for (int ty = 0; ty < nty; ty++) {
        for (int tx0 = 0; tx0 < ntx; tx0 += 16) {
            global const float *mp = mk + ((ulong)n * nty + ty) * ntx + tx0;
            float16 s[6][4];
#pragma unroll
            for (int i = 0; i < 6; i++) {
                global const float *mr = mp + (ulong)(i * 6) * xs;
                float16 z0 = vload16(0, mr), z1 = vload16(0, mr + xs),
                        z2 = vload16(0, mr + 2 * xs),
                        z3 = vload16(0, mr + 3 * xs),
                        z4 = vload16(0, mr + 4 * xs),
                        z5 = vload16(0, mr + 5 * xs);
                WG_AT(z0, z1, z2, z3, z4, z5, s[i][0], s[i][1], s[i][2],
                      s[i][3])
            }
            float16 y[4][4]; /* [output row][column within the tile] */
#pragma unroll
            for (int j = 0; j < 4; j++)
                WG_AT(s[0][j], s[1][j], s[2][j], s[3][j], s[4][j], s[5][j],
                      y[0][j], y[1][j], y[2][j], y[3][j])
            int cnt = min(64, OW - 4 * tx0);
#pragma unroll
            for (int i = 0; i < 4; i++) {
                int oy = 4 * ty + i;
                if (oy >= OH)
                    break;
                float16 al = shuffle2(y[i][0], y[i][2], WG_ZIPLO),
                        ah = shuffle2(y[i][0], y[i][2], WG_ZIPHI),
                        bl = shuffle2(y[i][1], y[i][3], WG_ZIPLO),
                        bh = shuffle2(y[i][1], y[i][3], WG_ZIPHI);
                float16 zq[4] = { shuffle2(al, bl, WG_ZIPLO),
                                  shuffle2(al, bl, WG_ZIPHI),
                                  shuffle2(ah, bh, WG_ZIPLO),
                                  shuffle2(ah, bh, WG_ZIPHI) };
                ulong ro = o + (ulong)oy * OW + 4 * tx0;
                global const float *rp = res + res_off + ro;
                global float *dp = dst + dst_off + ro;
                for (int q = 0; q < 4 && 16 * q < cnt; q++) {
                    int nq = min(16, cnt - 16 * q);
                    float16 r = zq[q] + bias;
                    if (has_res)
                        r += nq == 16 ? vload16(q, rp)
                                      : wg_load16(rp, 16 * q, cnt);
                    r = cd_act16(r, act, alpha, beta);
                    if (nq == 16)
                        vstore16(r, q, dp);
                    else
                        cd_store_part16(r, dp + 16 * q, nq);
                }
            }
        }
    }
}
