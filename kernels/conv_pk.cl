/* conv_pk.cl — 2-D (and 1-D, 1x1) convolution on NCHW activations with the
 * weights pre-packed at load into blocks of 16 output channels
 * (cd_conv_pack16), vectorised over output channels: each work-item keeps a
 * register tile of P output x positions of one output row times NV vectors
 * of 16 output channels (P * NV float16 accumulators); per tap it loads NV
 * weight vectors and broadcasts P input scalars straight from memory, so
 * every FMA is a 512-bit one with an embedded broadcast. Fused epilogue
 * act(acc + bias + residual). Must not read outside the tensors it is
 * given: border tiles load through per-position bounds tests. */

/* Packed weights: wpk is (groups, ncb, cig, KH * KW, 16) with ncb =
 * ceil(cog / 16), then `tail` zero floats (so a work-item whose last
 * co-vectors lie past the end reads zeros, not past the buffer); channel
 * co = cb * 16 + l of group g, zero for co >= cog. w is (Cout, cig, KH,
 * KW). gws = (groups * ncb * cig * KH * KW * 16 + tail). */
__kernel void cd_conv_pack16(global const float *w, ulong w_off,
                             global float *wpk, int cog, int cig, int kk,
                             int ncb, int groups, int tail)
{
    size_t i = get_global_id(0);
    size_t n = (size_t)groups * ncb * cig * kk * 16;
    if (i >= n + tail)
        return;
    if (i >= n) {
        wpk[i] = 0.0f;
        return;
    }
    int l = i % 16;
    size_t r = i / 16;
    int t = r % kk;
    r /= kk;
    int ci = r % cig;
    r /= cig;
    int cb = r % ncb, g = r / ncb;
    int co = cb * 16 + l;
    wpk[i] = co < cog
                 ? w[w_off + (((size_t)g * cog + co) * cig + ci) * kk + t]
                 : 0.0f;
}

/* dst (N, C, Hp, Wp) = src (N, C, H, W) at row py, column px of zeros
 * (rows/columns of src past Hp/Wp are dropped: the conv never reads them).
 * Lets the packed kernels run every tile through their interior path.
 * gws = (Hp, C, N): one padded row per work-item. */
__kernel void cd_conv_pad2d(global const float *src, ulong src_off,
                            global float *dst, int C, int H, int W, int Hp,
                            int Wp, int py, int px)
{
    int y = get_global_id(0), c = get_global_id(1), b = get_global_id(2);
    if (y >= Hp)
        return;
    global float *d = dst + (((ulong)b * C + c) * Hp + y) * Wp;
    int iy = y - py;
    bool rok = iy >= 0 && iy < H;
    global const float *row =
        src + src_off + (((ulong)b * C + c) * H + (rok ? iy : 0)) * W;
    for (int x = 0; x < Wp; x += 16) {
        float16 v = rok ? cd_sload16(row, x - px, 1, W) : (float16)0.0f;
        int n = min(16, Wp - x);
        if (n == 16)
            vstore16(v, 0, d + x);
        else
            cd_store_part16(v, d + x, n);
    }
}

/* Epilogue of one accumulator: lanes are output channels co0 .. co0 + n - 1
 * (n <= 16) at one output position; dst/res point at channel co0's element,
 * channel stride cs floats. */
#define PK_LANES(X)                                                           \
    X(0, s0) X(1, s1) X(2, s2) X(3, s3) X(4, s4) X(5, s5) X(6, s6) X(7, s7)   \
    X(8, s8) X(9, s9) X(10, sa) X(11, sb) X(12, sc) X(13, sd) X(14, se)       \
    X(15, sf)
#define PK_RES_LANE(l, s) r.s += l < n ? res[(ulong)l * cs] : 0.0f;
#define PK_ST_LANE(l, s)                                                      \
    if (l < n)                                                                \
        dst[(ulong)l * cs] = r.s;
static inline void pk_out16(float16 r, float16 bias, global const float *res,
                            int has_res, global float *dst, ulong cs, int n,
                            int act, float alpha, float beta)
{
    r += bias;
    if (has_res) {
        PK_LANES(PK_RES_LANE)
    }
    r = cd_act16(r, act, alpha, beta);
    PK_LANES(PK_ST_LANE)
}

/* Bias lanes co0 .. co0 + n - 1 (0 past n or without bias). */
static inline float16 pk_bias16(global const float *b, int has_bias, int n)
{
    if (!has_bias)
        return (float16)0.0f;
    if (n >= 16)
        return vload16(0, b);
    return cd_gather16(b, 0, 1, n);
}

/* Position lists (P = 7, 8, 12, 14, 16) and co-vector lists (NV = 1..4). */
#define PK_P7(X, A) X(0, A) X(1, A) X(2, A) X(3, A) X(4, A) X(5, A) X(6, A)
#define PK_P8(X, A) PK_P7(X, A) X(7, A)
#define PK_P12(X, A) PK_P8(X, A) X(8, A) X(9, A) X(10, A) X(11, A)
#define PK_P14(X, A) PK_P12(X, A) X(12, A) X(13, A)
#define PK_P16(X, A) PK_P14(X, A) X(14, A) X(15, A)
#define PK_V1(Y, p) Y(0, p)
#define PK_V2(Y, p) Y(0, p) Y(1, p)
#define PK_V3(Y, p) Y(0, p) Y(1, p) Y(2, p)
#define PK_V4(Y, p) Y(0, p) Y(1, p) Y(2, p) Y(3, p)

#define PK_DECL1(v, p) float16 a##p##_##v = (float16)0.0f;
#define PK_DECL(p, VL) VL(PK_DECL1, p)
#define PK_WLOAD(v, unused) float16 w##v = vload16(0, wk + v * vstride);
#define PK_FMA1(v, p) a##p##_##v = fma(xb, w##v, a##p##_##v);
/* interior: the broadcast is a plain load at a constant offset */
#define PK_STEP(p, VL)                                                        \
    {                                                                         \
        float16 xb = (float16)xr[(p) * pks];                                    \
        VL(PK_FMA1, p)                                                        \
    }
/* border: the position's input column is tested (rows wider than the
 * staging buffer only) */
#define PK_BSTEP(p, VL)                                                       \
    {                                                                         \
        int ix = ixk + (p) * pks;                                             \
        float16 xb = (float16)(ix >= 0 && ix < W ? row[ix] : 0.0f);           \
        VL(PK_FMA1, p)                                                        \
    }
/* Border tiles stage the zero-padded input window of one row in a private
 * buffer first, then run the interior loop on it. */
#define PK_XBUF 64
#define PK_BIAS(v, unused)                                                    \
    float16 bv##v = pk_bias16(bias + co0 + v * 16, has_bias,                  \
                              cog - (cb0 + v) * 16);
#define PK_ST1(v, p)                                                          \
    if ((cb0 + v) * 16 < cog)                                                 \
        pk_out16(a##p##_##v, bv##v, rp + (ulong)(v * 16) * cs + (p), has_res, \
                 dp + (ulong)(v * 16) * cs + (p), cs,                         \
                 cog - (cb0 + v) * 16, act, alpha, beta);
#define PK_ST(p, VL)                                                          \
    if ((p) < nrem) {                                                         \
        VL(PK_ST1, p)                                                         \
    }

/* in is (N, Cin, H, W), out and residual (N, Cout, OH, OW); stride S (a
 * compile-time constant) along both axes, dilation (dy, dx), padding (py,
 * px). 1x1 stride-1 unpadded convolutions are passed as H = OH = 1 and
 * W = OW = the flattened spatial size. gws = (ceil(OW/P) * OH,
 * groups * ceil(ncb / NV), N) with ncb = ceil(cog / 16); each work-item:
 * output row oy, x positions ox0 .. ox0 + P - 1, channels co0 .. co0 +
 * 16 * NV - 1 of one group. */
#define PK_KERNEL(NAME, P, PL, NV, VL, S)                                     \
__kernel void NAME(global const float *src, ulong src_off,                    \
                   global const float *wpk, global const float *wp,           \
                   ulong b_off, int has_bias, global const float *res,        \
                   ulong res_off, int has_res, global float *dst,             \
                   ulong dst_off, int Cin, int H, int W, int Cout, int OH,    \
                   int OW, int KH, int KW, int dy, int dx, int py, int px,    \
                   int groups, int act, float alpha, float beta)              \
{                                                                             \
    const int pks = S; /* the stride the step macros see */                  \
    int ntx = (OW + P - 1) / P;                                               \
    int t0 = get_global_id(0), t1 = get_global_id(1), b = get_global_id(2);   \
    int oy = t0 / ntx, ox0 = (t0 % ntx) * P;                                  \
    int cog = Cout / groups, cig = Cin / groups;                              \
    int ncb = (cog + 15) / 16, nct = (ncb + NV - 1) / NV;                     \
    int g = t1 / nct, cb0 = (t1 % nct) * NV;                                  \
    if (oy >= OH || g >= groups)                                              \
        return;                                                               \
    int kk = KH * KW;                                                         \
    ulong vstride = (ulong)cig * kk * 16;                                     \
    global const float *wbase = wpk + ((ulong)g * ncb + cb0) * vstride;       \
    ulong in_n = (ulong)Cin * H * W;                                          \
    global const float *in = src + src_off + b * in_n +                       \
                             (ulong)g * cig * H * W;                          \
    PL(PK_DECL, VL)                                                           \
    int ix0 = ox0 * S - px;                                                   \
    int xspan = (P - 1) * S + (KW - 1) * dx + 1;                              \
    bool xfast = ix0 >= 0 && ix0 + xspan <= W;                                \
    bool xstage = xspan <= PK_XBUF;                                           \
    float xbuf[PK_XBUF];                                                      \
    long lo = -(long)g * cig * H * W, hi = (long)in_n + lo;                   \
    int iyb = oy * S - py;                                                    \
    for (int ci = 0; ci < cig; ci++) {                                        \
        for (int ky = 0; ky < KH; ky++) {                                     \
            int iy = iyb + ky * dy;                                           \
            if (iy < 0 || iy >= H)                                            \
                continue;                                                     \
            global const float *row = in + ((ulong)ci * H + iy) * W;          \
            global const float *wk = wbase + ((ulong)ci * kk + ky * KW) * 16; \
            if (xfast) {                                                      \
                global const float *xr = row + ix0;                           \
                for (int kx = 0; kx < KW; kx++) {                             \
                    VL(PK_WLOAD, 0)                                           \
                    PL(PK_STEP, VL)                                           \
                    xr += dx;                                                 \
                    wk += 16;                                                 \
                }                                                             \
            } else if (xstage) {                                              \
                long rel = ((long)ci * H + iy) * W + ix0;                     \
                for (int i = 0; i < xspan; i += 16)                           \
                    vstore16(cd_bload16(row, ix0 + i, 1, W, rel + i, lo, hi), \
                             0, xbuf + i);                                    \
                private const float *xr = xbuf;                               \
                for (int kx = 0; kx < KW; kx++) {                             \
                    VL(PK_WLOAD, 0)                                           \
                    PL(PK_STEP, VL)                                           \
                    xr += dx;                                                 \
                    wk += 16;                                                 \
                }                                                             \
            } else {                                                          \
                for (int kx = 0; kx < KW; kx++) {                             \
                    int ixk = ix0 + kx * dx;                                  \
                    VL(PK_WLOAD, 0)                                           \
                    PL(PK_BSTEP, VL)                                          \
                    wk += 16;                                                 \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }                                                                         \
    int co0 = g * cog + cb0 * 16;                                             \
    ulong cs = (ulong)OH * OW;                                                \
    ulong o = (ulong)b * Cout * cs + (ulong)co0 * cs + (ulong)oy * OW + ox0;  \
    global const float *bias = wp + b_off;                                    \
    global const float *rp = res + res_off + o;                               \
    global float *dp = dst + dst_off + o;                                     \
    int nrem = min(P, OW - ox0);                                              \
    VL(PK_BIAS, 0)                                                            \
    PL(PK_ST, VL)                                                             \
}

PK_KERNEL(cd_conv_pk14x2_s1, 14, PK_P14, 2, PK_V2, 1)
PK_KERNEL(cd_conv_pk14x2_s2, 14, PK_P14, 2, PK_V2, 2)
PK_KERNEL(cd_conv_pk7x4_s1, 7, PK_P7, 4, PK_V4, 1)
PK_KERNEL(cd_conv_pk7x4_s2, 7, PK_P7, 4, PK_V4, 2)
PK_KERNEL(cd_conv_pk8x3_s1, 8, PK_P8, 3, PK_V3, 1)
PK_KERNEL(cd_conv_pk8x3_s2, 8, PK_P8, 3, PK_V3, 2)
PK_KERNEL(cd_conv_pk16x1_s1, 16, PK_P16, 1, PK_V1, 1)
PK_KERNEL(cd_conv_pk12x2_s1, 12, PK_P12, 2, PK_V2, 1)
