/* wavelet.cl — WaveMix's orthonormal 2-D Haar transform and its inverse.
 * Channel layout (both directions): channel c of the 4C is LL of channel c;
 * channel C + 3c + k is band k+1 of channel c ((lo_w, hi_h), (hi_w, lo_h),
 * (hi_w, hi_h)). Each work-item handles 8 low-resolution positions of one
 * row with float8/float16 vectors; tails fall back to scalars. Memory-bound;
 * must not read or write outside the given tensors. */

/* x (N, C, H, W), y (N, 4C, H/2, W/2); gws = (ceil(OW/8), OH, N*C). */
__kernel void cd_haar_dwt(global const float *src, ulong src_off,
                          global float *dst, ulong dst_off, int C, int H,
                          int W)
{
    int t = get_global_id(0), i = get_global_id(1), nc = get_global_id(2);
    int OH = H / 2, OW = W / 2, j0 = t * 8;
    if (i >= OH || j0 >= OW)
        return;
    int n = nc / C, c = nc % C;
    ulong plane = (ulong)OH * OW;
    global const float *r0 = src + src_off + (ulong)n * C * H * W +
                             ((ulong)c * H + 2 * i) * W + 2 * j0;
    global const float *r1 = r0 + W;
    global float *y = dst + dst_off + (ulong)n * 4 * C * plane +
                      (ulong)i * OW + j0;
    global float *y0 = y + (ulong)c * plane;
    global float *y1 = y + (ulong)(C + 3 * c) * plane;
    global float *y2 = y1 + plane, *y3 = y2 + plane;
    if (j0 + 8 <= OW) {
        float16 a = vload16(0, r0), b = vload16(0, r1);
        float8 p = a.even, q = a.odd, r = b.even, s = b.odd;
        vstore8(0.5f * ((p + q) + (r + s)), 0, y0);
        vstore8(0.5f * ((p + q) - (r + s)), 0, y1);
        vstore8(0.5f * ((p - q) + (r - s)), 0, y2);
        vstore8(0.5f * ((p - q) - (r - s)), 0, y3);
        return;
    }
    for (int j = 0; j < OW - j0; j++) {
        float p = r0[2 * j], q = r0[2 * j + 1];
        float r = r1[2 * j], s = r1[2 * j + 1];
        y0[j] = 0.5f * ((p + q) + (r + s));
        y1[j] = 0.5f * ((p + q) - (r + s));
        y2[j] = 0.5f * ((p - q) + (r - s));
        y3[j] = 0.5f * ((p - q) - (r - s));
    }
}

#define WAVELET_ZIP(a, b)                                                     \
    (float16)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3, a.s4, b.s4,     \
              a.s5, b.s5, a.s6, b.s6, a.s7, b.s7)

/* x (N, 4C, H, W), y (N, C, 2H, 2W); gws = (ceil(W/8), H, N*C). */
__kernel void cd_haar_idwt(global const float *src, ulong src_off,
                           global float *dst, ulong dst_off, int C, int H,
                           int W)
{
    int t = get_global_id(0), i = get_global_id(1), nc = get_global_id(2);
    int j0 = t * 8;
    if (i >= H || j0 >= W)
        return;
    int n = nc / C, c = nc % C;
    ulong plane = (ulong)H * W;
    global const float *x = src + src_off + (ulong)n * 4 * C * plane +
                            (ulong)i * W + j0;
    global const float *x0 = x + (ulong)c * plane;
    global const float *x1 = x + (ulong)(C + 3 * c) * plane;
    global const float *x2 = x1 + plane, *x3 = x2 + plane;
    global float *r0 = dst + dst_off + (ulong)n * 4 * C * plane +
                       ((ulong)c * 2 * H + 2 * i) * 2 * W + 2 * j0;
    global float *r1 = r0 + 2 * W;
    if (j0 + 8 <= W) {
        float8 ll = vload8(0, x0), b1 = vload8(0, x1);
        float8 b2 = vload8(0, x2), b3 = vload8(0, x3);
        float8 pa = 0.5f * ((ll + b1) + (b2 + b3));
        float8 pb = 0.5f * ((ll + b1) - (b2 + b3));
        float8 pc = 0.5f * ((ll - b1) + (b2 - b3));
        float8 pd = 0.5f * ((ll - b1) - (b2 - b3));
        vstore16(WAVELET_ZIP(pa, pb), 0, r0);
        vstore16(WAVELET_ZIP(pc, pd), 0, r1);
        return;
    }
    for (int j = 0; j < W - j0; j++) {
        float ll = x0[j], b1 = x1[j], b2 = x2[j], b3 = x3[j];
        r0[2 * j] = 0.5f * ((ll + b1) + (b2 + b3));
        r0[2 * j + 1] = 0.5f * ((ll + b1) - (b2 + b3));
        r1[2 * j] = 0.5f * ((ll - b1) + (b2 - b3));
        r1[2 * j + 1] = 0.5f * ((ll - b1) - (b2 - b3));
    }
}
