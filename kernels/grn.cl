/* grn.cl — global response normalisation (ConvNeXt V2 / UniRepLKNet). One
 * work-group per sample: per-channel L2 norms into local memory, their mean,
 * then out = x * (1 + gamma[c] * G[c] / (mean G + eps)) + beta[c]. The sample
 * is viewed as (outer, C, inner): channels-last has inner == 1, channels-first
 * outer == 1. Helpers are prefixed grn_. */

/* Sum of squares of n floats from p (vectorised by 8). */
float grn_sumsq(global const float *p, uint n)
{
    float8 acc = 0.0f;
    uint n8 = n & ~7u, j = 0;
    for (; j < n8; j += 8u) {
        float8 v = vload8(0, p + j);
        acc = fma(v, v, acc);
    }
    float s = 0.0f;
    for (; j < n; j++)
        s = fma(p[j], p[j], s);
    float4 h = acc.lo + acc.hi;
    return s + h.s0 + h.s1 + h.s2 + h.s3;
}

/* src/dst (N, outer, C, inner) at offsets; gamma, beta (C) in wp. gws =
 * (L * N), lws = (L); sc: local (C + 1) floats. */
kernel void cd_grn(global const float *src, ulong src_off,
                   global const float *wp, ulong g_off, ulong b_off,
                   global float *dst, ulong dst_off, uint outer, uint C,
                   uint inner, float eps, local float *sc)
{
    uint lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    uint b = (uint)get_group_id(0);
    ulong n = (ulong)outer * C * inner;
    global const float *x = src + src_off + b * n;
    global float *y = dst + dst_off + b * n;
    if (inner == 1u) {
        /* channels-last: 8 adjacent channels per work-item, walk the rows */
        for (uint c0 = lid * 8u; c0 < C; c0 += L * 8u) {
            if (c0 + 8u <= C) {
                float8 acc = 0.0f;
                for (uint o = 0; o < outer; o++) {
                    float8 v = vload8(0, x + (ulong)o * C + c0);
                    acc = fma(v, v, acc);
                }
                vstore8(sqrt(acc), 0, sc + c0);
            } else {
                for (uint c = c0; c < C; c++) {
                    float s = 0.0f;
                    for (uint o = 0; o < outer; o++) {
                        float v = x[(ulong)o * C + c];
                        s = fma(v, v, s);
                    }
                    sc[c] = sqrt(s);
                }
            }
        }
    } else {
        for (uint c = lid; c < C; c += L) {
            float s = 0.0f;
            for (uint o = 0; o < outer; o++)
                s += grn_sumsq(x + ((ulong)o * C + c) * inner, inner);
            sc[c] = sqrt(s);
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid == 0u) {
        float m = 0.0f;
        for (uint c = 0; c < C; c++)
            m += sc[c];
        sc[C] = m / (float)C;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float inv = 1.0f / (sc[C] + eps);
    if (inner == 1u) {
        for (uint c0 = lid * 8u; c0 < C; c0 += L * 8u)
            for (uint c = c0; c < min(c0 + 8u, C); c++)
                sc[c] = fma(wp[g_off + c], sc[c] * inv, 1.0f);
    } else {
        for (uint c = lid; c < C; c += L)
            sc[c] = fma(wp[g_off + c], sc[c] * inv, 1.0f);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (inner > 1u) {
        /* channels-first: chunks of 8 inside each (o, c) row */
        uint nch = (inner + 7u) / 8u;
        ulong total = (ulong)outer * C * nch;
        for (ulong q = lid; q < total; q += L) {
            ulong row = q / nch;
            uint c = (uint)(row % C), j = (uint)(q % nch) * 8u;
            ulong k = row * inner + j;
            float s = sc[c], bt = wp[b_off + c];
            if (j + 8u <= inner) {
                vstore8(fma(vload8(0, x + k), (float8)s, (float8)bt), 0, y + k);
            } else {
                for (uint i = j; i < inner; i++, k++)
                    y[k] = fma(x[k], s, bt);
            }
        }
        return;
    }
    /* channels-last: 8 adjacent channels of one position per step */
    bool vec_last = C % 8u == 0u;
    for (ulong k = (ulong)lid * 8u; k < n; k += (ulong)L * 8u) {
        if (k + 8u <= n && vec_last) {
            uint c = (uint)(k % C);
            float8 v = vload8(0, x + k);
            vstore8(fma(v, vload8(0, sc + c), vload8(0, wp + b_off + c)), 0,
                    y + k);
        } else {
            ulong e = min(k + 8u, n);
            for (ulong i = k; i < e; i++) {
                uint c = (uint)(i % C);
                y[i] = fma(x[i], sc[c], wp[b_off + c]);
            }
        }
    }
}
