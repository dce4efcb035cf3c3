/* colormap.c — class palette, heatmap colours, alpha blending and float-map
 * resizing for the PNG answers of /segment and /cam (see colormap.h). Works
 * on caller buffers and allocates only the output image; it neither encodes
 * PNG nor knows about models. */
#include "media/colormap.h"

#include "engine/tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIDE 65536

/* Turbo-like stops at v = 0, 1/8, ..., 1. */
static const uint8_t heat_stops[9][3] = {
    { 48, 18, 59 },   { 65, 83, 199 },  { 41, 150, 246 },
    { 27, 208, 213 }, { 98, 252, 108 }, { 190, 244, 52 },
    { 251, 185, 56 }, { 234, 91, 19 },  { 122, 4, 3 },
};

void cd_colormap_class(int k, uint8_t rgb[3])
{
    int r = 0, g = 0, b = 0, c = k & 255;
    for (int j = 7; j >= 0 && c; j--, c >>= 3) {
        r |= (c & 1) << j;
        g |= ((c >> 1) & 1) << j;
        b |= ((c >> 2) & 1) << j;
    }
    rgb[0] = (uint8_t)r;
    rgb[1] = (uint8_t)g;
    rgb[2] = (uint8_t)b;
}

void cd_colormap_heat(float v, uint8_t rgb[3])
{
    if (!(v > 0.0f)) /* NaN and v <= 0 */
        v = 0.0f;
    if (v > 1.0f)
        v = 1.0f;
    float x = v * 8.0f;
    int i = (int)x;
    if (i > 7)
        i = 7;
    float f = x - (float)i;
    for (int c = 0; c < 3; c++) {
        float y = heat_stops[i][c] + f * (heat_stops[i + 1][c] - heat_stops[i][c]);
        rgb[c] = (uint8_t)(y + 0.5f); /* y >= 0: half up */
    }
}

static int new_rgb(int w, int h, struct cd_image *out, struct cd_err *err)
{
    size_t bytes;
    if (!out)
        return cd_err_set(err, CD_EINVAL, "colormap: NULL output");
    memset(out, 0, sizeof *out);
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE ||
        !cd_size_mul((size_t)w * (size_t)h, 3, &bytes))
        return cd_err_set(err, CD_EINVAL, "colormap: bad size %dx%d", w, h);
    out->pixels = malloc(bytes);
    if (!out->pixels)
        return cd_err_set(err, CD_ENOMEM, "colormap: out of memory");
    out->width = w;
    out->height = h;
    out->channels = 3;
    return CD_OK;
}

int cd_colormap_classes_image(const uint8_t *cls, int w, int h,
                              struct cd_image *out, struct cd_err *err)
{
    if (!cls)
        return cd_err_set(err, CD_EINVAL, "colormap: NULL class map");
    int rc = new_rgb(w, h, out, err);
    for (size_t i = 0; rc == CD_OK && i < (size_t)w * h; i++)
        cd_colormap_class(cls[i], out->pixels + 3 * i);
    return rc;
}

int cd_colormap_heat_image(const float *map, int w, int h,
                           struct cd_image *out, struct cd_err *err)
{
    if (!map)
        return cd_err_set(err, CD_EINVAL, "colormap: NULL map");
    int rc = new_rgb(w, h, out, err);
    for (size_t i = 0; rc == CD_OK && i < (size_t)w * h; i++)
        cd_colormap_heat(map[i], out->pixels + 3 * i);
    return rc;
}

/* Blends colour col (or nothing when col is NULL) over pixel i of img. */
static void blend_px(const struct cd_image *img, size_t i, const uint8_t *col,
                     float alpha, uint8_t *dst)
{
    const uint8_t *s = img->pixels + i * (size_t)img->channels;
    for (int c = 0; c < 3; c++) {
        uint8_t v = img->channels == 3 ? s[c] : s[0];
        dst[c] = col ? (uint8_t)((1.0f - alpha) * v + alpha * col[c] + 0.5f) : v;
    }
}

static int blend_check(const struct cd_image *img, const void *map,
                       float alpha, struct cd_err *err)
{
    if (!img || !img->pixels || !map)
        return cd_err_set(err, CD_EINVAL, "blend: NULL image or map");
    if (img->channels != 1 && img->channels != 3)
        return cd_err_set(err, CD_EINVAL, "blend: %d channels", img->channels);
    if (!(alpha >= 0.0f && alpha <= 1.0f))
        return cd_err_set(err, CD_EINVAL, "blend: alpha %g outside [0, 1]",
                          (double)alpha);
    return CD_OK;
}

int cd_colormap_blend_classes(const struct cd_image *img, const uint8_t *cls,
                              float alpha, struct cd_image *out,
                              struct cd_err *err)
{
    int rc = blend_check(img, cls, alpha, err);
    if (rc == CD_OK)
        rc = new_rgb(img->width, img->height, out, err);
    for (size_t i = 0; rc == CD_OK && i < (size_t)img->width * img->height;
         i++) {
        uint8_t col[3];
        cd_colormap_class(cls[i], col);
        blend_px(img, i, cls[i] ? col : NULL, alpha, out->pixels + 3 * i);
    }
    return rc;
}

int cd_colormap_blend_heat(const struct cd_image *img, const float *map,
                           float alpha, struct cd_image *out,
                           struct cd_err *err)
{
    int rc = blend_check(img, map, alpha, err);
    if (rc == CD_OK)
        rc = new_rgb(img->width, img->height, out, err);
    for (size_t i = 0; rc == CD_OK && i < (size_t)img->width * img->height;
         i++) {
        uint8_t col[3];
        cd_colormap_heat(map[i], col);
        blend_px(img, i, col, alpha, out->pixels + 3 * i);
    }
    return rc;
}

/* Bilinear source coordinate (align_corners=False): neighbours and weight. */
static void bl_index(int d, int out_n, int in_n, int *i0, int *i1, float *f)
{
    float x = ((float)d + 0.5f) * ((float)in_n / (float)out_n) - 0.5f;
    if (x < 0.0f)
        x = 0.0f;
    int k = (int)x;
    if (k > in_n - 1)
        k = in_n - 1;
    *i0 = k;
    *i1 = k < in_n - 1 ? k + 1 : k;
    *f = x - (float)k;
}

static int nn_index(int d, int out_n, int in_n)
{
    int k = (int)floorf((float)d * ((float)in_n / (float)out_n));
    return k < in_n - 1 ? k : in_n - 1;
}

int cd_colormap_resize(const float *src, int h, int w, float *dst, int H,
                       int W, enum cd_fmap_mode mode, struct cd_err *err)
{
    if (!src || !dst || h < 1 || w < 1 || H < 1 || W < 1 || h > MAX_SIDE ||
        w > MAX_SIDE || H > MAX_SIDE || W > MAX_SIDE ||
        (unsigned)mode >= CD_FMAP_COUNT)
        return cd_err_set(err, CD_EINVAL, "resize: bad sizes %dx%d -> %dx%d "
                          "or mode %d", h, w, H, W, (int)mode);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float *o = dst + (size_t)y * W + x;
            if (mode == CD_FMAP_NEAREST) {
                *o = src[(size_t)nn_index(y, H, h) * w + nn_index(x, W, w)];
                continue;
            }
            int y0, y1, x0, x1;
            float fy, fx;
            bl_index(y, H, h, &y0, &y1, &fy);
            bl_index(x, W, w, &x0, &x1, &fx);
            float top = src[(size_t)y0 * w + x0] * (1.0f - fx) +
                        src[(size_t)y0 * w + x1] * fx;
            float bot = src[(size_t)y1 * w + x0] * (1.0f - fx) +
                        src[(size_t)y1 * w + x1] * fx;
            *o = top * (1.0f - fy) + bot * fy;
        }
    return CD_OK;
}
