/* multidilated.cl — D3Net multi-dilated convolution, 1-D and 2-D (1-D as
 * H == 1): input channel slice s (Cin / nslice channels) is convolved with
 * dilation d_s and 'same' padding (d_s (k - 1) / 2 before), all slices
 * summed into one output, then act(acc + bias + residual). Register-tiled
 * like cd_conv_tile16: 8 output channels x VW output x positions of one row
 * per work-item, inputs as vectors, weights as broadcast scalars; no private
 * arrays. Loads, epilogue and unrolling macros come from common.cl; local
 * helpers are prefixed md_. Must not read outside its tensors. */

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

/* in is (N, Cin, H, W), weight (Cout, Cin, KH, KW), out and residual
 * (N, Cout, OH, OW); dils holds nslice dilations. gws = (ceil(OW/VW) * OH,
 * ceil(Cout/8), N). */
#define MD_KERNEL(NAME, VT, VW, LOADV, BLOADV, OUTF)                          \
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
    CD_CO8(CD_TDECL, VT)                                                      \
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
                        CD_CO8(CD_TFMA, VT)                                   \
                    }                                                         \
                } else {                                                      \
                    long rrow = ((long)ci * H + iy) * W;                      \
                    for (int kx = 0; kx < KW; kx++) {                         \
                        int ix = ix0 + kx * d;                                \
                        VT v = BLOADV(row, ix, sx, W, rrow + ix, 0,           \
                                   (long)in_n);                               \
                        CD_CO8(CD_TFMA, VT)                                   \
                    }                                                         \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }                                                                         \
    global const float *bias = wp + b_off;                                    \
    int n = min(VW, OW - ox0);                                                \
    CD_CO8(CD_TOUT, OUTF)                                                     \
}

MD_KERNEL(cd_multidilated_conv, float16, 16, cd_load16, cd_bload16, cd_out16)
MD_KERNEL(cd_multidilated_conv8, float8, 8, cd_load8, cd_bload8, cd_out8)
