/* conv.cl — convolution kernels: register-tiled direct kernels for 1-D/2-D
 * (8 output channels x 16 output positions per work-item: 16 of one row, or
 * 8 of two rows when rows are narrow), a depthwise kernel (vectors along x,
 * 4 output rows per work-item), and a generic one-output-per-work-item
 * fallback (any rank up to 3-D, any stride/dilation/groups). Fused epilogue
 * act(acc + bias + residual). Every tensor is (buffer, offset in floats);
 * activation sample b lives at off + b * per-sample numel. Vector loads,
 * activation and epilogue helpers (cd_load16, cd_bload16, cd_out16, ...)
 * come from common.cl; local macros are prefixed CONV_. Must not read
 * outside the tensors it is given. */

/* Register-tiled direct convolution, 2-D (1-D as H == 1).
 * in is (N, Cin, H, W), weight (Cout, Cin/groups, KH, KW), out and residual
 * (N, Cout, OH, OW). gws = (ceil(OW/VW) * OH, groups * ceil(Cout_g/8), N).
 * Each work-item: 8 output channels of one group x VW output x positions of
 * one output row. Inputs load as vectors (in range: vload; at borders: a
 * masked vload, or a gather), weights as broadcast scalars. */
#define CONV_TILE_KERNEL(NAME, VT, VW, LOADV, BLOADV, OUTF)                   \
__kernel void NAME(global const float *src, ulong src_off,                    \
                   global const float *wp, ulong w_off, ulong b_off,          \
                   int has_bias, global const float *res, ulong res_off,      \
                   int has_res, global float *dst, ulong dst_off,             \
                   int Cin, int H, int W, int Cout, int OH, int OW,           \
                   int KH, int KW, int sy, int sx, int dy, int dx, int py,    \
                   int px, int groups, int act, float alpha, float beta)      \
{                                                                             \
    int ntx = (OW + VW - 1) / VW;                                             \
    int t0 = get_global_id(0), t1 = get_global_id(1), b = get_global_id(2);   \
    int oy = t0 / ntx, ox0 = (t0 % ntx) * VW;                                 \
    int cog = Cout / groups, cig = Cin / groups;                              \
    int ntc = (cog + 7) / 8;                                                  \
    int g = t1 / ntc, ct = t1 % ntc;                                          \
    if (oy >= OH || g >= groups)                                              \
        return;                                                               \
    int co0 = g * cog + ct * 8;                                               \
    int nco = min(8, cog - ct * 8);                                           \
    ulong in_n = (ulong)Cin * H * W, out_n = (ulong)Cout * OH * OW;           \
    global const float *in = src + src_off + b * in_n +                       \
                             (ulong)g * cig * H * W;                          \
    int wco = cig * KH * KW;                                                  \
    global const float *wt = wp + w_off + (ulong)co0 * wco;                   \
    CD_CO8(CD_TDECL, VT)                                                      \
    int ix0 = ox0 * sx - px;                                                  \
    int span = (sx <= 2 ? VW * sx - 1 : (VW - 1) * sx) + (KW - 1) * dx;       \
    bool xfast = ix0 >= 0 && ix0 + span < W && sx <= 2;                       \
    long lo = -(long)g * cig * H * W, hi = (long)in_n + lo;                   \
    int iyb = oy * sy - py;                                                   \
    for (int ci = 0; ci < cig; ci++) {                                        \
        for (int ky = 0; ky < KH; ky++) {                                     \
            int iy = iyb + ky * dy;                                           \
            if (iy < 0 || iy >= H)                                            \
                continue;                                                     \
            global const float *row = in + ((ulong)ci * H + iy) * W;          \
            global const float *wr = wt + (ci * KH + ky) * KW;                \
            if (xfast) {                                                      \
                for (int kx = 0; kx < KW; kx++) {                             \
                    VT v = LOADV(row + ix0 + kx * dx, sx);                    \
                    CD_CO8(CD_TFMA, VT)                                       \
                }                                                             \
            } else {                                                          \
                long rrow = ((long)ci * H + iy) * W;                          \
                for (int kx = 0; kx < KW; kx++) {                             \
                    int ix = ix0 + kx * dx;                                   \
                    VT v = BLOADV(row, ix, sx, W, rrow + ix, lo, hi);         \
                    CD_CO8(CD_TFMA, VT)                                       \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }                                                                         \
    global const float *bias = wp + b_off;                                    \
    int n = min(VW, OW - ox0);                                                \
    CD_CO8(CD_TOUT, OUTF)                                                     \
}

CONV_TILE_KERNEL(cd_conv_tile16, float16, 16, cd_load16, cd_bload16,
                 cd_out16)

/* The tiled kernel for narrow rows: the 16 lanes are 8 output x positions of
 * 2 consecutive output rows. gws = (ceil(OW/8) * ceil(OH/2),
 * groups * ceil(Cout_g/8), N); arguments as cd_conv_tile16. */
#define CONV_T2OUT(j, unused)                                                 \
    if (j < nco) {                                                            \
        float bj = has_bias ? bias[co0 + j] : 0.0f;                           \
        ulong o = b * out_n + ((ulong)(co0 + j) * OH + oy) * OW + ox0;        \
        cd_out8(acc##j.lo + bj, res + res_off + o, has_res,                   \
                  dst + dst_off + o, n, act, alpha, beta);                    \
        if (oy + 1 < OH)                                                      \
            cd_out8(acc##j.hi + bj, res + res_off + o + OW, has_res,          \
                      dst + dst_off + o + OW, n, act, alpha, beta);           \
    }
__kernel void cd_conv_tile2x8(global const float *src, ulong src_off,
                              global const float *wp, ulong w_off,
                              ulong b_off, int has_bias,
                              global const float *res, ulong res_off,
                              int has_res, global float *dst, ulong dst_off,
                              int Cin, int H, int W, int Cout, int OH, int OW,
                              int KH, int KW, int sy, int sx, int dy, int dx,
                              int py, int px, int groups, int act,
                              float alpha, float beta)
{
    int ntx = (OW + 7) / 8;
    int t0 = get_global_id(0), t1 = get_global_id(1), b = get_global_id(2);
    int oy = (t0 / ntx) * 2, ox0 = (t0 % ntx) * 8;
    int cog = Cout / groups, cig = Cin / groups;
    int ntc = (cog + 7) / 8;
    int g = t1 / ntc, ct = t1 % ntc;
    if (oy >= OH || g >= groups)
        return;
    int co0 = g * cog + ct * 8;
    int nco = min(8, cog - ct * 8);
    ulong in_n = (ulong)Cin * H * W, out_n = (ulong)Cout * OH * OW;
    global const float *in = src + src_off + b * in_n +
                             (ulong)g * cig * H * W;
    int wco = cig * KH * KW;
    global const float *wt = wp + w_off + (ulong)co0 * wco;
    CD_CO8(CD_TDECL, float16)
    int ix0 = ox0 * sx - px;
    int span = (sx <= 2 ? 8 * sx - 1 : 7 * sx) + (KW - 1) * dx;
    bool xfast = ix0 >= 0 && ix0 + span < W && sx <= 2;
    long lo = -(long)g * cig * H * W, hi = (long)in_n + lo;
    bool has1 = oy + 1 < OH;
    int iyb = oy * sy - py;
    for (int ci = 0; ci < cig; ci++) {
        for (int ky = 0; ky < KH; ky++) {
            int iy = iyb + ky * dy, iy1 = iy + sy;
            bool ok0 = iy >= 0 && iy < H, ok1 = has1 && iy1 >= 0 && iy1 < H;
            if (!ok0 && !ok1)
                continue;
            long r0 = ((long)ci * H + iy) * W, r1 = r0 + (long)sy * W;
            global const float *row0 = in + r0, *row1 = in + r1;
            global const float *wr = wt + (ci * KH + ky) * KW;
            if (xfast && ok0 && ok1) {
                for (int kx = 0; kx < KW; kx++) {
                    int ix = ix0 + kx * dx;
                    float16 v = (float16)(cd_load8(row0 + ix, sx),
                                          cd_load8(row1 + ix, sx));
                    CD_CO8(CD_TFMA, float16)
                }
            } else {
                for (int kx = 0; kx < KW; kx++) {
                    int ix = ix0 + kx * dx;
                    float8 h0 = ok0 ? cd_bload8(row0, ix, sx, W, r0 + ix,
                                                  lo, hi) : (float8)0.0f;
                    float8 h1 = ok1 ? cd_bload8(row1, ix, sx, W, r1 + ix,
                                                  lo, hi) : (float8)0.0f;
                    float16 v = (float16)(h0, h1);
                    CD_CO8(CD_TFMA, float16)
                }
            }
        }
    }
    global const float *bias = wp + b_off;
    int n = min(8, OW - ox0);
    CD_CO8(CONV_T2OUT, 0)
}

#define CONV_DDECL(r, VT)                                                     \
    VT acc##r = (VT)0.0f;                                                     \
    int iy##r = (oy0 + r) * sy - py;                                          \
    bool ok##r = oy0 + r < OH;
#define CONV_DROW(r, VT)                                                      \
    if (ok##r && iy##r + ky * dy >= 0 && iy##r + ky * dy < H) {               \
        global const float *row = in + (ulong)(iy##r + ky * dy) * W;          \
        if (xfast) {                                                          \
            for (int kx = 0; kx < KW; kx++)                                   \
                acc##r = fma((VT)wr[kx], CONV_DW_LOAD(row + ix0 + kx * dx, sx),      \
                             acc##r);                                         \
        } else {                                                              \
            for (int kx = 0; kx < KW; kx++) {                                 \
                int ix = ix0 + kx * dx;                                       \
                VT v = CONV_DW_BLOAD(row, ix, sx, W,                          \
                                     (long)(iy##r + ky * dy) * W + ix, lo, hi); \
                acc##r = fma((VT)wr[kx], v, acc##r);                          \
            }                                                                 \
        }                                                                     \
    }
#define CONV_DUSEDECL(r, unused)                                              \
    bool use##r = ok##r && t - r >= 0 && t - r < KH;                          \
    global const float *wu##r = wt + (t - r) * KW;
#define CONV_DUSE(r, VT)                                                      \
    if (use##r)                                                               \
        acc##r = fma((VT)wu##r[kx], v, acc##r);
#define CONV_DOUT(r, OUTF)                                                    \
    if (ok##r) {                                                              \
        ulong o = b * out_n + ((ulong)c * OH + oy0 + r) * OW + ox0;           \
        OUTF(acc##r + bv, res + res_off + o, has_res, dst + dst_off + o, n,   \
             act, alpha, beta);                                               \
    }

/* Depthwise convolution (groups == Cin == Cout), loads through
 * CONV_DW_LOAD/CONV_DW_BLOAD defined around each instantiation: in/out (N, C, H, W), weight
 * (C, 1, KH, KW). gws = (ceil(OW/VW) * ceil(OH/4), C, N). Each work-item:
 * VW output x positions of 4 output rows (4 independent FMA chains). Large
 * kernels (stride 1, dilation 1, k >= 5) use cd_conv_dwlk below instead. */
#define CONV_DW_KERNEL(NAME, VT, VW, OUTF)                                    \
__kernel void NAME(global const float *src, ulong src_off,                    \
                   global const float *wp, ulong w_off, ulong b_off,          \
                   int has_bias, global const float *res, ulong res_off,      \
                   int has_res, global float *dst, ulong dst_off,             \
                   int C, int H, int W, int OH, int OW, int KH, int KW,       \
                   int sy, int sx, int dy, int dx, int py, int px, int act,   \
                   float alpha, float beta)                                   \
{                                                                             \
    int ntx = (OW + VW - 1) / VW;                                             \
    int t0 = get_global_id(0), c = get_global_id(1), b = get_global_id(2);    \
    int oy0 = (t0 / ntx) * 4, ox0 = (t0 % ntx) * VW;                          \
    if (oy0 >= OH)                                                            \
        return;                                                               \
    ulong in_n = (ulong)C * H * W, out_n = (ulong)C * OH * OW;                \
    global const float *in = src + src_off + b * in_n + (ulong)c * H * W;     \
    global const float *wt = wp + w_off + (ulong)c * KH * KW;                 \
    CD_R4(CONV_DDECL, VT)                                                     \
    int ix0 = ox0 * sx - px;                                                  \
    int span = (sx <= 2 ? VW * sx - 1 : (VW - 1) * sx) + (KW - 1) * dx;       \
    bool xfast = ix0 >= 0 && ix0 + span < W && sx <= 2;                       \
    long lo = -(long)c * H * W, hi = (long)in_n + lo;                         \
    if (sy == 1 && dy == 1) {                                                 \
        /* each input row loaded once, used by up to 4 output rows */         \
        for (int t = 0; t < KH + 3; t++) {                                    \
            int iy = oy0 - py + t;                                            \
            if (iy < 0 || iy >= H)                                            \
                continue;                                                     \
            CD_R4(CONV_DUSEDECL, 0)                                           \
            global const float *row = in + (ulong)iy * W;                     \
            for (int kx = 0; kx < KW; kx++) {                                 \
                int ix = ix0 + kx * dx;                                       \
                VT v = xfast ? CONV_DW_LOAD(row + ix, sx)                     \
                             : CONV_DW_BLOAD(row, ix, sx, W,                  \
                                             (long)iy * W + ix, lo, hi);      \
                CD_R4(CONV_DUSE, VT)                                          \
            }                                                                 \
        }                                                                     \
    } else {                                                                  \
        for (int ky = 0; ky < KH; ky++) {                                     \
            global const float *wr = wt + ky * KW;                            \
            CD_R4(CONV_DROW, VT)                                              \
        }                                                                     \
    }                                                                         \
    float bv = has_bias ? wp[b_off + c] : 0.0f;                               \
    int n = min(VW, OW - ox0);                                                \
    CD_R4(CONV_DOUT, OUTF)                                                    \
}

#define CONV_DW_LOAD cd_load16
#define CONV_DW_BLOAD cd_bload16
CONV_DW_KERNEL(cd_conv_dw16, float16, 16, cd_out16)
#undef CONV_DW_LOAD
#undef CONV_DW_BLOAD
#define CONV_DW_LOAD cd_load8
#define CONV_DW_BLOAD cd_bload8
CONV_DW_KERNEL(cd_conv_dw8, float8, 8, cd_out8)
#undef CONV_DW_LOAD
#undef CONV_DW_BLOAD

/* Large-kernel depthwise convolution (RepLKNet/UniRepLKNet sizes; stride 1,
 * dilation 1): one work-group per (block of TH output rows, channel, sample)
 * first copies the zero-padded input rows it needs into local memory (LR =
 * TH + KH - 1 rows of LC = ntx * 32 + KW - 1 floats), so the inner loop has
 * no bounds tests. Each work-item: R (4) output rows x 32 x positions (two
 * float16 per row, 2R accumulators); every input vector feeds R rows and
 * every weight 2 vectors (R = 8 measured no faster on POCL).
 * in/out (N, C, H, W), weight (C, 1, KH, KW).
 * gws = (ntx * TH/R * ceil(OH/TH), C, N), lws = (ntx * TH/R, 1, 1). */
#define CONV_LK_DECL(r, unused) float16 a##r##0 = 0.0f, a##r##1 = 0.0f;
#define CONV_LK_FMA(r, unused)                                                \
    {                                                                         \
        float16 s = (float16)w##r[kx];                                        \
        a##r##0 = fma(s, v0, a##r##0);                                        \
        a##r##1 = fma(s, v1, a##r##1);                                        \
    }
#define CONV_LK_EDGE(r, unused)                                               \
    if (t - r >= 0 && t - r < KH) {                                           \
        float16 s = (float16)wt[(t - r) * KW + kx];                           \
        a##r##0 = fma(s, v0, a##r##0);                                        \
        a##r##1 = fma(s, v1, a##r##1);                                        \
    }
#define CONV_LK_OUT(r, unused)                                                \
    if (oy0 + r < OH) {                                                       \
        ulong o = b * out_n + ((ulong)c * OH + oy0 + r) * OW + ox0;           \
        cd_out16(a##r##0 + bv, res + res_off + o, has_res,                    \
                   dst + dst_off + o, min(16, OW - ox0), act, alpha, beta);   \
        if (ox0 + 16 < OW)                                                    \
            cd_out16(a##r##1 + bv, res + res_off + o + 16, has_res,           \
                       dst + dst_off + o + 16, min(16, OW - ox0 - 16), act,   \
                       alpha, beta);                                          \
    }
#define CONV_LK_WPTR(r, unused) global const float *w##r = wb - r * KW;
#define CONV_LK_KERNEL(NAME, RX, R)                                           \
__kernel void NAME(global const float *src, ulong src_off,                    \
                           global const float *wp, ulong w_off, ulong b_off,  \
                           int has_bias, global const float *res,             \
                           ulong res_off, int has_res, global float *dst,     \
                           ulong dst_off, int C, int H, int W, int OH, int OW, \
                           int KH, int KW, int py, int px, int TH, int ntx,   \
                           int act, float alpha, float beta, local float *lds) \
{                                                                             \
    int lid = get_local_id(0), lsz = get_local_size(0);                       \
    int by = get_group_id(0), c = get_global_id(1), b = get_global_id(2);     \
    int LR = TH + KH - 1, LC = ntx * 32 + KW - 1;                             \
    ulong in_n = (ulong)C * H * W, out_n = (ulong)C * OH * OW;                \
    global const float *in = src + src_off + b * in_n + (ulong)c * H * W;     \
    int iy0 = by * TH - py;                                                   \
    for (int r = 0; r < LR; r++) {                                            \
        int iy = iy0 + r;                                                     \
        bool rok = iy >= 0 && iy < H;                                         \
        for (int i = lid; i < LC; i += lsz) {                                 \
            int ix = i - px;                                                  \
            lds[r * LC + i] = rok && ix >= 0 && ix < W                        \
                                  ? in[(ulong)iy * W + ix] : 0.0f;            \
        }                                                                     \
    }                                                                         \
    barrier(CLK_LOCAL_MEM_FENCE);                                             \
    int ty = lid / ntx, tx = lid % ntx;                                       \
    int oy0 = by * TH + ty * R, ox0 = tx * 32;                                \
    if (oy0 >= OH || ox0 >= OW)                                               \
        return;                                                               \
    global const float *wt = wp + w_off + (ulong)c * KH * KW;                 \
    local const float *base = lds + ty * R * LC + ox0;                        \
    RX(CONV_LK_DECL, 0)                                                       \
    for (int t = 0; t < KH + R - 1; t++) {                                    \
        local const float *lr = base + t * LC;                                \
        if (t >= R - 1 && t < KH) {                                           \
            global const float *wb = wt + t * KW;                             \
            RX(CONV_LK_WPTR, 0)                                               \
            for (int kx = 0; kx < KW; kx++) {                                 \
                float16 v0 = vload16(0, lr + kx);                             \
                float16 v1 = vload16(0, lr + kx + 16);                        \
                RX(CONV_LK_FMA, 0)                                            \
            }                                                                 \
        } else {                                                              \
            for (int kx = 0; kx < KW; kx++) {                                 \
                float16 v0 = vload16(0, lr + kx);                             \
                float16 v1 = vload16(0, lr + kx + 16);                        \
                RX(CONV_LK_EDGE, 0)                                           \
            }                                                                 \
        }                                                                     \
    }                                                                         \
    float bv = has_bias ? wp[b_off + c] : 0.0f;                               \
    RX(CONV_LK_OUT, 0)                                                        \
}

CONV_LK_KERNEL(cd_conv_dwlk, CD_R4, 4)

/* Generic direct convolution, 3-D (1-D/2-D with leading sizes 1), any stride,
 * dilation, padding and groups; one output element per work-item.
 * in (N, Cin, D, H, W), weight (Cout, Cin/groups, KD, KH, KW), out/residual
 * (N, Cout, OD, OH, OW). gws = (OD * OH * OW, Cout, N). */
__kernel void cd_conv_direct(global const float *src, ulong src_off,
                             global const float *wp, ulong w_off, ulong b_off,
                             int has_bias, global const float *res,
                             ulong res_off, int has_res, global float *dst,
                             ulong dst_off, int8 isz, int8 osz, int8 ksz,
                             int8 strd, int8 dil, int8 pad, int groups,
                             int act, float alpha, float beta)
{
    /* isz = (Cin, D, H, W), osz = (Cout, OD, OH, OW), ksz = (KD, KH, KW);
     * strd/dil/pad = (d, h, w) */
    int p = get_global_id(0), co = get_global_id(1), b = get_global_id(2);
    int Cin = isz.s0, D = isz.s1, H = isz.s2, W = isz.s3;
    int Cout = osz.s0, OD = osz.s1, OH = osz.s2, OW = osz.s3;
    if (p >= OD * OH * OW)
        return;
    int ox = p % OW, oy = (p / OW) % OH, oz = p / (OW * OH);
    int cig = Cin / groups, cog = Cout / groups, g = co / cog;
    ulong in_n = (ulong)Cin * D * H * W, out_n = (ulong)Cout * OD * OH * OW;
    global const float *in = src + src_off + b * in_n +
                             (ulong)g * cig * D * H * W;
    global const float *wt = wp + w_off +
                             (ulong)co * cig * ksz.s0 * ksz.s1 * ksz.s2;
    float acc = 0.0f;
    for (int ci = 0; ci < cig; ci++)
        for (int kz = 0; kz < ksz.s0; kz++) {
            int iz = oz * strd.s0 - pad.s0 + kz * dil.s0;
            if (iz < 0 || iz >= D)
                continue;
            for (int ky = 0; ky < ksz.s1; ky++) {
                int iy = oy * strd.s1 - pad.s1 + ky * dil.s1;
                if (iy < 0 || iy >= H)
                    continue;
                global const float *row =
                    in + (((ulong)ci * D + iz) * H + iy) * W;
                global const float *wr =
                    wt + ((ci * ksz.s0 + kz) * ksz.s1 + ky) * ksz.s2;
                for (int kx = 0; kx < ksz.s2; kx++) {
                    int ix = ox * strd.s2 - pad.s2 + kx * dil.s2;
                    if (ix >= 0 && ix < W)
                        acc = fma(wr[kx], row[ix], acc);
                }
            }
        }
    if (has_bias)
        acc += wp[b_off + co];
    ulong o = b * out_n + (ulong)co * OD * OH * OW + p;
    if (has_res)
        acc += res[res_off + o];
    dst[dst_off + o] = cd_act(acc, act, alpha, beta);
}
