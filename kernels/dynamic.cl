/* dynamic.cl — dynamic_dwconv: depthwise cross-correlation whose kernel is
 * an activation (one KH x KW kernel per sample and channel, computed by the
 * network, ATConv-style). Vectorised along x: each work-item computes 16
 * consecutive outputs of 4 output rows. Vector loads come from common.cl;
 * local helpers are prefixed dyn_. Must not read outside its tensors. */

/* Loads: cd_load16 (window inside the row) or cd_bload16 (borders) from
 * common.cl. The kernel picks between them at the call site: one helper
 * with both paths ran 3x slower on POCL. */

/* First n (<= 16) lanes of v to p. */
static inline void dyn_store16(float16 v, global float *p, int n)
{
    if (n >= 16) {
        vstore16(v, 0, p);
        return;
    }
    cd_store_part16(v, p, n);
}

/* Four output rows per work-item, without private arrays. */
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
                float16 v = fast ? cd_load16(row + ix, sx)                    \
                           : cd_bload16(row, ix, sx, W, (long)iy * W + ix,    \
                                         lo, hi);                             \
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
    CD_R4(DYN_DECL, 0)
    if (sy == 1 && dy == 1) {
        /* each input row loaded once, used by up to 4 output rows */
        for (int t = 0; t < KH + 3; t++) {
            int iy = oy0 - py + t;
            if (iy < 0 || iy >= H)
                continue;
            CD_R4(DYN_USEDECL, 0)
            global const float *row = in + (long)iy * W;
            for (int kx = 0; kx < KW; kx++) {
                int ix = ix0 + kx * dx;
                float16 v = fast ? cd_load16(row + ix, sx)
                                 : cd_bload16(row, ix, sx, W,
                                               (long)iy * W + ix, lo, hi);
                CD_R4(DYN_USE, 0)
            }
        }
    } else {
        for (int ky = 0; ky < KH; ky++) {
            global const float *wr = kw + ky * KW;
            CD_R4(DYN_ROW, 0)
        }
    }
    float bv = has_bias ? wp[b_off + c] : 0.0f;
    int n = min(16, OW - ox0);
    global float *o = dst + dst_off + (((ulong)b * C + c) * OH + oy0) * OW + ox0;
    CD_R4(DYN_OUT, 0)
}
