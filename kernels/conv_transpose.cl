/* conv_transpose.cl — transposed convolution (torch.nn.ConvTranspose1d/2d/3d
 * semantics) as a gather per output element, vectorised over x. Output x
 * positions are split by phase r = (ox + pad) mod stride: one work-item owns
 * 16 outputs of one phase (output stride = stride), for which the contributing
 * input positions of each valid kx are 16 CONSECUTIVE inputs (one vector
 * load), times 8 output channels. Fused epilogue act(acc + bias + residual).
 * Helpers are prefixed ct_; must not read or write outside its tensors. */

#define CT_ACT_BODY(T)                                                        \
    switch (act) {                                                            \
    case 1: return fmax(x, (T)0.0f);                                          \
    case 2: return fmin(fmax(x, (T)0.0f), (T)6.0f);                           \
    case 3: return select(alpha * x, x, x >= (T)0.0f);                        \
    case 4: return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));         \
    case 5: return 0.5f * x * (1.0f + tanh(0.7978845608028654f *              \
                                           (x + 0.044715f * x * x * x)));     \
    case 6: return x / (1.0f + exp(-x));                                      \
    case 7: return 1.0f / (1.0f + exp(-x));                                   \
    case 8: return x * fmin(fmax(x + 3.0f, (T)0.0f), (T)6.0f) / 6.0f;         \
    case 9: return fmin(fmax(x + 3.0f, (T)0.0f), (T)6.0f) / 6.0f;             \
    case 10: return tanh(x);                                                  \
    case 11: return fmin(fmax(x, (T)alpha), (T)beta);                         \
    default: return x;                                                        \
    }
static inline float16 ct_act16(float16 x, int act, float alpha, float beta)
{
    CT_ACT_BODY(float16)
}

#define CT_LANES (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/* Lanes l = row[ix + l], 0 outside [0, W). */
static inline float16 ct_load16(global const float *row, int ix, int W)
{
    if (ix >= 0 && ix + 15 < W)
        return vload16(0, row + ix);
    int16 x = ix + CT_LANES;
    int16 c = clamp(x, 0, W - 1);
    float16 v = (float16)(row[c.s0], row[c.s1], row[c.s2], row[c.s3],
                          row[c.s4], row[c.s5], row[c.s6], row[c.s7],
                          row[c.s8], row[c.s9], row[c.sa], row[c.sb],
                          row[c.sc], row[c.sd], row[c.se], row[c.sf]);
    return select((float16)0.0f, v, x >= 0 && x < W);
}

/* Writes act(v + residual) to p[o0 + l * st] for lanes l with 0 <= o0 +
 * l*st < OW (st == 1 and all lanes valid: one vector store). p and res point
 * at the start of the output row. */
static inline void ct_store16(float16 v, global const float *res, int has_res,
                              global float *p, int o0, int st, int OW,
                              int act, float alpha, float beta)
{
    int16 o = o0 + CT_LANES * st;
    int16 ok = o >= 0 && o < OW;
    if (st == 1 && o0 >= 0 && o0 + 15 < OW) {
        if (has_res)
            v += vload16(0, res + o0);
        vstore16(ct_act16(v, act, alpha, beta), 0, p + o0);
        return;
    }
    int16 c = select((int16)0, o, ok);
    if (has_res)
        v += select((float16)0.0f,
                    (float16)(res[c.s0], res[c.s1], res[c.s2], res[c.s3],
                              res[c.s4], res[c.s5], res[c.s6], res[c.s7],
                              res[c.s8], res[c.s9], res[c.sa], res[c.sb],
                              res[c.sc], res[c.sd], res[c.se], res[c.sf]), ok);
    v = ct_act16(v, act, alpha, beta);
#define CT_ST(l) if (ok.s##l) p[c.s##l] = v.s##l;
    CT_ST(0) CT_ST(1) CT_ST(2) CT_ST(3) CT_ST(4) CT_ST(5) CT_ST(6) CT_ST(7)
    CT_ST(8) CT_ST(9) CT_ST(a) CT_ST(b) CT_ST(c) CT_ST(d) CT_ST(e) CT_ST(f)
#undef CT_ST
}

#define CT_CO8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define CT_DECL(j)                                                            \
    int wo##j = min(j, nco - 1) * ksp;                                        \
    float16 acc##j = (float16)0.0f;
#define CT_FMA(j) acc##j = fma((float16)wk[wo##j], v, acc##j);
#define CT_OUT(j)                                                             \
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
    CT_CO8(CT_DECL)
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
                        CT_CO8(CT_FMA)
                        r += csz;
                        wk += wcs;
                    }
                } else {
                    global const float *r = row;
                    for (int ci = 0; ci < cig; ci++) {
                        float16 v = ct_load16(r, ix, W);
                        CT_CO8(CT_FMA)
                        r += csz;
                        wk += wcs;
                    }
                }
            }
        }
    }
    CT_CO8(CT_OUT)
}
