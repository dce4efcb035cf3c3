/* conv3d.cl — fast paths of the pseudo-3-D (P3D) convolutions: kernels
 * (1, kh, kw) (spatial, one frame at a time) and (kt, 1, 1) (temporal). Both
 * are register-tiled like conv.cl's 2-D kernels: a work-item computes 8
 * output channels x 16 output positions held in float16 vectors. Row kernel:
 * 16 x positions of one output row (any 3-D kernel/stride/dilation/padding).
 * Plane kernel: 16 consecutive positions of a whole H*W plane, for kernels
 * (kt, 1, 1) with unit spatial stride and no spatial padding, so narrow
 * frames keep every lane busy. Fused epilogue act(acc + bias + residual).
 * Helpers are prefixed c3d_; must not read or write outside its tensors. */

#define C3D_ACT_BODY(T)                                                       \
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
static inline float16 c3d_act16(float16 x, int act, float alpha, float beta)
{
    C3D_ACT_BODY(float16)
}

#define C3D_LANES (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/* Lane l = row[ix + l * sx], 0 outside [0, W). */
static inline float16 c3d_load16(global const float *row, int ix, int sx,
                                 int W)
{
    if (sx == 1 && ix >= 0 && ix + 15 < W)
        return vload16(0, row + ix);
    if (sx == 2 && ix >= 0 && ix + 31 < W)
        return (float16)(vload16(0, row + ix).even,
                         vload16(0, row + ix + 16).even);
    int16 x = ix + C3D_LANES * sx;
    int16 c = clamp(x, 0, W - 1);
    float16 v = (float16)(row[c.s0], row[c.s1], row[c.s2], row[c.s3],
                          row[c.s4], row[c.s5], row[c.s6], row[c.s7],
                          row[c.s8], row[c.s9], row[c.sa], row[c.sb],
                          row[c.sc], row[c.sd], row[c.se], row[c.sf]);
    return select((float16)0.0f, v, x >= 0 && x < W);
}

/* act(v + res) into the first n (1..16) floats of p. */
static inline void c3d_out16(float16 v, global const float *res, int has_res,
                             global float *p, int n, int act, float alpha,
                             float beta)
{
    if (n == 16) {
        if (has_res)
            v += vload16(0, res);
        vstore16(c3d_act16(v, act, alpha, beta), 0, p);
        return;
    }
    if (has_res) {
        int16 c = min(C3D_LANES, n - 1);
        v += (float16)(res[c.s0], res[c.s1], res[c.s2], res[c.s3],
                       res[c.s4], res[c.s5], res[c.s6], res[c.s7],
                       res[c.s8], res[c.s9], res[c.sa], res[c.sb],
                       res[c.sc], res[c.sd], res[c.se], res[c.sf]);
    }
    v = c3d_act16(v, act, alpha, beta);
#define C3D_ST(l) if (0x##l < n) p[0x##l] = v.s##l;
    C3D_ST(0) C3D_ST(1) C3D_ST(2) C3D_ST(3) C3D_ST(4) C3D_ST(5) C3D_ST(6)
    C3D_ST(7) C3D_ST(8) C3D_ST(9) C3D_ST(a) C3D_ST(b) C3D_ST(c) C3D_ST(d)
    C3D_ST(e)
#undef C3D_ST
}

#define C3D_CO8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define C3D_DECL(j)                                                           \
    int wo##j = min(j, nco - 1) * wco;                                        \
    float16 acc##j = (float16)0.0f;
#define C3D_FMA(j) acc##j = fma((float16)wk[wo##j], v, acc##j);
#define C3D_OUT(j)                                                            \
    if (j < nco) {                                                            \
        ulong o = b * out_n + (ulong)(co0 + j) * osp + p0;                    \
        float bj = has_bias ? wp[b_off + co0 + j] : 0.0f;                     \
        c3d_out16(acc##j + bj, res + res_off + o, has_res, dst + dst_off + o, \
                  n, act, alpha, beta);                                       \
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
    C3D_CO8(C3D_DECL)
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
                    float16 v = c3d_load16(row, ix0 + kx * dx, sx, W);
                    global const float *wk = wr + kx;
                    C3D_CO8(C3D_FMA)
                }
            }
        }
    }
    ulong p0 = ((ulong)oz * OH + oy) * OW + ox0;
    int n = min(16, OW - ox0);
    C3D_CO8(C3D_OUT)
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
    C3D_CO8(C3D_DECL)
    int izb = oz * strd.s0 - pad.s0;
    bool full = q0 + 15 < HW;
    for (int ci = 0; ci < cig; ci++) {
        for (int kz = 0; kz < KD; kz++) {
            int iz = izb + kz * dil.s0;
            if (iz < 0 || iz >= D)
                continue;
            global const float *pl = in + ((ulong)ci * D + iz) * HW;
            float16 v = full ? vload16(0, pl + q0)
                             : c3d_load16(pl, q0, 1, HW);
            global const float *wk = wt + ci * KD + kz;
            C3D_CO8(C3D_FMA)
        }
    }
    ulong p0 = (ulong)oz * HW + q0;
    int n = min(16, HW - q0);
    C3D_CO8(C3D_OUT)
}
