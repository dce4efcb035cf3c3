/* dynamic.cl — dynamic_dwconv: depthwise cross-correlation whose kernel is
 * an activation (one KH x KW kernel per sample and channel, computed by the
 * network, ATConv-style). Vectorised along x: each work-item computes 16
 * consecutive outputs of 4 output rows. Helpers are prefixed dyn_ (one
 * program holds every kernel file). Must not read outside its tensors. */

#define DYN_LANES16 (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/* lane l = row[ix + l * sx], 0 outside [0, W). */
static inline float16 dyn_gather16(global const float *row, int ix, int sx,
                                   int W)
{
    int16 x = ix + DYN_LANES16 * sx;
    int16 c = clamp(x, 0, W - 1);
    float16 v = (float16)(row[c.s0], row[c.s1], row[c.s2], row[c.s3],
                          row[c.s4], row[c.s5], row[c.s6], row[c.s7],
                          row[c.s8], row[c.s9], row[c.sa], row[c.sb],
                          row[c.sc], row[c.sd], row[c.se], row[c.sf]);
    return select((float16)0.0f, v, x >= 0 && x < W);
}

/* dyn_vload16: lanes row[l * sx] for sx 1 or 2 (window inside the row).
 * dyn_bload16 (borders): lane l = row[ix + l * sx], 0 outside [0, W); when
 * the loaded window lies inside the tensor (rel = offset of row + ix from
 * the plane start, lo <= rel, rel + span < hi) a vector load and a lane
 * mask, else a gather. The kernel picks between them at the call site:
 * one helper with both paths ran 3x slower on POCL. */
static inline float16 dyn_vload16(global const float *p, int sx)
{
    if (sx == 1)
        return vload16(0, p);
    return (float16)(vload16(0, p).even, vload16(0, p + 16).even);
}
static inline float16 dyn_bload16(global const float *row, int ix, int sx,
                                  int W, long rel, long lo, long hi)
{
    if (sx <= 2 && rel >= lo && rel + 16 * sx - 1 < hi) {
        int16 x = ix + DYN_LANES16 * sx;
        return select((float16)0.0f, dyn_vload16(row + ix, sx),
                      x >= 0 && x < W);
    }
    return dyn_gather16(row, ix, sx, W);
}

/* First n (<= 16) lanes of v to p. */
static inline void dyn_store16(float16 v, global float *p, int n)
{
    if (n >= 16) {
        vstore16(v, 0, p);
        return;
    }
    if (n > 0) p[0] = v.s0;
    if (n > 1) p[1] = v.s1;
    if (n > 2) p[2] = v.s2;
    if (n > 3) p[3] = v.s3;
    if (n > 4) p[4] = v.s4;
    if (n > 5) p[5] = v.s5;
    if (n > 6) p[6] = v.s6;
    if (n > 7) p[7] = v.s7;
    if (n > 8) p[8] = v.s8;
    if (n > 9) p[9] = v.s9;
    if (n > 10) p[10] = v.sa;
    if (n > 11) p[11] = v.sb;
    if (n > 12) p[12] = v.sc;
    if (n > 13) p[13] = v.sd;
    if (n > 14) p[14] = v.se;
}

/* Four output rows per work-item, without private arrays. */
#define DYN_R4(M, A) M(0, A) M(1, A) M(2, A) M(3, A)
#define DYN_DECL(r, u)                                                        \
    float16 acc##r = (float16)0.0f;                                           \
    bool ok##r = oy0 + r < OH;
/* stride-1 rows: input row t feeds output row r through kernel row t - r */
#define DYN_USEDECL(r, u)                                                     \
    bool use##r = ok##r && t - r >= 0 && t - r < KH;                          \
    global const float *wu##r = kw + (t - r) * KW;
#define DYN_USE(r, u)                                                         \
    if (use##r)                                                               \
        acc##r = fma((float16)wu##r[kx], v, acc##r);
/* general rows: output row r reads input row (oy0 + r) * sy - py + ky * dy */
#define DYN_ROW(r, u)                                                         \
    {                                                                         \
        int iy = (oy0 + r) * sy - py + ky * dy;                               \
        if (ok##r && iy >= 0 && iy < H) {                                     \
            global const float *row = in + (long)iy * W;                      \
            for (int kx = 0; kx < KW; kx++) {                                 \
                int ix = ix0 + kx * dx;                                       \
                float16 v = fast ? dyn_vload16(row + ix, sx)                \
                           : dyn_bload16(row, ix, sx, W, (long)iy * W + ix, \
                                         lo, hi);            \
                acc##r = fma((float16)wr[kx], v, acc##r);                     \
            }                                                                 \
        }                                                                     \
    }
#define DYN_OUT(r, u)                                                         \
    if (ok##r)                                                                \
        dyn_store16(acc##r + bv, o + r * OW, n);

/* x (N, C, H, W), kern (N, C, KH, KW) at k_off in the arena, bias (C) in the
 * weight pool, out (N, C, OH, OW). gws = (ceil(OW/16) * ceil(OH/4), C, N):
 * each work-item computes 16 outputs along x of 4 output rows. */
__kernel void cd_dynamic_dwconv(global const float *src, ulong src_off,
                                global const float *kbuf, ulong k_off,
                                global const float *wp, ulong b_off,
                                int has_bias, global float *dst,
                                ulong dst_off, int C, int H, int W, int OH,
                                int OW, int KH, int KW, int sy, int sx,
                                int dy, int dx, int py, int px)
{
    int ntx = (OW + 15) / 16;
    int t0 = get_global_id(0), c = get_global_id(1), b = get_global_id(2);
    int oy0 = (t0 / ntx) * 4, ox0 = (t0 % ntx) * 16;
    if (oy0 >= OH)
        return;
    global const float *in = src + src_off + ((ulong)b * C + c) * H * W;
    global const float *kw = kbuf + k_off + ((ulong)b * C + c) * KH * KW;
    int ix0 = ox0 * sx - px;
    int span = (sx == 1 ? 15 : 31) + (KW - 1) * dx;
    bool fast = sx <= 2 && ix0 >= 0 && ix0 + span < W;
    long lo = -(long)c * H * W, hi = (long)C * H * W + lo;
    DYN_R4(DYN_DECL, 0)
    if (sy == 1 && dy == 1) {
        /* each input row loaded once, used by up to 4 output rows */
        for (int t = 0; t < KH + 3; t++) {
            int iy = oy0 - py + t;
            if (iy < 0 || iy >= H)
                continue;
            DYN_R4(DYN_USEDECL, 0)
            global const float *row = in + (long)iy * W;
            for (int kx = 0; kx < KW; kx++) {
                int ix = ix0 + kx * dx;
                float16 v = fast ? dyn_vload16(row + ix, sx)
                                 : dyn_bload16(row, ix, sx, W,
                                               (long)iy * W + ix, lo, hi);
                DYN_R4(DYN_USE, 0)
            }
        }
    } else {
        for (int ky = 0; ky < KH; ky++) {
            global const float *wr = kw + ky * KW;
            DYN_R4(DYN_ROW, 0)
        }
    }
    float bv = has_bias ? wp[b_off + c] : 0.0f;
    int n = min(16, OW - ox0);
    global float *o = dst + dst_off + (((ulong)b * C + c) * OH + oy0) * OW + ox0;
    DYN_R4(DYN_OUT, 0)
}
