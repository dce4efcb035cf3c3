/* conv3d.cl — fast paths of the pseudo-3-D (P3D) convolutions: kernels
 * (1, kh, kw) (spatial, one frame at a time) and (kt, 1, 1) (temporal). Both
 * are register-tiled like conv.cl's 2-D kernels: a work-item computes 8
 * output channels x 16 output positions held in float16 vectors. Row kernel:
 * 16 x positions of one output row (any 3-D kernel/stride/dilation/padding).
 * Plane kernel: 16 consecutive positions of a whole H*W plane, for kernels
 * (kt, 1, 1) with unit spatial stride and no spatial padding, so narrow
 * frames keep every lane busy. Fused epilogue act(acc + bias + residual).
 * Loads and epilogue come from common.cl (cd_sload16, cd_out16); local
 * macros are prefixed C3D_. Must not read or write outside its tensors. */

#define C3D_OUT(j, unused)                                                    \
    if (j < nco) {                                                            \
        ulong o = b * out_n + (ulong)(co0 + j) * osp + p0;                    \
        float bj = has_bias ? wp[b_off + co0 + j] : 0.0f;                     \
        cd_out16(acc##j + bj, res + res_off + o, has_res, dst + dst_off + o,  \
                 n, act, alpha, beta);                                        \
    }

/* Row kernel. in (N, Cin, D, H, W), weight (Cout, Cin/groups, KD, KH, KW),
 * out/residual (N, Cout, OD, OH, OW); isz = (Cin, D, H, W), osz = (Cout, OD,
 * OH, OW), ksz = (KD, KH, KW), strd/dil/pad = (d, h, w) with pad = begin.
 * gws = (ceil(OW/16) * OH, groups * ceil(Cout_g/8), N * OD). */
__kernel void cd_conv3d_row16(global const float *src, ulong src_off,
                              global const float *wp, ulong w_off,
                              ulong b_off, int has_bias,
                              global const float *res, ulong res_off,
                              int has_res, global float *dst, ulong dst_off,
                              int8 isz, int8 osz, int8 ksz, int8 strd,
                              int8 dil, int8 pad, int groups, int act,
                              float alpha, float beta)
{
    int Cin = isz.s0, D = isz.s1, H = isz.s2, W = isz.s3;
    int Cout = osz.s0, OD = osz.s1, OH = osz.s2, OW = osz.s3;
    int KD = ksz.s0, KH = ksz.s1, KW = ksz.s2;
    int ntx = (OW + 15) / 16;
    int t0 = get_global_id(0), t1 = get_global_id(1), t2 = get_global_id(2);
    int oy = t0 / ntx, ox0 = (t0 % ntx) * 16;
    int cog = Cout / groups, cig = Cin / groups, ntc = (cog + 7) / 8;
    int g = t1 / ntc, ct = t1 % ntc;
    int b = t2 / OD, oz = t2 % OD;
    if (oy >= OH || g >= groups || b < 0)
        return;
    int co0 = g * cog + ct * 8, nco = min(8, cog - ct * 8);
    ulong osp = (ulong)OD * OH * OW;
    ulong in_n = (ulong)Cin * D * H * W, out_n = (ulong)Cout * osp;
    global const float *in = src + src_off + b * in_n +
                             (ulong)g * cig * D * H * W;
    int ksp = KD * KH * KW, wco = cig * ksp;
    global const float *wt = wp + w_off + (ulong)co0 * wco;
    CD_CO8(CD_TDECL, float16)
    int sx = strd.s2, dx = dil.s2;
    int ix0 = ox0 * sx - pad.s2;
    int izb = oz * strd.s0 - pad.s0, iyb = oy * strd.s1 - pad.s1;
    for (int ci = 0; ci < cig; ci++) {
        for (int kz = 0; kz < KD; kz++) {
            int iz = izb + kz * dil.s0;
            if (iz < 0 || iz >= D)
                continue;
            for (int ky = 0; ky < KH; ky++) {
                int iy = iyb + ky * dil.s1;
                if (iy < 0 || iy >= H)
                    continue;
                global const float *row =
                    in + (((ulong)ci * D + iz) * H + iy) * W;
                global const float *wr = wt + ci * ksp + (kz * KH + ky) * KW;
                for (int kx = 0; kx < KW; kx++) {
                    float16 v = cd_sload16(row, ix0 + kx * dx, sx, W);
                    global const float *wk = wr + kx;
                    CD_CO8(CD_KFMA, float16)
                }
            }
        }
    }
    ulong p0 = ((ulong)oz * OH + oy) * OW + ox0;
    int n = min(16, OW - ox0);
    CD_CO8(C3D_OUT, 0)
}

/* Plane kernel for (KD, 1, 1) kernels, unit spatial stride, no spatial
 * padding (OH == H, OW == W). Arguments as cd_conv3d_row16.
 * gws = (ceil(H*W/16), groups * ceil(Cout_g/8), N * OD). */
__kernel void cd_conv3d_plane16(global const float *src, ulong src_off,
                                global const float *wp, ulong w_off,
                                ulong b_off, int has_bias,
                                global const float *res, ulong res_off,
                                int has_res, global float *dst,
                                ulong dst_off, int8 isz, int8 osz, int8 ksz,
                                int8 strd, int8 dil, int8 pad, int groups,
                                int act, float alpha, float beta)
{
    int Cin = isz.s0, D = isz.s1, HW = isz.s2 * isz.s3;
    int Cout = osz.s0, OD = osz.s1;
    int KD = ksz.s0;
    int t0 = get_global_id(0), t1 = get_global_id(1), t2 = get_global_id(2);
    int q0 = t0 * 16;
    int cog = Cout / groups, cig = Cin / groups, ntc = (cog + 7) / 8;
    int g = t1 / ntc, ct = t1 % ntc;
    int b = t2 / OD, oz = t2 % OD;
    if (q0 >= HW || g >= groups)
        return;
    int co0 = g * cog + ct * 8, nco = min(8, cog - ct * 8);
    ulong osp = (ulong)OD * HW;
    ulong in_n = (ulong)Cin * D * HW, out_n = (ulong)Cout * osp;
    global const float *in = src + src_off + b * in_n +
                             (ulong)g * cig * D * HW;
    int wco = cig * KD;
    global const float *wt = wp + w_off + (ulong)co0 * wco;
    CD_CO8(CD_TDECL, float16)
    int izb = oz * strd.s0 - pad.s0;
    bool full = q0 + 15 < HW;
    for (int ci = 0; ci < cig; ci++) {
        for (int kz = 0; kz < KD; kz++) {
            int iz = izb + kz * dil.s0;
            if (iz < 0 || iz >= D)
                continue;
            global const float *pl = in + ((ulong)ci * D + iz) * HW;
            float16 v = full ? vload16(0, pl + q0)
                             : cd_sload16(pl, q0, 1, HW);
            global const float *wk = wt + ci * KD + kz;
            CD_CO8(CD_KFMA, float16)
        }
    }
    ulong p0 = (ulong)oz * HW + q0;
    int n = min(16, HW - q0);
    CD_CO8(C3D_OUT, 0)
}
