/* pool.cl — pooling kernels: cd_pool (max or average, 1-D to 3-D, stride,
 * padding, dilation for max, ceil_mode windows, count_include_pad), its
 * vectorised 2-D forms cd_pool2d_max / cd_pool2d_avg (16 outputs of a row
 * per float16), cd_adaptive_avgpool and cd_global_avgpool. Follows
 * PyTorch's window and divisor rules. Helpers are prefixed pool_; nothing
 * here reads outside the tensors it is given. */

/* in (N, C, D, H, W), out (N, C, OD, OH, OW); 1-D/2-D have leading sizes 1.
 * isz = (C, D, H, W), osz = (C, OD, OH, OW); ksz/strd/dil/padb/pade per
 * (d, h, w). gws = (OD * OH * OW, C, N). */
__kernel void cd_pool(global const float *src, ulong src_off,
                      global float *dst, ulong dst_off, int8 isz, int8 osz,
                      int8 ksz, int8 strd, int8 dil, int8 padb, int8 pade,
                      int is_max, int count_include_pad)
{
    int p = get_global_id(0), c = get_global_id(1), b = get_global_id(2);
    int C = isz.s0, D = isz.s1, H = isz.s2, W = isz.s3;
    int OD = osz.s1, OH = osz.s2, OW = osz.s3;
    if (p >= OD * OH * OW)
        return;
    int ox = p % OW, oy = (p / OW) % OH, oz = p / (OW * OH);
    global const float *in = src + src_off + (ulong)b * C * D * H * W +
                             (ulong)c * D * H * W;
    ulong o = dst_off + (ulong)b * C * OD * OH * OW + (ulong)c * OD * OH * OW + p;
    int zs = oz * strd.s0 - padb.s0, ys = oy * strd.s1 - padb.s1,
        xs = ox * strd.s2 - padb.s2;
    if (is_max) {
        float m = -INFINITY;
        for (int kz = 0; kz < ksz.s0; kz++) {
            int iz = zs + kz * dil.s0;
            if (iz < 0 || iz >= D)
                continue;
            for (int ky = 0; ky < ksz.s1; ky++) {
                int iy = ys + ky * dil.s1;
                if (iy < 0 || iy >= H)
                    continue;
                global const float *row = in + ((ulong)iz * H + iy) * W;
                for (int kx = 0; kx < ksz.s2; kx++) {
                    int ix = xs + kx * dil.s2;
                    if (ix < 0 || ix >= W)
                        continue;
                    float v = row[ix];
                    if (v > m || isnan(v))
                        m = v;
                }
            }
        }
        dst[o] = m;
        return;
    }
    int ze = min(zs + ksz.s0, D + pade.s0), ye = min(ys + ksz.s1, H + pade.s1),
        xe = min(xs + ksz.s2, W + pade.s2);
    int pool_size = (ze - zs) * (ye - ys) * (xe - xs);
    zs = max(zs, 0);
    ys = max(ys, 0);
    xs = max(xs, 0);
    ze = min(ze, D);
    ye = min(ye, H);
    xe = min(xe, W);
    float s = 0.0f;
    for (int iz = zs; iz < ze; iz++)
        for (int iy = ys; iy < ye; iy++) {
            global const float *row = in + ((ulong)iz * H + iy) * W;
            for (int ix = xs; ix < xe; ix++)
                s += row[ix];
        }
    int n = count_include_pad ? pool_size
                              : (ze - zs) * (ye - ys) * (xe - xs);
    dst[o] = n > 0 ? s / (float)n : 0.0f;
}

/* Adaptive average pooling, PyTorch windows: start = floor(o * I / O),
 * end = ceil((o + 1) * I / O). Shapes and gws as cd_pool. */
__kernel void cd_adaptive_avgpool(global const float *src, ulong src_off,
                                  global float *dst, ulong dst_off, int8 isz,
                                  int8 osz)
{
    int p = get_global_id(0), c = get_global_id(1), b = get_global_id(2);
    int C = isz.s0, D = isz.s1, H = isz.s2, W = isz.s3;
    int OD = osz.s1, OH = osz.s2, OW = osz.s3;
    if (p >= OD * OH * OW)
        return;
    int ox = p % OW, oy = (p / OW) % OH, oz = p / (OW * OH);
    global const float *in = src + src_off + (ulong)b * C * D * H * W +
                             (ulong)c * D * H * W;
    int zs = oz * D / OD, ze = ((oz + 1) * D + OD - 1) / OD;
    int ys = oy * H / OH, ye = ((oy + 1) * H + OH - 1) / OH;
    int xs = ox * W / OW, xe = ((ox + 1) * W + OW - 1) / OW;
    float s = 0.0f;
    for (int iz = zs; iz < ze; iz++)
        for (int iy = ys; iy < ye; iy++) {
            global const float *row = in + ((ulong)iz * H + iy) * W;
            for (int ix = xs; ix < xe; ix++)
                s += row[ix];
        }
    dst[dst_off + (ulong)b * C * OD * OH * OW + (ulong)c * OD * OH * OW + p] =
        s / (float)((ze - zs) * (ye - ys) * (xe - xs));
}

/* Mean over S spatial elements of each (sample, channel): in (N, C, S),
 * out (N, C). gws = (C, N). */
__kernel void cd_global_avgpool(global const float *src, ulong src_off,
                                global float *dst, ulong dst_off, int C, int S)
{
    int c = get_global_id(0), b = get_global_id(1);
    if (c >= C)
        return;
    global const float *in = src + src_off + ((ulong)b * C + c) * S;
    float16 acc = (float16)0.0f;
    int i = 0;
    for (; i + 16 <= S; i += 16)
        acc += vload16(0, in + i);
    float8 a8 = acc.lo + acc.hi;
    float4 a4 = a8.lo + a8.hi;
    float s = (a4.x + a4.y) + (a4.z + a4.w);
    for (; i < S; i++)
        s += in[i];
    dst[dst_off + (ulong)b * C + c] = s / (float)S;
}

/* ---- 2-D pooling, vectorised: each work-item computes `rpi` output rows
 * of one (sample, channel) plane, 16 outputs of a row at a time as one
 * float16. Interior segments (every window inside the row) use plain vector
 * loads (stride 1 or 2 via cd_load16); border segments load with a lane
 * mask (cd_bload16), -inf (max) or 0 (avg) outside the row. Rows outside
 * the input are skipped. Same window and divisor rules as cd_pool.
 * in (N, C, H, W), out (N, C, OH, OW); total = N * C * H * W bounds the
 * vector loads of border segments. gws = (ceil(OH / rpi), C, N). ---- */

/* PyTorch's max: a NaN wins. */
static inline float16 pool_max16(float16 m, float16 v)
{
    return select(m, v, isgreater(v, m) | isnan(v));
}

static inline void pool_store16(float16 v, global float *p, int n)
{
    if (n >= 16)
        vstore16(v, 0, p);
    else
        cd_store_part16(v, p, n);
}

__kernel void cd_pool2d_max(global const float *src, ulong src_off,
                            global float *dst, ulong dst_off, int C, int H,
                            int W, int OH, int OW, int kh, int kw, int sy,
                            int sx, int dy, int dx, int py, int px, int rpi,
                            long total)
{
    int r0 = get_global_id(0) * rpi, c = get_global_id(1),
        b = get_global_id(2);
    if (r0 >= OH)
        return;
    int r1 = min(r0 + rpi, OH);
    long plane = ((long)b * C + c) * H * W;
    global const float *in = src + src_off + plane;
    global float *out = dst + dst_off + ((ulong)b * C + c) * OH * OW;
    const float16 neg = (float16)(-INFINITY);
    for (int oy = r0; oy < r1; oy++) {
        int ys = oy * sy - py;
        global float *orow = out + (ulong)oy * OW;
        for (int x0 = 0; x0 < OW; x0 += 16) {
            int ix = x0 * sx - px;
            float16 m = neg;
            /* cd_load16 reads 16 * sx floats from each tap */
            if (ix >= 0 && ix + 16 * sx - 1 + (kw - 1) * dx < W) {
                for (int ky = 0; ky < kh; ky++) {
                    int iy = ys + ky * dy;
                    if (iy < 0 || iy >= H)
                        continue;
                    global const float *row = in + (long)iy * W + ix;
                    for (int kx = 0; kx < kw; kx++)
                        m = pool_max16(m, cd_load16(row + kx * dx, sx));
                }
            } else {
                for (int ky = 0; ky < kh; ky++) {
                    int iy = ys + ky * dy;
                    if (iy < 0 || iy >= H)
                        continue;
                    global const float *row = in + (long)iy * W;
                    long rel = plane + (long)iy * W;
                    for (int kx = 0; kx < kw; kx++) {
                        int xk = ix + kx * dx;
                        int16 x = xk + CD_LANES16 * sx;
                        float16 v = cd_bload16(row, xk, sx, W, rel + xk, 0,
                                               total);
                        m = pool_max16(m, select(neg, v, x >= 0 && x < W));
                    }
                }
            }
            pool_store16(m, orow + x0, OW - x0);
        }
    }
}

/* Average: pey/pex are the end paddings (the count_include_pad divisor
 * counts the window clipped to the padded input). */
__kernel void cd_pool2d_avg(global const float *src, ulong src_off,
                            global float *dst, ulong dst_off, int C, int H,
                            int W, int OH, int OW, int kh, int kw, int sy,
                            int sx, int py, int px, int pey, int pex,
                            int cip, int rpi, long total)
{
    int r0 = get_global_id(0) * rpi, c = get_global_id(1),
        b = get_global_id(2);
    if (r0 >= OH)
        return;
    int r1 = min(r0 + rpi, OH);
    long plane = ((long)b * C + c) * H * W;
    global const float *in = src + src_off + plane;
    global float *out = dst + dst_off + ((ulong)b * C + c) * OH * OW;
    for (int oy = r0; oy < r1; oy++) {
        int ys = oy * sy - py, ye = min(ys + kh, H + pey);
        int y0 = max(ys, 0), y1 = min(ye, H);
        int pady = ye - ys, ny = y1 - y0;
        global float *orow = out + (ulong)oy * OW;
        for (int x0 = 0; x0 < OW; x0 += 16) {
            int ix = x0 * sx - px;
            float16 s = (float16)0.0f;
            if (ix >= 0 && ix + 16 * sx - 1 + kw - 1 < W) {
                for (int iy = y0; iy < y1; iy++) {
                    global const float *row = in + (long)iy * W + ix;
                    for (int kx = 0; kx < kw; kx++)
                        s += cd_load16(row + kx, sx);
                }
                int div = (cip ? pady : ny) * kw;
                float16 r = div > 0 ? s / (float)div : (float16)0.0f;
                pool_store16(r, orow + x0, OW - x0);
                continue;
            }
            for (int iy = y0; iy < y1; iy++) {
                global const float *row = in + (long)iy * W;
                long rel = plane + (long)iy * W;
                for (int kx = 0; kx < kw; kx++)
                    s += cd_bload16(row, ix + kx, sx, W, rel + ix + kx, 0,
                                    total);
            }
            int16 xs = ix + CD_LANES16 * sx;
            int16 xe = min(xs + kw, (int16)(W + pex));
            int16 div = cip ? pady * (xe - xs)
                            : ny * (min(xe, (int16)W) - max(xs, (int16)0));
            float16 r = select((float16)0.0f, s / convert_float16(div),
                               div > 0);
            pool_store16(r, orow + x0, OW - x0);
        }
    }
}
