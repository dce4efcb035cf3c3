/* common.cl — helpers shared by every kernel family. The program is built
 * from every kernels/<family>.cl in one unit with this file first, so what
 * is defined here is visible to the others. No op kernels here. */

/* buf[off + i] = value for i < n: zeroing or filling part of a buffer.
 * buf is (n,) at off; one work-item per float. */
__kernel void cd_fill(__global float *buf, ulong off, ulong n, float value)
{
    size_t i = get_global_id(0);
    if (i < n)
        buf[off + i] = value;
}

/* ---- helpers of the convolution kernels (conv, conv3d, conv_transpose,
 * multidilated, dynamic). No private arrays in them or in their callers:
 * POCL then keeps a kernel's vectors in registers (an array of 16 floats
 * halved throughput). ---- */

/* GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)) with erfc(z) = t P(t)
 * exp(-z^2), t = 1 / (1 + p z), z = |x| / sqrt 2 (Abramowitz & Stegun
 * 7.1.26, absolute error <= 1.5e-7), taken directly for x < 0 (no
 * cancellation). POCL's erf does not vectorise: a float16 GELU epilogue
 * with it cost as much as the GEMM itself; exp does. T is float, float8 or
 * float16. */
#define CD_GELU_FN(T)                                                         \
    static inline T cd_gelu_##T(T x)                                          \
    {                                                                         \
        T z = fabs(x) * 0.70710678118654752f;                                 \
        T t = 1.0f / (1.0f + 0.3275911f * z);                                 \
        T q = t * (0.254829592f +                                             \
                   t * (-0.284496736f +                                       \
                        t * (1.421413741f +                                   \
                             t * (-1.453152027f + t * 1.061405429f))));       \
        q *= exp(-z * z);                                                     \
        return 0.5f * x * select(q, 2.0f - q, x >= (T)0.0f);                  \
    }
CD_GELU_FN(float)
CD_GELU_FN(float8)
CD_GELU_FN(float16)

/* Activation epilogue: the formulas of cd_act_apply in daemon/engine/ops.c
 * (enum cd_act order); T is float, float8 or float16. */
#define CD_ACT_BODY(T)                                                        \
    switch (act) {                                                            \
    case 1: return fmax(x, (T)0.0f);                                          \
    case 2: return fmin(fmax(x, (T)0.0f), (T)6.0f);                           \
    case 3: return select(alpha * x, x, x >= (T)0.0f);                        \
    case 4: return cd_gelu_##T(x);                                            \
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
static inline float cd_act(float x, int act, float alpha, float beta)
{
    CD_ACT_BODY(float)
}
static inline float8 cd_act8(float8 x, int act, float alpha, float beta)
{
    CD_ACT_BODY(float8)
}
static inline float16 cd_act16(float16 x, int act, float alpha, float beta)
{
    CD_ACT_BODY(float16)
}

#define CD_LANES16 (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define CD_LANES8 (int8)(0, 1, 2, 3, 4, 5, 6, 7)

/* Gather: lane l = row[ix + l * sx], 0 outside [0, W). */
static inline float16 cd_gather16(global const float *row, int ix, int sx,
                                  int W)
{
    int16 x = ix + CD_LANES16 * sx;
    int16 c = clamp(x, 0, W - 1);
    float16 v = (float16)(row[c.s0], row[c.s1], row[c.s2], row[c.s3],
                          row[c.s4], row[c.s5], row[c.s6], row[c.s7],
                          row[c.s8], row[c.s9], row[c.sa], row[c.sb],
                          row[c.sc], row[c.sd], row[c.se], row[c.sf]);
    return select((float16)0.0f, v, x >= 0 && x < W);
}
static inline float8 cd_gather8(global const float *row, int ix, int sx,
                                int W)
{
    int8 x = ix + CD_LANES8 * sx;
    int8 c = clamp(x, 0, W - 1);
    float8 v = (float8)(row[c.s0], row[c.s1], row[c.s2], row[c.s3],
                        row[c.s4], row[c.s5], row[c.s6], row[c.s7]);
    return select((float8)0.0f, v, x >= 0 && x < W);
}

/* Fast in-bounds loads: lane l = p[l * sx] for sx 1 or 2. */
static inline float16 cd_load16(global const float *p, int sx)
{
    if (sx == 1)
        return vload16(0, p);
    return (float16)(vload16(0, p).even, vload16(0, p + 16).even);
}
static inline float8 cd_load8(global const float *p, int sx)
{
    if (sx == 1)
        return vload8(0, p);
    return (float8)(vload8(0, p).even, vload8(0, p + 8).even);
}

/* Border load: lane l = row[ix + l * sx], 0 outside [0, W). When the whole
 * loaded window (offset rel from the tensor slice start, lo <= rel, rel +
 * span < hi) lies inside the tensor, a vector load plus a lane mask; else a
 * gather. Callers pick between cd_loadVW and cd_bloadVW at the call site:
 * one helper holding both paths ran 3-4x slower on POCL. */
static inline float16 cd_bload16(global const float *row, int ix, int sx,
                                 int W, long rel, long lo, long hi)
{
    int16 x = ix + CD_LANES16 * sx;
    if (sx <= 2 && rel >= lo && rel + 16 * sx - 1 < hi)
        return select((float16)0.0f, cd_load16(row + ix, sx),
                      x >= 0 && x < W);
    return cd_gather16(row, ix, sx, W);
}
static inline float8 cd_bload8(global const float *row, int ix, int sx,
                               int W, long rel, long lo, long hi)
{
    int8 x = ix + CD_LANES8 * sx;
    if (sx <= 2 && rel >= lo && rel + 8 * sx - 1 < hi)
        return select((float8)0.0f, cd_load8(row + ix, sx),
                      x >= 0 && x < W);
    return cd_gather8(row, ix, sx, W);
}

/* Load with the bounds test inside: lane l = row[ix + l * sx], 0 outside
 * [0, W); a vector load when the window lies inside [0, W) at stride 1 or
 * 2, else a gather. */
static inline float16 cd_sload16(global const float *row, int ix, int sx,
                                 int W)
{
    if (sx == 1 && ix >= 0 && ix + 15 < W)
        return vload16(0, row + ix);
    if (sx == 2 && ix >= 0 && ix + 31 < W)
        return (float16)(vload16(0, row + ix).even,
                         vload16(0, row + ix + 16).even);
    return cd_gather16(row, ix, sx, W);
}

/* First n (< VW) lanes of v to p. */
static inline void cd_store_part16(float16 v, global float *p, int n)
{
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
static inline void cd_store_part8(float8 v, global float *p, int n)
{
    if (n > 0) p[0] = v.s0;
    if (n > 1) p[1] = v.s1;
    if (n > 2) p[2] = v.s2;
    if (n > 3) p[3] = v.s3;
    if (n > 4) p[4] = v.s4;
    if (n > 5) p[5] = v.s5;
    if (n > 6) p[6] = v.s6;
}

/* Epilogue of one VW-lane output vector r (bias already added): + residual,
 * activation, store of the first n (1..VW) lanes (n == VW: vector stores). */
#define CD_OUT_FN(NAME, VT, VW, VLOAD, VSTORE, GATHERV, ACTV, STOREP)         \
static inline void NAME(VT r, global const float *res, int has_res,           \
                        global float *dst, int n, int act, float alpha,       \
                        float beta)                                           \
{                                                                             \
    if (has_res)                                                              \
        r += n == VW ? VLOAD(0, res) : GATHERV(res, 0, 1, n);                 \
    r = ACTV(r, act, alpha, beta);                                            \
    if (n == VW)                                                              \
        VSTORE(r, 0, dst);                                                    \
    else                                                                      \
        STOREP(r, dst, n);                                                    \
}
CD_OUT_FN(cd_out16, float16, 16, vload16, vstore16, cd_gather16, cd_act16,
          cd_store_part16)
CD_OUT_FN(cd_out8, float8, 8, vload8, vstore8, cd_gather8, cd_act8,
          cd_store_part8)

/* Explicit unrolling (X-macros) over 8 output channels or 4 output rows:
 * accumulators stay in registers. */
#define CD_CO8(X, A) X(0, A) X(1, A) X(2, A) X(3, A) X(4, A) X(5, A)          \
                     X(6, A) X(7, A)
#define CD_R4(X, A) X(0, A) X(1, A) X(2, A) X(3, A)

/* Per-channel pieces of a register-tiled kernel (8 output channels co0 + j,
 * j < nco, of one output row oy, VW x positions from ox0; weights of channel
 * j at wo##j in rows of wco floats): declare, multiply-add the input vector
 * v at tap kx of weight row wr, and the epilogue through OUTF. */
#define CD_TDECL(j, VT)                                                       \
    int wo##j = min(j, nco - 1) * wco;                                        \
    VT acc##j = (VT)0.0f;
#define CD_TFMA(j, VT) acc##j = fma((VT)wr[wo##j + kx], v, acc##j);
/* The same with the weight of channel j at wk[wo##j]. */
#define CD_KFMA(j, VT) acc##j = fma((VT)wk[wo##j], v, acc##j);
#define CD_TOUT(j, OUTF)                                                      \
    if (j < nco) {                                                            \
        ulong o = b * out_n + ((ulong)(co0 + j) * OH + oy) * OW + ox0;        \
        OUTF(acc##j + (has_bias ? bias[co0 + j] : 0.0f), res + res_off + o,   \
             has_res, dst + dst_off + o, n, act, alpha, beta);                \
    }
