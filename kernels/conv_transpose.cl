/* conv_transpose.cl — transposed convolution (torch.nn.ConvTranspose1d/2d/3d
 * semantics) as a gather per output element, vectorised over x. Output x
 * positions are split by phase r = (ox + pad) mod stride: one work-item owns
 * 16 outputs of one phase (output stride = stride), for which the contributing
 * input positions of each valid kx are 16 CONSECUTIVE inputs (one vector
 * load), times 8 output channels. Fused epilogue act(acc + bias + residual).
 * Loads and activation come from common.cl; local helpers are prefixed ct_
 * (CT_ for macros). Must not read or write outside its tensors. */

/* Writes act(v + residual) to p[o0 + l * st] for lanes l with 0 <= o0 +
 * l*st < OW (st == 1 and all lanes valid: one vector store). p and res point
 * at the start of the output row. */
static inline void ct_store16(float16 v, global const float *res, int has_res,
                              global float *p, int o0, int st, int OW,
                              int act, float alpha, float beta)
{
    int16 o = o0 + CD_LANES16 * st;
    int16 ok = o >= 0 && o < OW;
    if (st == 1 && o0 >= 0 && o0 + 15 < OW) {
        if (has_res)
            v += vload16(0, res + o0);
        vstore16(cd_act16(v, act, alpha, beta), 0, p + o0);
        return;
    }
    int16 c = select((int16)0, o, ok);
    if (has_res)
        v += select((float16)0.0f,
                    (float16)(res[c.s0], res[c.s1], res[c.s2], res[c.s3],
                              res[c.s4], res[c.s5], res[c.s6], res[c.s7],
                              res[c.s8], res[c.s9], res[c.sa], res[c.sb],
                              res[c.sc], res[c.sd], res[c.se], res[c.sf]), ok);
    v = cd_act16(v, act, alpha, beta);
#define CT_ST(l) if (ok.s##l) p[c.s##l] = v.s##l;
    CT_ST(0) CT_ST(1) CT_ST(2) CT_ST(3) CT_ST(4) CT_ST(5) CT_ST(6) CT_ST(7)
    CT_ST(8) CT_ST(9) CT_ST(a) CT_ST(b) CT_ST(c) CT_ST(d) CT_ST(e) CT_ST(f)
#undef CT_ST
}

#define CT_DECL(j, unused)                                                    \
    int wo##j = min(j, nco - 1) * ksp;                                        \
    float16 acc##j = (float16)0.0f;
#define CT_OUT(j, unused)                                                     \
    if (j < nco) {                                                            \
        ulong o = b * out_n + (((ulong)(co0 + j) * OD + oz) * OH + oy) * OW;  \
        float bj = has_bias ? wp[b_off + co0 + j] : 0.0f;                     \
        ct_store16(acc##j + bj, res + res_off + o, has_res, dst + dst_off + o, \
                   ox0, sx, OW, act, alpha, beta);                            \
    }

/* in (N, Cin, D, H, W), weight (Cin, Cout/groups, KD, KH, KW), out and
 * residual (N, Cout, OD, OH, OW); 1-D/2-D with leading sizes 1. isz = (Cin,
 * D, H, W), osz = (Cout, OD, OH, OW), ksz = (KD, KH, KW), strd/dil/pad =
 * (d, h, w) (pad = pad_begin). gws = (ceil(M/16) * sx, OD * OH,
 * N * groups * ceil(Cout_g/8)) with M the number of output x blocks of one
 * phase: M = (pw + OW - 1)/sx - pw/sx + 1. */
__kernel void cd_conv_transpose(global const float *src, ulong src_off,
                                global const float *wp, ulong w_off,
                                ulong b_off, int has_bias,
                                global const float *res, ulong res_off,
                                int has_res, global float *dst,
                                ulong dst_off, int8 isz, int8 osz, int8 ksz,
                                int8 strd, int8 dil, int8 pad, int groups,
                                int act, float alpha, float beta)
{
    int Cin = isz.s0, D = isz.s1, H = isz.s2, W = isz.s3;
    int Cout = osz.s0, OD = osz.s1, OH = osz.s2, OW = osz.s3;
    int KD = ksz.s0, KH = ksz.s1, KW = ksz.s2;
    int sx = strd.s2, dx = dil.s2, px = pad.s2;
    int cig = Cin / groups, cog = Cout / groups, ntc = (cog + 7) / 8;
    int t0 = get_global_id(0), t1 = get_global_id(1), t2 = get_global_id(2);
    int rr = t0 % sx, mb = t0 / sx;
    int oz = t1 / OH, oy = t1 % OH;
    int b = t2 / (groups * ntc), g = (t2 / ntc) % groups, ct = t2 % ntc;
    int mlo = px / sx, mhi = (px + OW - 1) / sx;
    int m0 = mlo + mb * 16;
    if (oz >= OD || m0 > mhi)
        return;
    int co0 = g * cog + ct * 8, nco = min(8, cog - ct * 8);
    int ox0 = m0 * sx + rr - px; /* output x of lane 0 */
    int ksp = KD * KH * KW;
    ulong in_n = (ulong)Cin * D * H * W, out_n = (ulong)Cout * OD * OH * OW;
    global const float *in = src + src_off + b * in_n +
                             (ulong)g * cig * D * H * W;
    CD_CO8(CT_DECL, 0)
    ulong csz = (ulong)D * H * W;              /* input channel stride */
    ulong wcs = (ulong)cog * ksp;              /* weight stride per input ch */
    global const float *wg = wp + w_off + ((ulong)g * cig * cog + ct * 8) * ksp;
    int tz = oz + pad.s0, ty = oy + pad.s1;
    /* the valid taps depend only on the output phase: test them once, then
     * run the input channels innermost */
    for (int kz = 0; kz < KD; kz++) {
        int nz = tz - kz * dil.s0;
        if (nz < 0 || nz % strd.s0)
            continue;
        int iz = nz / strd.s0;
        if (iz >= D)
            continue;
        for (int ky = 0; ky < KH; ky++) {
            int ny = ty - ky * dil.s1;
            if (ny < 0 || ny % strd.s1)
                continue;
            int iy = ny / strd.s1;
            if (iy >= H)
                continue;
            global const float *row = in + ((ulong)iz * H + iy) * W;
            for (int kx = 0; kx < KW; kx++) {
                int q = kx * dx - rr;
                if (q % sx)
                    continue;
                int ix = m0 - q / sx;
                global const float *wk = wg + (kz * KH + ky) * KW + kx;
                if (ix >= 0 && ix + 15 < W) {
                    global const float *r = row + ix;
                    for (int ci = 0; ci < cig; ci++) {
                        float16 v = vload16(0, r);
                        CD_CO8(CD_KFMA, float16)
                        r += csz;
                        wk += wcs;
                    }
                } else {
                    global const float *r = row;
                    for (int ci = 0; ci < cig; ci++) {
                        float16 v = cd_sload16(r, ix, 1, W);
                        CD_CO8(CD_KFMA, float16)
                        r += csz;
                        wk += wcs;
                    }
                }
            }
        }
    }
    CD_CO8(CT_OUT, 0)
}
