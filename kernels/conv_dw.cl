/* conv_dw.cl — depthwise convolution kernels (groups == Cin == Cout):
 * fixed-size K x K kernels (3, 5, 7; stride 1 or 2) with 8 output rows x
 * 16 x positions per step and sliding-window reuse of input rows, a generic
 * one (vectors along x, 4 output rows per work-item; any size, stride and
 * dilation), and a large-kernel one (RepLKNet sizes) staging zero-padded
 * rows in local memory. Host side: daemon/engine/ops_cl_conv_dw.c. Fused
 * epilogue act(acc + bias + residual) through cd_out16/cd_out8 of
 * common.cl. Every tensor is (buffer, offset in floats); activation sample
 * b lives at off + b * per-sample numel. Must not read outside the tensors
 * it is given. */

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


/* Depthwise convolution with a compile-time square kernel K x K (3, 5, 7),
 * stride S (1 or 2) on both axes, dilation 1 (groups == C, weight
 * (C, 1, K, K), in/out/residual (N, C, H, W) / (N, C, OH, OW)).
 * gws = (ceil(OH/8), ceil(C/cpb), N), lws = (1, 1, 1). Each work-item: cpb
 * channels; for each, an 8-row block of output in chunks of up to 64
 * columns. A chunk first stages the (8 - 1) * S + K input rows it reads
 * into local memory, zero outside the input (plain vector loads inside,
 * masked or gathered ones at the borders; stride 2 split into its even
 * and odd columns), so the compute loop has no bounds tests and no
 * branches: per 16-column tile, float16 accumulators for the 8 rows; the
 * input rows unrolled, each row's K shifted windows built in registers
 * from two aligned loads (lane shifts of the row, or of its even/odd
 * halves at stride 2) and multiplied into every output row that uses them
 * (sliding-window reuse), the weight a broadcast memory operand of the FMA.
 * The weight pointer is offset by t * wz, wz 0 at run time: otherwise the
 * compiler merges the loads of one weight for different rows and keeps all
 * K * K broadcasts in registers, which spill. Rows and columns past the
 * output's need are not staged (their lanes are computed from stale local
 * memory and never stored). No padded copy of the whole input: the 3x3
 * layers are bandwidth-bound. */
#define DW_R8(X, A) X(0, A) X(1, A) X(2, A) X(3, A) X(4, A) X(5, A)          \
                    X(6, A) X(7, A)
#define DW_ACC(r, unused) float16 acc##r = (float16)0.0f;
#define DW_NT (7 * DWS + DWK)  /* input rows of an 8-row block */
/* floats of one staged row per stride-phase: the 64 + (K - 1) / S
 * columns a chunk's tiles read, rounded up to vectors (+16: the second
 * load of the last tile's windows) */
#define DW_LP ((64 + (DWK - 1) / DWS + 15) / 16 * 16 + 16)
#define DW_LW (DWS * DW_LP)     /* floats of one staged row */

/* lanes l = row[ix + l], 0 outside [0, W) or when the row is outside:
 * a vector load, masked when it straddles the row's ends and stays inside
 * the sample's tensor (rel: offset of row + ix from the plane, in
 * [lo, hi)), a gather otherwise */
static inline __attribute__((always_inline)) float16
dw_stage16(global const float *row, int ix, int W, bool rok, long rel,
           long lo, long hi)
{
    if (rok && ix >= 0 && ix + 15 < W)
        return vload16(0, row + ix);
    if (!rok || ix >= W || ix + 15 < 0)
        return (float16)0.0f;
    int16 x = ix + CD_LANES16;
    if (rel >= lo && rel + 15 < hi)
        return select((float16)0.0f, vload16(0, row + ix), x >= 0 && x < W);
    return cd_gather16(row, ix, 1, W);
}

/* output row r at tap (t - r * S, kx) of input row t: v */
#define DW_USE_KX(r, kx)                                                      \
    if (t - r * DWS >= 0 && t - r * DWS < DWK)                                \
        acc##r = fma((float16)wrow[(t - r * DWS) * DWK + kx], v, acc##r);
#define DW_TAP(kx, V)                                                         \
    if (kx < DWK) {                                                           \
        float16 v = V;                                                        \
        DW_R8(DW_USE_KX, kx)                                                  \
    }
/* lanes sh .. sh + 15 of the 32-lane (a, z) */
#define DW_SHIFT(a, z, sh)                                                    \
    shuffle2(a, z, (uint16)(sh, sh + 1, sh + 2, sh + 3, sh + 4, sh + 5,       \
                            sh + 6, sh + 7, sh + 8, sh + 9, sh + 10, sh + 11, \
                            sh + 12, sh + 13, sh + 14, sh + 15))
/* The K taps of staged row lr (at the tile) into the accumulators. */
#define DW_ROW_TAPS1(lr)                                                      \
    {                                                                         \
        float16 a = *(local const float16 *)(lr);                             \
        float16 z = *(local const float16 *)((lr) + 16);                      \
        DW_TAP(0, a) DW_TAP(1, DW_SHIFT(a, z, 1))                             \
        DW_TAP(2, DW_SHIFT(a, z, 2)) DW_TAP(3, DW_SHIFT(a, z, 3))             \
        DW_TAP(4, DW_SHIFT(a, z, 4)) DW_TAP(5, DW_SHIFT(a, z, 5))             \
        DW_TAP(6, DW_SHIFT(a, z, 6))                                          \
    }
/* stride 2: even columns at lr, odd ones at lr + DW_LP; tap 2j is the even
 * half shifted by j, tap 2j + 1 the odd half */
#define DW_ROW_TAPS2(lr)                                                      \
    {                                                                         \
        float16 e = *(local const float16 *)(lr);                             \
        float16 ez = *(local const float16 *)((lr) + 16);                     \
        float16 o = *(local const float16 *)((lr) + DW_LP);                   \
        float16 oz = *(local const float16 *)((lr) + DW_LP + 16);             \
        DW_TAP(0, e) DW_TAP(1, o)                                             \
        DW_TAP(2, DW_SHIFT(e, ez, 1)) DW_TAP(3, DW_SHIFT(o, oz, 1))           \
        DW_TAP(4, DW_SHIFT(e, ez, 2)) DW_TAP(5, DW_SHIFT(o, oz, 2))           \
        DW_TAP(6, DW_SHIFT(e, ez, 3))                                         \
    }
#define DW_OUT(r, unused)                                                     \
    if (oy0 + r < OH) {                                                       \
        ulong o = pl_out + (ulong)(oy0 + r) * OW + ox0;                       \
        cd_out16(acc##r + bv, res + res_off + o, has_res, dst + dst_off + o,  \
                 n, act, alpha, beta);                                        \
    }
#define DW_FIXED_KERNEL(NAME)                                                 \
__kernel void NAME(global const float *src, ulong src_off,                    \
                   global const float *wp, ulong w_off, ulong b_off,          \
                   int has_bias, global const float *res, ulong res_off,      \
                   int has_res, global float *dst, ulong dst_off, int C,      \
                   int H, int W, int OH, int OW, int py, int px, int cpb,     \
                   int wz, int act, float alpha, float beta)                  \
{                                                                             \
    local float lds[DW_NT * DW_LW] __attribute__((aligned(64)));              \
    int oy0 = get_global_id(0) * 8, c0 = get_global_id(1) * cpb;              \
    int b = get_global_id(2);                                                 \
    ulong in_n = (ulong)C * H * W, out_n = (ulong)C * OH * OW;                \
    int iy0 = oy0 * DWS - py;                                                 \
    int c1 = min(C, c0 + cpb);                                                \
    /* input rows the block's output rows need */                             \
    int nrows = min(DW_NT, (min(8, OH - oy0) - 1) * DWS + DWK);               \
    for (int c = c0; c < c1; c++) {                                           \
        global const float *in = src + src_off + b * in_n + (ulong)c * H * W; \
        global const float *wt = wp + w_off + (ulong)c * DWK * DWK;           \
        long lo = -(long)c * H * W, hi = (long)in_n + lo;                     \
        ulong pl_out = b * out_n + (ulong)c * OH * OW;                        \
        float bv = has_bias ? wp[b_off + c] : 0.0f;                           \
        for (int cx = 0; cx < OW; cx += 64) {                                 \
            int ix0 = cx * DWS - px, nout = min(64, OW - cx);                 \
            /* per stride phase: columns the chunk's windows read */          \
            int ncol = min(DW_LP, nout + (DWK - 1) / DWS);                    \
            for (int t = 0; t < nrows; t++) {                                 \
                int iy = iy0 + t;                                             \
                local float *l = lds + t * DW_LW;                             \
                global const float *row = in + (long)iy * W;                  \
                bool rok = iy >= 0 && iy < H;                                 \
                long rel = (long)iy * W + ix0;                                \
                for (int j = 0; j < ncol; j += 16) {                          \
                    if (DWS == 1) {                                           \
                        *(local float16 *)(l + j) =                           \
                            dw_stage16(row, ix0 + j, W, rok, rel + j, lo, hi);\
                    } else {                                                  \
                        int ix = ix0 + 2 * j;                                 \
                        float16 a = dw_stage16(row, ix, W, rok, rel + 2 * j,  \
                                               lo, hi);                       \
                        float16 z = dw_stage16(row, ix + 16, W, rok,          \
                                               rel + 2 * j + 16, lo, hi);     \
                        *(local float16 *)(l + j) =                           \
                            (float16)(a.even, z.even);                        \
                        *(local float16 *)(l + DW_LP + j) =                   \
                            (float16)(a.odd, z.odd);                          \
                    }                                                         \
                }                                                             \
            }                                                                 \
            int nt = (nout + 15) / 16;                                        \
            for (int tx = 0; tx < nt; tx++) {                                 \
                local const float *lt = lds + tx * 16;                        \
                DW_R8(DW_ACC, 0)                                              \
                _Pragma("unroll")                                             \
                for (int t = 0; t < DW_NT; t++) {                             \
                    local const float *lr = lt + t * DW_LW;                   \
                    global const float *wrow = wt + t * wz;                   \
                    DW_ROW_TAPS(lr)                                           \
                }                                                             \
                int ox0 = cx + tx * 16, n = min(16, OW - ox0);                \
                DW_R8(DW_OUT, 0)                                              \
            }                                                                 \
        }                                                                     \
    }                                                                         \
}

#define DWK 3
#define DWS 1
#define DW_ROW_TAPS DW_ROW_TAPS1
DW_FIXED_KERNEL(cd_conv_dw3_s1)
#undef DWS
#undef DW_ROW_TAPS
#define DWS 2
#define DW_ROW_TAPS DW_ROW_TAPS2
DW_FIXED_KERNEL(cd_conv_dw3_s2)
#undef DWS
#undef DW_ROW_TAPS
#undef DWK
#define DWK 5
#define DWS 1
#define DW_ROW_TAPS DW_ROW_TAPS1
DW_FIXED_KERNEL(cd_conv_dw5_s1)
#undef DWS
#undef DW_ROW_TAPS
#define DWS 2
#define DW_ROW_TAPS DW_ROW_TAPS2
DW_FIXED_KERNEL(cd_conv_dw5_s2)
#undef DWS
#undef DW_ROW_TAPS
#undef DWK
#define DWK 7
#define DWS 1
#define DW_ROW_TAPS DW_ROW_TAPS1
DW_FIXED_KERNEL(cd_conv_dw7_s1)
#undef DWS
#undef DW_ROW_TAPS
#define DWS 2
#define DW_ROW_TAPS DW_ROW_TAPS2
DW_FIXED_KERNEL(cd_conv_dw7_s2)
#undef DWS
#undef DW_ROW_TAPS
#undef DWK
