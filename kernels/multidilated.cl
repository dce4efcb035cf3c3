/* multidilated.cl — D3Net multi-dilated convolution, 1-D and 2-D (1-D as
 * H == 1): input channel slice s (Cin / nslice channels) is convolved with
 * dilation d_s and 'same' padding (d_s (k - 1) / 2 before), all slices
 * summed into one output, then act(acc + bias + residual). Register-tiled
 * like cd_conv_tile16: 8 output channels x VW output x positions of one row
 * per work-item, inputs as vectors, weights as broadcast scalars; no private
 * arrays. Helpers are prefixed md_. Must not read outside its tensors. */

#define MD_ACT_BODY                                                           \
    switch (act) {                                                            \
    case 1: return fmax(x, 0.0f);                                             \
    case 2: return fmin(fmax(x, 0.0f), 6.0f);                                 \
    case 3: return select(alpha * x, x, x >= 0.0f);                           \
    case 4: return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));         \
    case 5: return 0.5f * x * (1.0f + tanh(0.7978845608028654f *              \
                                           (x + 0.044715f * x * x * x)));     \
    case 6: return x / (1.0f + exp(-x));                                      \
    case 7: return 1.0f / (1.0f + exp(-x));                                   \
    case 8: return x * fmin(fmax(x + 3.0f, 0.0f), 6.0f) / 6.0f;               \
    case 9: return fmin(fmax(x + 3.0f, 0.0f), 6.0f) / 6.0f;                   \
    case 10: return tanh(x);                                                  \
    case 11: return fmin(fmax(x, alpha), beta);                               \
    default: return x;                                                        \
    }
static inline float16 md_act16(float16 x, int act, float alpha, float beta)
{
    MD_ACT_BODY
}
static inline float8 md_act8(float8 x, int act, float alpha, float beta)
{
    MD_ACT_BODY
}

/* Dilation of slice s from the int16 argument (no dynamic vector index). */
static inline int md_pick(int16 v, int s)
{
    switch (s) {
    case 0: return v.s0;   case 1: return v.s1;   case 2: return v.s2;
    case 3: return v.s3;   case 4: return v.s4;   case 5: return v.s5;
    case 6: return v.s6;   case 7: return v.s7;   case 8: return v.s8;
    case 9: return v.s9;   case 10: return v.sa;  case 11: return v.sb;
    case 12: return v.sc;  case 13: return v.sd;  case 14: return v.se;
    default: return v.sf;
    }
}

#define MD_LANES16 (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define MD_LANES8 (int8)(0, 1, 2, 3, 4, 5, 6, 7)

/* lane l = row[ix + l * sx], 0 outside [0, W) (gathered, clamped). */
static inline float16 md_gather16(global const float *row, int ix, int sx,
                                  int W)
{
    int16 x = ix + MD_LANES16 * sx;
    int16 c = clamp(x, 0, W - 1);
    float16 v = (float16)(row[c.s0], row[c.s1], row[c.s2], row[c.s3],
                          row[c.s4], row[c.s5], row[c.s6], row[c.s7],
                          row[c.s8], row[c.s9], row[c.sa], row[c.sb],
                          row[c.sc], row[c.sd], row[c.se], row[c.sf]);
    return select((float16)0.0f, v, x >= 0 && x < W);
}
static inline float8 md_gather8(global const float *row, int ix, int sx,
                                int W)
{
    int8 x = ix + MD_LANES8 * sx;
    int8 c = clamp(x, 0, W - 1);
    float8 v = (float8)(row[c.s0], row[c.s1], row[c.s2], row[c.s3],
                        row[c.s4], row[c.s5], row[c.s6], row[c.s7]);
    return select((float8)0.0f, v, x >= 0 && x < W);
}

/* In-bounds vector loads at stride 1 or 2. */
static inline float16 md_load16(global const float *p, int sx)
{
    if (sx == 1)
        return vload16(0, p);
    return (float16)(vload16(0, p).even, vload16(0, p + 16).even);
}
static inline float8 md_load8(global const float *p, int sx)
{
    if (sx == 1)
        return vload8(0, p);
    return (float8)(vload8(0, p).even, vload8(0, p + 8).even);
}

/* Border load of one row: a masked vector load when the loaded window
 * [rel, rel + span] lies inside the sample [0, hi), else a gather. */
static inline float16 md_bload16(global const float *row, int ix, int sx,
                                 int W, long rel, long hi)
{
    int16 x = ix + MD_LANES16 * sx;
    if (sx <= 2 && rel >= 0 && rel + 16 * sx - 1 < hi)
        return select((float16)0.0f, md_load16(row + ix, sx),
                      x >= 0 && x < W);
    return md_gather16(row, ix, sx, W);
}
static inline float8 md_bload8(global const float *row, int ix, int sx,
                               int W, long rel, long hi)
{
    int8 x = ix + MD_LANES8 * sx;
    if (sx <= 2 && rel >= 0 && rel + 8 * sx - 1 < hi)
        return select((float8)0.0f, md_load8(row + ix, sx),
                      x >= 0 && x < W);
    return md_gather8(row, ix, sx, W);
}

/* + residual, activation, store of the first n lanes of r. */
#define MD_PART(i, p, r) if (n > i) p[i] = r;
#define MD_OUT_FN(NAME, VT, VW, VLOAD, VSTORE, GATHERV, ACTV)                 \
static inline void NAME(VT r, global const float *res, int has_res,           \
                        global float *dst, int n, int act, float alpha,       \
                        float beta)                                           \
{                                                                             \
    if (has_res)                                                              \
        r += n == VW ? VLOAD(0, res) : GATHERV(res, 0, 1, n);                 \
    r = ACTV(r, act, alpha, beta);                                            \
    if (n == VW) {                                                            \
        VSTORE(r, 0, dst);                                                    \
        return;                                                               \
    }                                                                         \
    MD_PART(0, dst, r.s0) MD_PART(1, dst, r.s1) MD_PART(2, dst, r.s2)         \
    MD_PART(3, dst, r.s3) MD_PART(4, dst, r.s4) MD_PART(5, dst, r.s5)         \
    MD_PART(6, dst, r.s6)                                                     \
    MD_TAIL##VW(dst, r)                                                       \
}
#define MD_TAIL8(dst, r)
#define MD_TAIL16(dst, r)                                                     \
    MD_PART(7, dst, r.s7) MD_PART(8, dst, r.s8) MD_PART(9, dst, r.s9)         \
    MD_PART(10, dst, r.sa) MD_PART(11, dst, r.sb) MD_PART(12, dst, r.sc)      \
    MD_PART(13, dst, r.sd) MD_PART(14, dst, r.se)
MD_OUT_FN(md_out16, float16, 16, vload16, vstore16, md_gather16, md_act16)
MD_OUT_FN(md_out8, float8, 8, vload8, vstore8, md_gather8, md_act8)

#define MD_CO8(X, A) X(0, A) X(1, A) X(2, A) X(3, A) X(4, A) X(5, A)         \
                     X(6, A) X(7, A)
#define MD_DECL(j, VT)                                                        \
    int wo##j = min(j, nco - 1) * wco;                                        \
    VT acc##j = (VT)0.0f;
#define MD_FMA(j, VT) acc##j = fma((VT)wr[wo##j + kx], v, acc##j);
#define MD_STORE(j, OUTF)                                                     \
    if (j < nco) {                                                            \
        ulong o = b * out_n + ((ulong)(co0 + j) * OH + oy) * OW + ox0;        \
        OUTF(acc##j + (has_bias ? bias[co0 + j] : 0.0f), res + res_off + o,   \
             has_res, dst + dst_off + o, n, act, alpha, beta);                \
    }

/* in is (N, Cin, H, W), weight (Cout, Cin, KH, KW), out and residual
 * (N, Cout, OH, OW); dils holds nslice dilations. gws = (ceil(OW/VW) * OH,
 * ceil(Cout/8), N). */
#define MD_KERNEL(NAME, VT, VW, LOADV, BLOADV, OUTF)                         \
__kernel void NAME(global const float *src, ulong src_off,                    \
                   global const float *wp, ulong w_off, ulong b_off,          \
                   int has_bias, global const float *res, ulong res_off,      \
                   int has_res, global float *dst, ulong dst_off,             \
                   int Cin, int H, int W, int Cout, int OH, int OW,           \
                   int KH, int KW, int sy, int sx, int nslice, int act,       \
                   float alpha, float beta, int16 dils)                       \
{                                                                             \
    int ntx = (OW + VW - 1) / VW;                                             \
    int t0 = get_global_id(0), ct = get_global_id(1), b = get_global_id(2);   \
    int oy = t0 / ntx, ox0 = (t0 % ntx) * VW;                                 \
    int co0 = ct * 8;                                                         \
    if (oy >= OH || co0 >= Cout)                                              \
        return;                                                               \
    int nco = min(8, Cout - co0);                                             \
    ulong in_n = (ulong)Cin * H * W, out_n = (ulong)Cout * OH * OW;           \
    global const float *in = src + src_off + b * in_n;                        \
    int wco = Cin * KH * KW, cs = Cin / nslice;                               \
    global const float *wt = wp + w_off + (ulong)co0 * wco;                   \
    MD_CO8(MD_DECL, VT)                                                       \
    for (int s = 0; s < nslice; s++) {                                        \
        int d = md_pick(dils, s);                                             \
        int ix0 = ox0 * sx - d * (KW - 1) / 2;                                \
        int iyb = oy * sy - d * (KH - 1) / 2;                                 \
        int span = (sx <= 2 ? VW * sx - 1 : (VW - 1) * sx) + (KW - 1) * d;    \
        bool xfast = ix0 >= 0 && ix0 + span < W && sx <= 2;                   \
        for (int ci = s * cs; ci < (s + 1) * cs; ci++) {                      \
            for (int ky = 0; ky < KH; ky++) {                                 \
                int iy = iyb + ky * d;                                        \
                if (iy < 0 || iy >= H)                                        \
                    continue;                                                 \
                global const float *row = in + ((ulong)ci * H + iy) * W;      \
                global const float *wr = wt + (ci * KH + ky) * KW;            \
                if (xfast) {                                                  \
                    for (int kx = 0; kx < KW; kx++) {                         \
                        VT v = LOADV(row + ix0 + kx * d, sx);                 \
                        MD_CO8(MD_FMA, VT)                                    \
                    }                                                         \
                } else {                                                      \
                    long rrow = ((long)ci * H + iy) * W;                      \
                    for (int kx = 0; kx < KW; kx++) {                         \
                        int ix = ix0 + kx * d;                                \
                        VT v = BLOADV(row, ix, sx, W, rrow + ix, (long)in_n); \
                        MD_CO8(MD_FMA, VT)                                    \
                    }                                                         \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }                                                                         \
    global const float *bias = wp + b_off;                                    \
    int n = min(VW, OW - ox0);                                                \
    MD_CO8(MD_STORE, OUTF)                                                    \
}

MD_KERNEL(cd_multidilated_conv, float16, 16, md_load16, md_bload16, md_out16)
MD_KERNEL(cd_multidilated_conv8, float8, 8, md_load8, md_bload8, md_out8)
