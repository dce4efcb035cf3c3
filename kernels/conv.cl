/* conv.cl — convolution kernels: register-tiled direct kernels for 1-D/2-D
 * (8 output channels x 16 output positions per work-item: 16 of one row, or
 * 8 of two rows when rows are narrow) and a generic one-output-per-work-item
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
