/* rle.c — class-index maps: argmax of logits, nearest resize, counts and the
 * run-length encoding documented in rle.h. Pure computation over caller
 * buffers; it never decodes images, never aborts. */
#include "media/rle.h"

#include "engine/tensor.h"

#include <math.h>
#include <stdlib.h>

#define MAX_SIDE 65536

int cd_rle_encode(const uint8_t *classes, size_t n, uint32_t **runs,
                  size_t *n_runs, struct cd_err *err)
{
    if (!runs || !n_runs || (n && !classes))
        return cd_err_set(err, CD_EINVAL, "rle: NULL argument");
    *runs = NULL;
    *n_runs = 0;
    if (n == 0)
        return CD_OK;
    if (n > UINT32_MAX)
        return cd_err_set(err, CD_ERANGE, "rle: %zu pixels exceed 2^32", n);
    size_t count = 1;
    for (size_t i = 1; i < n; i++)
        count += classes[i] != classes[i - 1];
    size_t bytes;
    if (!cd_size_mul(count, 2 * sizeof(uint32_t), &bytes))
        return cd_err_set(err, CD_ENOMEM, "rle: size overflow");
    uint32_t *r = malloc(bytes);
    if (!r)
        return cd_err_set(err, CD_ENOMEM, "rle: out of memory");
    size_t k = 0, start = 0;
    for (size_t i = 1; i <= n; i++)
        if (i == n || classes[i] != classes[start]) {
            r[2 * k] = classes[start];
            r[2 * k + 1] = (uint32_t)(i - start);
            k++;
            start = i;
        }
    *runs = r;
    *n_runs = count;
    return CD_OK;
}

int cd_rle_decode(const uint32_t *runs, size_t n_runs, uint8_t *out, size_t n,
                  struct cd_err *err)
{
    if ((n_runs && !runs) || (n && !out))
        return cd_err_set(err, CD_EINVAL, "rle: NULL argument");
    size_t pos = 0;
    for (size_t k = 0; k < n_runs; k++) {
        uint32_t c = runs[2 * k], len = runs[2 * k + 1];
        if (c > 255 || len == 0)
            return cd_err_set(err, CD_EFORMAT, "rle: run %zu has class %u "
                              "length %u", k, c, len);
        if (len > n - pos)
            return cd_err_set(err, CD_EFORMAT, "rle: runs exceed the %zu "
                              "pixels", n);
        for (uint32_t i = 0; i < len; i++)
            out[pos++] = (uint8_t)c;
    }
    if (pos != n)
        return cd_err_set(err, CD_EFORMAT, "rle: runs cover %zu of %zu pixels",
                          pos, n);
    return CD_OK;
}

int cd_argmax_classes(const float *logits, int K, int H, int W,
                      uint8_t *classes, struct cd_err *err)
{
    if (!logits || !classes)
        return cd_err_set(err, CD_EINVAL, "argmax: NULL buffer");
    if (K < 1 || K > 256 || H < 1 || W < 1 || H > MAX_SIDE || W > MAX_SIDE)
        return cd_err_set(err, CD_EINVAL, "argmax: bad shape (%d, %d, %d)", K,
                          H, W);
    size_t plane = (size_t)H * (size_t)W;
    for (size_t i = 0; i < plane; i++) {
        int best = 0;
        float bv = logits[i];
        for (int k = 1; k < K; k++) {
            float v = logits[(size_t)k * plane + i]; /* logits is (K, H, W) */
            if (v > bv || (isnan(bv) && !isnan(v))) {
                bv = v;
                best = k;
            }
        }
        classes[i] = (uint8_t)best;
    }
    return CD_OK;
}

int cd_classes_resize_nearest(const uint8_t *src, int h, int w, uint8_t *dst,
                              int H, int W, struct cd_err *err)
{
    if (!src || !dst)
        return cd_err_set(err, CD_EINVAL, "resize: NULL buffer");
    if (h < 1 || w < 1 || H < 1 || W < 1 || h > MAX_SIDE || w > MAX_SIDE ||
        H > MAX_SIDE || W > MAX_SIDE)
        return cd_err_set(err, CD_EINVAL, "resize: bad sizes %dx%d -> %dx%d",
                          h, w, H, W);
    float sy = (float)h / (float)H, sx = (float)w / (float)W;
    for (int y = 0; y < H; y++) {
        int iy = (int)floorf((float)y * sy);
        iy = iy < h - 1 ? iy : h - 1;
        for (int x = 0; x < W; x++) {
            int ix = (int)floorf((float)x * sx);
            ix = ix < w - 1 ? ix : w - 1;
            dst[(size_t)y * W + x] = src[(size_t)iy * w + ix];
        }
    }
    return CD_OK;
}

void cd_classes_count(const uint8_t *classes, size_t n, size_t counts[256])
{
    for (int k = 0; k < 256; k++)
        counts[k] = 0;
    for (size_t i = 0; classes && i < n; i++)
        counts[classes[i]]++;
}
