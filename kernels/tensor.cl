/* tensor.cl — data movement: contiguous copy (cd_copy), strided N-d copy for
 * concat/slice/permute (cd_copy_strided), constant padding (cd_pad) and
 * nearest/bilinear upsampling (cd_upsample). No arithmetic beyond indexing
 * and interpolation. Shapes are passed right-aligned in int8 vectors: slot 7
 * is the innermost dim, unused outer slots hold dim 1, stride 0. Helpers are
 * prefixed tns_. */

/* Offsets in two tensors of row r, the index over slots 0..6 of d with
 * strides sa and sb (slot 7, the row itself, is not used). Unrolled: POCL
 * handles private arrays indexed at run time poorly. */
#define TNS_STEP(k)                                                           \
    if (r == 0u)                                                              \
        return o;                                                             \
    c = r % (uint)d.k;                                                        \
    r /= (uint)d.k;                                                           \
    o.x += (long)c * sa.k;                                                    \
    o.y += (long)c * sb.k;
inline long2 tns_row_offsets(uint r, int8 d, int8 sa, int8 sb)
{
    long2 o = (long2)(0, 0);
    uint c;
    TNS_STEP(s6) TNS_STEP(s5) TNS_STEP(s4) TNS_STEP(s3) TNS_STEP(s2)
    TNS_STEP(s1) TNS_STEP(s0)
    return o;
}
#undef TNS_STEP

/* out[i] = in[i] for n floats; global size ceil(n / 8). */
kernel void cd_copy(global float *out, ulong out_off,
                    global const float *in, ulong in_off, uint n)
{
    uint i = (uint)get_global_id(0) * 8u;
    global float *o = out + out_off;
    global const float *x = in + in_off;
    if (i + 8u <= n) {
        vstore8(vload8(0, x + i), 0, o + i);
        return;
    }
    for (; i < n; i++)
        o[i] = x[i];
}

/* For every index (i0..i7) of the shape dims: out[sum ik*os_k] =
 * in[sum ik*is_k] (strides in floats, may be negative for the input as long
 * as in_off points at index 0). Global size (ceil(dims.s7 / 8), rows) with
 * rows = dims.s0 * ... * dims.s6. */
kernel void cd_copy_strided(global float *out, ulong out_off,
                            global const float *in, ulong in_off,
                            int8 dims, int8 istr, int8 ostr, uint rows)
{
    uint s = (uint)get_global_id(0) * 8u;
    uint r = (uint)get_global_id(1);
    uint len = (uint)dims.s7;
    if (s >= len || r >= rows)
        return;
    long2 b = tns_row_offsets(r, dims, istr, ostr);
    long ib = b.x, ob = b.y;
    global const float *x = in + in_off + ib;
    global float *o = out + out_off + ob;
    int is7 = istr.s7, os7 = ostr.s7;
    if (s + 8u <= len && is7 == 1 && os7 == 1) {
        vstore8(vload8(0, x + s), 0, o + s);
        return;
    }
    uint end = min(s + 8u, len);
    for (; s < end; s++)
        o[(long)s * os7] = x[(long)s * is7];
}

/* Four rows of 16 floats (a..d: L = 0..3, lanes along T) to 16 columns of
 * 4: per 128-bit lane a 4x4 transpose (unpack, then 64-bit unpack), so
 * column t of the 16 is lane block t / 4 of result t % 4. */
#define TNS_QUAD(a, b, c, d, o, os)                                           \
    {                                                                         \
        float16 t0_ = (float16)(a.s0, b.s0, a.s1, b.s1, a.s4, b.s4, a.s5,     \
                                b.s5, a.s8, b.s8, a.s9, b.s9, a.sc, b.sc,     \
                                a.sd, b.sd);                                  \
        float16 t1_ = (float16)(a.s2, b.s2, a.s3, b.s3, a.s6, b.s6, a.s7,     \
                                b.s7, a.sa, b.sa, a.sb, b.sb, a.se, b.se,     \
                                a.sf, b.sf);                                  \
        float16 t2_ = (float16)(c.s0, d.s0, c.s1, d.s1, c.s4, d.s4, c.s5,     \
                                d.s5, c.s8, d.s8, c.s9, d.s9, c.sc, d.sc,     \
                                c.sd, d.sd);                                  \
        float16 t3_ = (float16)(c.s2, d.s2, c.s3, d.s3, c.s6, d.s6, c.s7,     \
                                d.s7, c.sa, d.sa, c.sb, d.sb, c.se, d.se,     \
                                c.sf, d.sf);                                  \
        float16 u0_ = (float16)(t0_.s01, t2_.s01, t0_.s45, t2_.s45,           \
                                t0_.s89, t2_.s89, t0_.scd, t2_.scd);          \
        float16 u1_ = (float16)(t0_.s23, t2_.s23, t0_.s67, t2_.s67,           \
                                t0_.sab, t2_.sab, t0_.sef, t2_.sef);          \
        float16 u2_ = (float16)(t1_.s01, t3_.s01, t1_.s45, t3_.s45,           \
                                t1_.s89, t3_.s89, t1_.scd, t3_.scd);          \
        float16 u3_ = (float16)(t1_.s23, t3_.s23, t1_.s67, t3_.s67,           \
                                t1_.sab, t3_.sab, t1_.sef, t3_.sef);          \
        vstore4(u0_.s0123, 0, o);                                             \
        vstore4(u1_.s0123, 0, o + os);                                        \
        vstore4(u2_.s0123, 0, o + 2 * os);                                    \
        vstore4(u3_.s0123, 0, o + 3 * os);                                    \
        vstore4(u0_.s4567, 0, o + 4 * os);                                    \
        vstore4(u1_.s4567, 0, o + 5 * os);                                    \
        vstore4(u2_.s4567, 0, o + 6 * os);                                    \
        vstore4(u3_.s4567, 0, o + 7 * os);                                    \
        vstore4(u0_.s89ab, 0, o + 8 * os);                                    \
        vstore4(u1_.s89ab, 0, o + 9 * os);                                    \
        vstore4(u2_.s89ab, 0, o + 10 * os);                                   \
        vstore4(u3_.s89ab, 0, o + 11 * os);                                   \
        vstore4(u0_.scdef, 0, o + 12 * os);                                   \
        vstore4(u1_.scdef, 0, o + 13 * os);                                   \
        vstore4(u2_.scdef, 0, o + 14 * os);                                   \
        vstore4(u3_.scdef, 0, o + 15 * os);                                   \
    }

/* Transposing copy: the output is contiguous along L (slot "inner"), the
 * input along T. dims/istr/ostr describe the remaining dims (slots 0..6,
 * unused slots 1 and 0). Each work-item covers a block of lr positions
 * along L and tr along T in 16x16 tiles: four quads of input rows (4
 * along L, 16 vector-loaded along T) each transposed in registers
 * (TNS_QUAD) and stored as 16 float4; a block spans whole cache lines on
 * both sides. Edges past the last whole tile copy element by element.
 * Global size (ceil(L / lr), ceil(T / tr), rows of the remaining dims),
 * one work-item per work-group. */
kernel void cd_copy_transpose(global float *out, ulong out_off,
                              global const float *in, ulong in_off,
                              int8 dims, int8 istr, int8 ostr, uint rows,
                              uint L, uint T, int is_l, int os_t, uint lr,
                              uint tr)
{
    uint lb = (uint)get_global_id(0) * lr;
    uint tb = (uint)get_global_id(1) * tr;
    uint r = (uint)get_global_id(2);
    if (lb >= L || tb >= T || r >= rows)
        return;
    long2 b = tns_row_offsets(r, dims, istr, ostr);
    uint te = min(tb + tr, T), le = min(lb + lr, L);
    global const float *x = in + in_off + b.x;
    global float *o = out + out_off + b.y;
    uint t0 = tb;
    for (; t0 + 16u <= te; t0 += 16u) {
        uint l0 = lb;
        for (; l0 + 16u <= le; l0 += 16u) {
            global const float *xs = x + (long)l0 * is_l + t0;
            global float *os = o + (long)t0 * os_t + l0;
            for (int q = 0; q < 16; q += 4) {
                global const float *xq = xs + (long)q * is_l;
                float16 ra = vload16(0, xq), rb = vload16(0, xq + is_l),
                        rc = vload16(0, xq + 2 * (long)is_l),
                        rd = vload16(0, xq + 3 * (long)is_l);
                TNS_QUAD(ra, rb, rc, rd, (os + q), os_t)
            }
        }
        for (uint t = t0; t < t0 + 16u; t++)
            for (uint i = l0; i < le; i++)
                o[(long)t * os_t + i] = x[(long)i * is_l + t];
    }
    for (; t0 < te; t0++)
        for (uint i = lb; i < le; i++)
            o[(long)t0 * os_t + i] = x[(long)i * is_l + t0];
}
#undef TNS_QUAD

/* out (od) = in (id) placed at offset pb in every dim, value elsewhere; in
 * is contiguous. Each work-item fills up to 64 floats of one output row.
 * Global size (ceil(od.s7 / 64), rows of out). */
#define TNS_PAD_STEP(k)                                                       \
    if (r > 0u) {                                                             \
        c = (int)(r % (uint)od.k) - pb.k;                                     \
        r /= (uint)od.k;                                                      \
        inside = inside && c >= 0 && c < id.k;                                \
        ib += (long)c * istride;                                              \
    } else {                                                                  \
        inside = inside && pb.k == 0;                                         \
    }                                                                         \
    istride *= id.k;
kernel void cd_pad(global float *out, ulong out_off,
                   global const float *in, ulong in_off,
                   int8 od, int8 id, int8 pb, uint rows, float value)
{
    uint s = (uint)get_global_id(0) * 64u;
    uint r = (uint)get_global_id(1);
    uint len = (uint)od.s7;
    if (s >= len || r >= rows)
        return;
    global float *o = out + out_off + (ulong)r * len;
    uint end = min(s + 64u, len);
    long ib = 0, istride = id.s7;
    bool inside = true;
    int c;
    TNS_PAD_STEP(s6) TNS_PAD_STEP(s5) TNS_PAD_STEP(s4) TNS_PAD_STEP(s3)
    TNS_PAD_STEP(s2) TNS_PAD_STEP(s1) TNS_PAD_STEP(s0)
    if (!inside) {
        for (; s + 8u <= end; s += 8u)
            vstore8((float8)value, 0, o + s);
        for (; s < end; s++)
            o[s] = value;
        return;
    }
    global const float *x = in + in_off + ib;
    int w = id.s7, x0 = (int)s - pb.s7;
    for (; s < end && x0 < 0; s++, x0++)
        o[s] = value;
    for (; s + 8u <= end && x0 + 8 <= w; s += 8u, x0 += 8)
        vstore8(vload8(0, x + x0), 0, o + s);
    for (; s < end; s++, x0++)
        o[s] = x0 < w ? x[x0] : value;
}
#undef TNS_PAD_STEP

/* PyTorch nearest_idx (legacy 'nearest'): scale is in/out or 1/scale. */
inline uint tns_nearest(uint o, uint in, uint out, float scale)
{
    if (out == in)
        return o;
    if (out == 2u * in)
        return o >> 1;
    return min((uint)floor((float)o * scale), in - 1u);
}

/* PyTorch linear source index and weight of i1 (lambda in [0, 1]). */
inline uint tns_linear(uint o, uint in, uint out, float scale, int align,
                       uint *i1, float *l1)
{
    if (out == in) {
        *i1 = o;
        *l1 = 0.0f;
        return o;
    }
    float src = align ? scale * (float)o
                      : fmax(scale * ((float)o + 0.5f) - 0.5f, 0.0f);
    uint i0 = (uint)src;
    *i1 = i0 + (i0 < in - 1u ? 1u : 0u);
    *l1 = clamp(src - (float)i0, 0.0f, 1.0f);
    return i0;
}

/* x is (planes, D, H, W), out (planes, Do, Ho, Wo); 1-D and 2-D inputs use
 * D = Do = 1 (and H = Ho = 1). mode 0 nearest, 1 bilinear (2-D only). sd,
 * sh, sw are the scales from the host (PyTorch area_pixel_compute_scale).
 * Each work-item writes up to 32 floats of one output row. Global size
 * (ceil(Wo / 32), planes * Do * Ho). */
kernel void cd_upsample(global float *out, ulong out_off,
                        global const float *in, ulong in_off, uint planes,
                        uint D, uint H, uint W, uint Do, uint Ho, uint Wo,
                        float sd, float sh, float sw, int mode, int align)
{
    uint s = (uint)get_global_id(0) * 32u;
    uint r = (uint)get_global_id(1);
    if (s >= Wo || r >= planes * Do * Ho)
        return;
    uint oy = r % Ho, oz = (r / Ho) % Do, p = r / (Ho * Do);
    global const float *x = in + in_off + (ulong)p * D * H * W;
    global float *o = out + out_off + (ulong)r * Wo;
    uint end = min(s + 32u, Wo);
    if (mode == 0) {
        uint iz = tns_nearest(oz, D, Do, sd), iy = tns_nearest(oy, H, Ho, sh);
        global const float *xr = x + ((ulong)iz * H + iy) * W;
        for (; s < end; s++)
            o[s] = xr[tns_nearest(s, W, Wo, sw)];
        return;
    }
    uint y1, x1;
    float ly1, lx1;
    uint y0 = tns_linear(oy, H, Ho, sh, align, &y1, &ly1);
    global const float *r0 = x + (ulong)y0 * W;
    global const float *r1 = x + (ulong)y1 * W;
    if (Wo != W) { /* 8 columns at a time: vector coordinates, gathers */
        const float8 iota = (float8)(0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f,
                                     6.0f, 7.0f);
        for (; s + 8u <= end; s += 8u) {
            float8 ox = (float8)((float)s) + iota;
            float8 fx = align ? sw * ox : fmax(sw * (ox + 0.5f) - 0.5f, 0.0f);
            int8 i0 = min(convert_int8(fx), (int8)(W - 1u));
            int8 i1 = i0 + select((int8)0, (int8)1, i0 < (int8)(W - 1u));
            float8 l1 = clamp(fx - convert_float8(i0), 0.0f, 1.0f);
            float8 a0 = (float8)(r0[i0.s0], r0[i0.s1], r0[i0.s2], r0[i0.s3],
                                 r0[i0.s4], r0[i0.s5], r0[i0.s6], r0[i0.s7]);
            float8 a1 = (float8)(r0[i1.s0], r0[i1.s1], r0[i1.s2], r0[i1.s3],
                                 r0[i1.s4], r0[i1.s5], r0[i1.s6], r0[i1.s7]);
            float8 b0 = (float8)(r1[i0.s0], r1[i0.s1], r1[i0.s2], r1[i0.s3],
                                 r1[i0.s4], r1[i0.s5], r1[i0.s6], r1[i0.s7]);
            float8 b1 = (float8)(r1[i1.s0], r1[i1.s1], r1[i1.s2], r1[i1.s3],
                                 r1[i1.s4], r1[i1.s5], r1[i1.s6], r1[i1.s7]);
            float8 l0 = 1.0f - l1;
            vstore8((1.0f - ly1) * (l0 * a0 + l1 * a1) +
                        ly1 * (l0 * b0 + l1 * b1), 0, o + s);
        }
    }
    for (; s < end; s++) {
        uint x0 = tns_linear(s, W, Wo, sw, align, &x1, &lx1);
        o[s] = (1.0f - ly1) * ((1.0f - lx1) * r0[x0] + lx1 * r0[x1]) +
               ly1 * ((1.0f - lx1) * r1[x0] + lx1 * r1[x1]);
    }
}
