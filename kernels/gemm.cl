/* gemm.cl — register-tiled matrix products: cd_matmul (C = A B with A
 * broadcast as scalars and B loaded as float16 rows; 1x1 convolution and
 * matmul), cd_linear_gemv (y = x W^T for one row, float16 partial sums)
 * and cd_linear_pk* (y = x W^T on W packed into 16-column panels, outer
 * products). Fused epilogue act(acc + bias +
 * residual) via cd_act* from common.cl. Helpers are prefixed gemm_; nothing
 * here reads outside the matrices it is given. */

/* The epilogue of one 16-column output vector (cd_out16 with the
 * activation), forced inline: as calls, cd_out16 and cd_act16 took a third
 * of cd_linear_pk8x3's time at K = 96. */
static inline __attribute__((always_inline)) float16
gemm_act16(float16 x, int act, float alpha, float beta)
{
    CD_ACT_BODY(float16)
}
static inline __attribute__((always_inline)) void
gemm_out16(float16 r, global const float *res, int has_res, global float *dst,
          int n, int act, float alpha, float beta)
{
    if (has_res)
        r += n == 16 ? vload16(0, res) : cd_gather16(res, 0, 1, n);
    r = gemm_act16(r, act, alpha, beta);
    if (n == 16)
        vstore16(r, 0, dst);
    else
        cd_store_part16(r, dst, n);
}

/* Unrolls X over the GEMM_MT = 8 rows of a tile: explicit variables, not
 * arrays, so that POCL keeps the accumulators in registers. */
#define GEMM_MT 8
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* C (M x N, ldc) = A (M x K, lda) * B (K x N, ldb), for nb * groups
 * problems: problem z = (b, g) = (z / groups, z % groups) starts at
 * off + b * s_b + g * s_g in each operand; bias[g * M + row] when has_bias;
 * residual laid out as C. gws = (ceil(N/16), ceil(M/GEMM_MT), nb * groups). */
__kernel void cd_matmul(global const float *A, ulong a_off, int lda,
                        ulong a_sb, ulong a_sg,
                        global const float *B, ulong b_off, int ldb,
                        ulong b_sb, ulong b_sg,
                        global const float *bias, ulong bias_off,
                        int has_bias, global const float *res,
                        ulong res_off, int has_res, global float *C,
                        ulong c_off, int ldc, ulong c_sb, ulong c_sg,
                        int M, int N, int K, int groups, int act,
                        float alpha, float beta)
{
    int n0 = get_global_id(0) * 16, m0 = get_global_id(1) * GEMM_MT;
    int z = get_global_id(2), bz = z / groups, g = z % groups;
    if (n0 >= N || m0 >= M)
        return;
    int mrem = min(GEMM_MT, M - m0), nrem = min(16, N - n0);
    global const float *a = A + a_off + bz * a_sb + g * a_sg + (ulong)m0 * lda;
    global const float *bp = B + b_off + bz * b_sb + g * b_sg + n0;
#define GEMM_DECL(i)                                                          \
    global const float *a##i = a + min(i, mrem - 1) * lda;                    \
    float16 c##i = (float16)0.0f;
#define GEMM_FMA(i) c##i = fma((float16)a##i[k], v, c##i);
    GEMM_ROWS(GEMM_DECL)
    if (nrem == 16) {
        for (int k = 0; k < K; k++) {
            float16 v = vload16(0, bp + (ulong)k * ldb);
            GEMM_ROWS(GEMM_FMA)
        }
    } else {
        for (int k = 0; k < K; k++) {
            float16 v = cd_gather16(bp + (ulong)k * ldb, 0, 1, nrem);
            GEMM_ROWS(GEMM_FMA)
        }
    }
    ulong cb = bz * c_sb + g * c_sg + (ulong)m0 * ldc + n0;
    global const float *bs = bias + bias_off + g * M + m0;
#define GEMM_STORE(i)                                                         \
    if (i < mrem) {                                                           \
        ulong o = cb + (ulong)i * ldc;                                        \
        gemm_out16(c##i + (has_bias ? bs[i] : 0.0f), res + res_off + o,       \
                   has_res, C + c_off + o, nrem, act, alpha, beta);           \
    }
    GEMM_ROWS(GEMM_STORE)
#undef GEMM_DECL
#undef GEMM_FMA
#undef GEMM_STORE
}

/* cd_matmul with 32 columns per work-item (two float16 per row, 16
 * accumulators: twice the FMAs per broadcast of A). Same arguments;
 * gws = (ceil(N/32), ceil(M/GEMM_MT), nb * groups). */
__kernel void cd_matmul32(global const float *A, ulong a_off, int lda,
                          ulong a_sb, ulong a_sg,
                          global const float *B, ulong b_off, int ldb,
                          ulong b_sb, ulong b_sg,
                          global const float *bias, ulong bias_off,
                          int has_bias, global const float *res,
                          ulong res_off, int has_res, global float *C,
                          ulong c_off, int ldc, ulong c_sb, ulong c_sg,
                          int M, int N, int K, int groups, int act,
                          float alpha, float beta)
{
    int n0 = get_global_id(0) * 32, m0 = get_global_id(1) * GEMM_MT;
    int z = get_global_id(2), bz = z / groups, g = z % groups;
    if (n0 >= N || m0 >= M)
        return;
    int mrem = min(GEMM_MT, M - m0), nrem = min(32, N - n0);
    global const float *a = A + a_off + bz * a_sb + g * a_sg + (ulong)m0 * lda;
    global const float *bp = B + b_off + bz * b_sb + g * b_sg + n0;
#define GEMM32_DECL(i)                                                        \
    global const float *a##i = a + min(i, mrem - 1) * lda;                    \
    float16 c##i = (float16)0.0f, d##i = (float16)0.0f;
#define GEMM32_FMA(i)                                                         \
    {                                                                         \
        float16 s = (float16)a##i[k];                                         \
        c##i = fma(s, v, c##i);                                               \
        d##i = fma(s, u, d##i);                                               \
    }
    GEMM_ROWS(GEMM32_DECL)
    if (nrem == 32) {
        for (int k = 0; k < K; k++) {
            float16 v = vload16(0, bp + (ulong)k * ldb);
            float16 u = vload16(0, bp + (ulong)k * ldb + 16);
            GEMM_ROWS(GEMM32_FMA)
        }
    } else {
        for (int k = 0; k < K; k++) {
            float16 v = cd_gather16(bp + (ulong)k * ldb, 0, 1, nrem);
            float16 u = nrem > 16 ? cd_gather16(bp + (ulong)k * ldb + 16, 0,
                                                1, nrem - 16)
                                  : (float16)0.0f;
            GEMM_ROWS(GEMM32_FMA)
        }
    }
    ulong cb = bz * c_sb + g * c_sg + (ulong)m0 * ldc + n0;
    global const float *bs = bias + bias_off + g * M + m0;
#define GEMM32_STORE(i)                                                       \
    if (i < mrem) {                                                           \
        ulong o = cb + (ulong)i * ldc;                                        \
        float bi = has_bias ? bs[i] : 0.0f;                                   \
        gemm_out16(c##i + bi, res + res_off + o, has_res, C + c_off + o,      \
                   min(16, nrem), act, alpha, beta);                          \
        if (nrem > 16)                                                        \
            gemm_out16(d##i + bi, res + res_off + o + 16, has_res,            \
                       C + c_off + o + 16, nrem - 16, act, alpha, beta);      \
    }
    GEMM_ROWS(GEMM32_STORE)
#undef GEMM32_DECL
#undef GEMM32_FMA
#undef GEMM32_STORE
}

static inline float gemm_hsum(float16 v)
{
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

/* y (rows x N) = x (rows x K) W^T, W (N x K) as stored: cd_linear_gemv,
 * 1 row x 8 outputs per work-item, float16 partial sums along K reduced at
 * the end; gws = (ceil(N/8), rows). Outputs past the end are clamped and
 * not stored. For a single row (a classifier head at batch 1). */
#define GEMM_LIN_ARGS                                                         \
    global const float *x, ulong x_off, global const float *wp, ulong w_off,  \
        ulong b_off, int has_bias, global const float *res, ulong res_off,    \
        int has_res, global float *dst, ulong dst_off, int rows, int K,       \
        int N, int act, float alpha, float beta
#define GEMM_LIN_OUT(r, j, acc)                                               \
    if (r < rrem && j < orem) {                                               \
        float y = gemm_hsum(acc);                                             \
        ulong o = (ulong)(r0 + r) * N + o0 + j;                               \
        if (has_bias)                                                         \
            y += wp[b_off + o0 + j];                                          \
        if (has_res)                                                          \
            y += res[res_off + o];                                            \
        dst[dst_off + o] = cd_act(y, act, alpha, beta);                     \
    }
#define GEMM_LIN_PROLOGUE(RT, OT)                                             \
    int o0 = get_global_id(0) * OT, r0 = get_global_id(1) * RT;               \
    if (o0 >= N || r0 >= rows)                                                \
        return;                                                               \
    int orem = min(OT, N - o0), rrem = min(RT, rows - r0);                    \
    global const float *xb = x + x_off;                                       \
    global const float *wb = wp + w_off;
#define GEMM_XP(r) global const float *x##r = xb + (ulong)(r0 + min(r, rrem - 1)) * K;
#define GEMM_WP(j) global const float *w##j = wb + (ulong)(o0 + min(j, orem - 1)) * K;
/* LD(p) loads 16 floats of K from p + k (full or tail). */
#define GEMM_LD_FULL(p) vload16(0, p + k)
#define GEMM_LD_TAIL(p) cd_gather16(p + k, 0, 1, K - k)

#define GEMM_GEMV_STEP(LD)                                                    \
    {                                                                         \
        float16 u = LD(x0);                                                   \
        a0 = fma(u, LD(w0), a0); a1 = fma(u, LD(w1), a1);                     \
        a2 = fma(u, LD(w2), a2); a3 = fma(u, LD(w3), a3);                     \
        a4 = fma(u, LD(w4), a4); a5 = fma(u, LD(w5), a5);                     \
        a6 = fma(u, LD(w6), a6); a7 = fma(u, LD(w7), a7);                     \
    }

__kernel void cd_linear_gemv(GEMM_LIN_ARGS)
{
    GEMM_LIN_PROLOGUE(1, 8)
    GEMM_XP(0)
    GEMM_WP(0) GEMM_WP(1) GEMM_WP(2) GEMM_WP(3)
    GEMM_WP(4) GEMM_WP(5) GEMM_WP(6) GEMM_WP(7)
    float16 a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, a4 = 0.0f, a5 = 0.0f,
            a6 = 0.0f, a7 = 0.0f;
    int k = 0;
    for (; k + 16 <= K; k += 16)
        GEMM_GEMV_STEP(GEMM_LD_FULL)
    if (k < K)
        GEMM_GEMV_STEP(GEMM_LD_TAIL)
    GEMM_LIN_OUT(0, 0, a0) GEMM_LIN_OUT(0, 1, a1) GEMM_LIN_OUT(0, 2, a2)
    GEMM_LIN_OUT(0, 3, a3) GEMM_LIN_OUT(0, 4, a4) GEMM_LIN_OUT(0, 5, a5)
    GEMM_LIN_OUT(0, 6, a6) GEMM_LIN_OUT(0, 7, a7)
}

/* ---- linear on packed weights --------------------------------------------
 * W (N x K) is packed once at load (cd_linear_pack16) into panels of 16
 * output columns: panel p holds W[p*16 + c][k] at (p * K + k) * 16 + c,
 * zero for columns past N. cd_linear_pkMRxNV computes an MR-row x NV-panel
 * tile of y (rows x N) = x (rows x K) W^T per work-item as outer products:
 * one x scalar broadcast per row and k, FMA with NV float16 panel rows.
 * gws = (ceil(ceil(ceil(N/16) / NV) / jper), ceil(ceil(rows / MR) / rper)),
 * local size (1, 1). Bias
 * (N,) is read from the weight pool; residual is laid out as y. */
__kernel void cd_linear_pack16(global const float *w, ulong w_off,
                               global float *pk, int K, int N, int npan)
{
    size_t i = get_global_id(0);
    size_t ps = (size_t)K * 16;
    if (i >= (size_t)npan * ps)
        return;
    int p = (int)(i / ps), rem = (int)(i - (size_t)p * ps);
    int k = rem / 16, n = p * 16 + rem % 16;
    pk[i] = n < N ? w[w_off + (ulong)n * K + k] : 0.0f;
}

#define LIN_ARGS                                                              \
    global const float *x, ulong x_off, global const float *pk,               \
        global const float *wp, ulong b_off, int has_bias,                    \
        global const float *res, ulong res_off, int has_res,                  \
        global float *dst, ulong dst_off, int rows, int K, int N, int act,    \
        float alpha, float beta
/* Row lists X(i, A) and panel lists X(i, j). */
#define LIN_R4(X, A) X(0, A) X(1, A) X(2, A) X(3, A)
#define LIN_R6(X, A) LIN_R4(X, A) X(4, A) X(5, A)
#define LIN_R8(X, A) LIN_R6(X, A) X(6, A) X(7, A)
#define LIN_V2(X, i) X(i, 0) X(i, 1)
#define LIN_V3(X, i) X(i, 0) X(i, 1) X(i, 2)
#define LIN_V4(X, i) X(i, 0) X(i, 1) X(i, 2) X(i, 3)
#define LIN_PDECL(i, j)                                                       \
    global const float *p##j = pk + (ulong)min(j0 + j, npan - 1) * ps;        \
    float16 b##j = (float16)0.0f;                                             \
    if (has_bias && j0 + j < npan)                                            \
        b##j = (j0 + j + 1) * 16 <= N                                         \
                   ? vload16(0, wp + b_off + (j0 + j) * 16)                   \
                   : cd_gather16(wp + b_off + (j0 + j) * 16, 0, 1,            \
                                 N - (j0 + j) * 16);
#define LIN_ACC(i, j) float16 c##i##_##j = (float16)0.0f;
#define LIN_XDECL(i, NV)                                                      \
    global const float *x##i = xb + (ulong)min(i, rrem - 1) * K;              \
    LIN_V##NV(LIN_ACC, i)
#define LIN_WLOAD(i, j) float16 w##j = vload16(k, p##j);
#define LIN_FMA1(i, j) c##i##_##j = fma(s##i, w##j, c##i##_##j);
#define LIN_FMA(i, NV)                                                        \
    {                                                                         \
        float16 s##i = (float16)x##i[k];                                      \
        LIN_V##NV(LIN_FMA1, i)                                                \
    }
#define LIN_STORE1(i, j)                                                      \
    if (j0 + j < npan) {                                                      \
        int n = (j0 + j) * 16;                                                \
        ulong o = (ulong)(r0 + i) * N + n;                                    \
        gemm_out16(c##i##_##j + b##j, res + res_off + o, has_res,             \
                   dst + dst_off + o, min(16, N - n), act, alpha, beta);      \
    }
#define LIN_STORE(i, NV)                                                      \
    if (i < rrem) {                                                           \
        LIN_V##NV(LIN_STORE1, i)                                              \
    }
/* Work-item (i, r): column tiles i * jper .. + jper (a tile is NV panels),
 * each over row tiles r * rper .. + rper (a row tile is MR rows): a tile
 * of W stays in cache across rper row tiles, the x rows across jper tiles. */
#define LIN_KERNEL(MR, NV)                                                    \
    __kernel void cd_linear_pk##MR##x##NV(LIN_ARGS, int jper, int rper)       \
    {                                                                         \
        int npan = (N + 15) / 16, ps = K * 16;                                \
        int jt0 = get_global_id(0) * jper, rt0 = get_global_id(1) * rper;     \
        for (int jt = jt0; jt < jt0 + jper && jt * NV < npan; jt++) {         \
            int j0 = jt * NV;                                                 \
            LIN_V##NV(LIN_PDECL, 0)                                           \
            for (int rt = rt0; rt < rt0 + rper && rt * MR < rows; rt++) {     \
                int r0 = rt * MR, rrem = min(MR, rows - r0);                  \
                global const float *xb = x + x_off + (ulong)r0 * K;           \
                LIN_R##MR(LIN_XDECL, NV)                                      \
                for (int k = 0; k < K; k++) {                                 \
                    LIN_V##NV(LIN_WLOAD, 0)                                   \
                    LIN_R##MR(LIN_FMA, NV)                                    \
                }                                                             \
                LIN_R##MR(LIN_STORE, NV)                                      \
            }                                                                 \
        }                                                                     \
    }
LIN_KERNEL(4, 4)
LIN_KERNEL(6, 4)
LIN_KERNEL(8, 2)
LIN_KERNEL(8, 3)
