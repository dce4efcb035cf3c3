/* norm.cl — normalisation kernels: layernorm over a middle axis or the last
 * dim (cd_layernorm, cd_layernorm_rows) and softmax likewise (cd_softmax,
 * cd_softmax_rows); inference batchnorm, with its fused activation, is
 * cd_batchnorm_act in norm_act.cl.
 * A tensor is viewed as (outer, len, inner): "rows" kernels reduce contiguous
 * runs (inner == 1), one work-item per row; "cols" kernels reduce with stride
 * inner, one work-item per 8 adjacent columns. Helpers are prefixed nrm_. */

/* Sum of the 16 lanes of v. */
static inline float nrm_sum16(float16 v)
{
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    return (b.x + b.y) + (b.z + b.w);
}

/* Rows of len contiguous floats: out = (x - mean) / sqrt(var + eps) * w + b,
 * w and b (len) optional (has_w, has_b). Each work-item normalises rpi
 * consecutive rows (the row stays in L1 across the three passes), 16
 * floats at a time. Global size ceil(rows / rpi), one work-item per
 * work-group. */
kernel void cd_layernorm_rows(global float *out, ulong out_off,
                              global const float *in, ulong in_off,
                              global const float *wp, ulong w_off,
                              ulong b_off, int has_w, int has_b,
                              uint rows, uint len, float eps, uint rpi)
{
    uint r0 = (uint)get_global_id(0) * rpi;
    if (r0 >= rows)
        return;
    uint r1 = min(r0 + rpi, rows), len16 = len & ~15u;
    global const float *w = wp + w_off, *bb = wp + b_off;
    for (uint r = r0; r < r1; r++) {
        global const float *x = in + in_off + (ulong)r * len;
        global float *o = out + out_off + (ulong)r * len;
        float16 acc = 0.0f;
        float sum = 0.0f;
        for (uint j = 0; j < len16; j += 16u)
            acc += vload16(0, x + j);
        for (uint j = len16; j < len; j++)
            sum += x[j];
        float mean = (sum + nrm_sum16(acc)) / (float)len;
        acc = 0.0f;
        sum = 0.0f;
        for (uint j = 0; j < len16; j += 16u) {
            float16 d = vload16(0, x + j) - mean;
            acc += d * d;
        }
        for (uint j = len16; j < len; j++)
            sum += (x[j] - mean) * (x[j] - mean);
        float rstd = 1.0f / sqrt((sum + nrm_sum16(acc)) / (float)len + eps);
        for (uint j = 0; j < len16; j += 16u) {
            float16 v = (vload16(0, x + j) - mean) * rstd;
            if (has_w)
                v *= vload16(0, w + j);
            if (has_b)
                v += vload16(0, bb + j);
            vstore16(v, 0, o + j);
        }
        for (uint j = len16; j < len; j++) {
            float v = (x[j] - mean) * rstd;
            if (has_w)
                v *= w[j];
            if (has_b)
                v += bb[j];
            o[j] = v;
        }
    }
}

/* x is (outer, len, inner), normalised over len for each (outer, inner)
 * column; w and b (len) optional. Each work-item normalises 64 adjacent
 * columns as four float16 (four cache lines per row in flight; the len
 * rows of 256 bytes stay in L1/L2 across the three passes); a block
 * narrower than 64 goes 16 columns, then one column, at a time. Global
 * size (ceil(inner / 64), outer), one work-item per work-group. */
kernel void cd_layernorm(global float *out, ulong out_off,
                         global const float *in, ulong in_off,
                         global const float *wp, ulong w_off, ulong b_off,
                         int has_w, int has_b, uint outer, uint len,
                         uint inner, float eps)
{
    uint s = (uint)get_global_id(0) * 64u;
    uint q = (uint)get_global_id(1);
    if (s >= inner || q >= outer)
        return;
    ulong base = (ulong)q * len * inner + s;
    global const float *x = in + in_off + base;
    global float *o = out + out_off + base;
    float inv = 1.0f / (float)len;
    if (s + 64u <= inner) {
        float16 s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (uint c = 0; c < len; c++) {
            global const float *r = x + (ulong)c * inner;
            s0 += vload16(0, r);
            s1 += vload16(1, r);
            s2 += vload16(2, r);
            s3 += vload16(3, r);
        }
        float16 m0 = s0 * inv, m1 = s1 * inv, m2 = s2 * inv, m3 = s3 * inv;
        s0 = s1 = s2 = s3 = 0.0f;
        for (uint c = 0; c < len; c++) {
            global const float *r = x + (ulong)c * inner;
            float16 d0 = vload16(0, r) - m0, d1 = vload16(1, r) - m1,
                    d2 = vload16(2, r) - m2, d3 = vload16(3, r) - m3;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        s0 = rsqrt(s0 * inv + eps);
        s1 = rsqrt(s1 * inv + eps);
        s2 = rsqrt(s2 * inv + eps);
        s3 = rsqrt(s3 * inv + eps);
        for (uint c = 0; c < len; c++) {
            global const float *r = x + (ulong)c * inner;
            global float *d = o + (ulong)c * inner;
            float w = has_w ? wp[w_off + c] : 1.0f;
            float b = has_b ? wp[b_off + c] : 0.0f;
            vstore16((vload16(0, r) - m0) * (s0 * w) + b, 0, d);
            vstore16((vload16(1, r) - m1) * (s1 * w) + b, 1, d);
            vstore16((vload16(2, r) - m2) * (s2 * w) + b, 2, d);
            vstore16((vload16(3, r) - m3) * (s3 * w) + b, 3, d);
        }
        return;
    }
    uint k = 0, n = inner - s;
    for (; k + 16u <= n; k += 16u) {
        float16 sum = 0.0f, ss = 0.0f;
        for (uint c = 0; c < len; c++)
            sum += vload16(0, x + (ulong)c * inner + k);
        float16 mean = sum * inv;
        for (uint c = 0; c < len; c++) {
            float16 d = vload16(0, x + (ulong)c * inner + k) - mean;
            ss += d * d;
        }
        float16 rstd = rsqrt(ss * inv + eps);
        for (uint c = 0; c < len; c++) {
            float w = has_w ? wp[w_off + c] : 1.0f;
            float b = has_b ? wp[b_off + c] : 0.0f;
            float16 v = vload16(0, x + (ulong)c * inner + k);
            vstore16((v - mean) * (rstd * w) + b, 0,
                     o + (ulong)c * inner + k);
        }
    }
    for (; k < n; k++) {
        float sum = 0.0f, ss = 0.0f;
        for (uint c = 0; c < len; c++)
            sum += x[(ulong)c * inner + k];
        float mean = sum * inv;
        for (uint c = 0; c < len; c++) {
            float d = x[(ulong)c * inner + k] - mean;
            ss += d * d;
        }
        float rstd = rsqrt(ss * inv + eps);
        for (uint c = 0; c < len; c++) {
            float w = has_w ? wp[w_off + c] : 1.0f;
            float b = has_b ? wp[b_off + c] : 0.0f;
            o[(ulong)c * inner + k] =
                (x[(ulong)c * inner + k] - mean) * (rstd * w) + b;
        }
    }
}

/* Softmax over rows of len contiguous floats; one work-item per row. */
kernel void cd_softmax_rows(global float *out, ulong out_off,
                            global const float *in, ulong in_off,
                            uint rows, uint len)
{
    uint r = (uint)get_global_id(0);
    if (r >= rows)
        return;
    global const float *x = in + in_off + (ulong)r * len;
    global float *o = out + out_off + (ulong)r * len;
    uint len8 = len & ~7u;
    float8 m8 = (float8)(-INFINITY);
    float m = -INFINITY;
    for (uint j = 0; j < len8; j += 8u)
        m8 = fmax(m8, vload8(0, x + j));
    for (uint j = len8; j < len; j++)
        m = fmax(m, x[j]);
    m = fmax(m, fmax(fmax(fmax(m8.s0, m8.s1), fmax(m8.s2, m8.s3)),
                     fmax(fmax(m8.s4, m8.s5), fmax(m8.s6, m8.s7))));
    float8 acc = 0.0f;
    float sum = 0.0f;
    for (uint j = 0; j < len8; j += 8u) {
        float8 e = exp(vload8(0, x + j) - m);
        vstore8(e, 0, o + j);
        acc += e;
    }
    for (uint j = len8; j < len; j++) {
        float e = exp(x[j] - m);
        o[j] = e;
        sum += e;
    }
    sum += acc.s0 + acc.s1 + acc.s2 + acc.s3 + acc.s4 + acc.s5 + acc.s6 +
           acc.s7;
    float inv = 1.0f / sum;
    for (uint j = 0; j < len8; j += 8u)
        vstore8(vload8(0, o + j) * inv, 0, o + j);
    for (uint j = len8; j < len; j++)
        o[j] *= inv;
}

/* Softmax of x (outer, len, inner) over len; global size
 * (ceil(inner / 8), outer). */
kernel void cd_softmax(global float *out, ulong out_off,
                            global const float *in, ulong in_off,
                            uint outer, uint len, uint inner)
{
    uint s = (uint)get_global_id(0) * 8u;
    uint q = (uint)get_global_id(1);
    if (s >= inner || q >= outer)
        return;
    ulong base = (ulong)q * len * inner + s;
    global const float *x = in + in_off + base;
    global float *o = out + out_off + base;
    if (s + 8u <= inner) {
        float8 m = (float8)(-INFINITY), sum = 0.0f;
        for (uint c = 0; c < len; c++)
            m = fmax(m, vload8(0, x + (ulong)c * inner));
        for (uint c = 0; c < len; c++) {
            float8 e = exp(vload8(0, x + (ulong)c * inner) - m);
            vstore8(e, 0, o + (ulong)c * inner);
            sum += e;
        }
        float8 inv = 1.0f / sum;
        for (uint c = 0; c < len; c++)
            vstore8(vload8(0, o + (ulong)c * inner) * inv, 0,
                    o + (ulong)c * inner);
        return;
    }
    for (uint k = 0; k < inner - s; k++) {
        float m = -INFINITY, sum = 0.0f;
        for (uint c = 0; c < len; c++)
            m = fmax(m, x[(ulong)c * inner + k]);
        for (uint c = 0; c < len; c++) {
            float e = exp(x[(ulong)c * inner + k] - m);
            o[(ulong)c * inner + k] = e;
            sum += e;
        }
        for (uint c = 0; c < len; c++)
            o[(ulong)c * inner + k] /= sum;
    }
}
