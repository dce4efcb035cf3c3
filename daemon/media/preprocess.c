/* preprocess.c — image to normalised float input: computes the geometry
 * of the model's resize policy, lets resize.c fill the covered rectangle,
 * then normalises and fills the margins. Must not decode, allocate the
 * output, or know about OpenCL. */
#include "preprocess.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "media/resize.h"

/* Where resized pixels land in the output, and what lies outside. */
struct layout {
    struct cd_resize_job job;
    int rx, ry;          /* output position of the window's top-left */
    int margin_is_pixel; /* 1: margin is pixel 0, normalised; 0: pad_value */
};

static int check(const struct cd_image *img, const struct cd_preprocess *p,
                 const float *out, struct cd_err *err)
{
    if (!img || !img->pixels || !p || !out)
        return cd_err_set(err, CD_EINVAL, "preprocess: missing argument");
    if (p->width <= 0 || p->height <= 0 || p->width > CD_PREPROCESS_MAX_SIDE ||
        p->height > CD_PREPROCESS_MAX_SIDE)
        return cd_err_set(err, CD_EINVAL, "preprocess: bad input size %dx%d",
                          p->width, p->height);
    if (p->channels != 1 && p->channels != 3)
        return cd_err_set(err, CD_EINVAL, "preprocess: channels %d (need 1 or 3)",
                          p->channels);
    if (img->channels != p->channels)
        return cd_err_set(err, CD_EINVAL,
                          "preprocess: image has %d channels, model wants %d",
                          img->channels, p->channels);
    if (!isfinite(p->scale) || p->scale == 0.0f || !isfinite(p->pad_value))
        return cd_err_set(err, CD_EINVAL, "preprocess: bad scale or pad_value");
    for (int c = 0; c < p->channels; c++)
        if (!isfinite(p->mean[c]) || !isfinite(p->std[c]) || p->std[c] == 0.0f)
            return cd_err_set(err, CD_EINVAL, "preprocess: bad mean/std[%d]", c);
    if (p->resize < 0 || p->resize >= CD_RESIZE_COUNT)
        return cd_err_set(err, CD_EINVAL, "preprocess: bad resize policy %d",
                          (int)p->resize);
    if (p->resize_to < 0 || p->resize_to > CD_PREPROCESS_MAX_SIDE)
        return cd_err_set(err, CD_EINVAL, "preprocess: bad resize_to %d",
                          p->resize_to);
    return CD_OK;
}

/* torchvision center_crop offset of a crop of `crop` in `size`. */
static int crop_offset(int size, int crop)
{
    if (crop > size) /* padded by (crop - size) // 2 before */
        return -((crop - size) / 2);
    return (int)nearbyint((size - crop) / 2.0); /* Python round: half-even */
}

static int plan_crop(const struct cd_image *img, const struct cd_preprocess *p,
                     struct layout *l, struct cd_err *err)
{
    int64_t r = p->resize_to > 0 ? p->resize_to
                                 : (p->width < p->height ? p->width : p->height);
    int64_t w = img->width, h = img->height, vw, vh;
    if (w <= h) {
        vw = r;
        vh = (int64_t)((double)r * (double)h / (double)w);
    } else {
        vh = r;
        vw = (int64_t)((double)r * (double)w / (double)h);
    }
    if (vw < 1 || vh < 1 || vw > CD_RESIZE_MAX_DIM || vh > CD_RESIZE_MAX_DIM)
        return cd_err_set(err, CD_ERANGE,
                          "preprocess: image %dx%d too elongated to resize",
                          img->width, img->height);
    int left = crop_offset((int)vw, p->width), top = crop_offset((int)vh, p->height);
    int x0 = left > 0 ? left : 0, y0 = top > 0 ? top : 0;
    int x1 = left + p->width < vw ? left + p->width : (int)vw;
    int y1 = top + p->height < vh ? top + p->height : (int)vh;
    l->job = (struct cd_resize_job){(int)vw, (int)vh, x0, y0, x1 - x0, y1 - y0, 1};
    l->rx = x0 - left;
    l->ry = y0 - top;
    l->margin_is_pixel = 1;
    return CD_OK;
}

static void plan_letterbox(const struct cd_image *img,
                           const struct cd_preprocess *p, struct layout *l)
{
    int64_t w = img->width, h = img->height, W = p->width, H = p->height;
    int64_t nw, nh;
    if (W * h <= H * w) { /* width-limited */
        nw = W;
        nh = (2 * h * W + w) / (2 * w);
    } else {
        nh = H;
        nw = (2 * w * H + h) / (2 * h);
    }
    nw = nw < 1 ? 1 : nw > W ? W : nw;
    nh = nh < 1 ? 1 : nh > H ? H : nh;
    l->job = (struct cd_resize_job){(int)nw, (int)nh, 0, 0, (int)nw, (int)nh, 1};
    l->rx = (int)((W - nw) / 2);
    l->ry = (int)((H - nh) / 2);
    l->margin_is_pixel = 0;
}

int cd_preprocess_image(const struct cd_image *img,
                        const struct cd_preprocess *p, float *out,
                        struct cd_err *err)
{
    struct layout l = {0};
    int rc = check(img, p, out, err);
    if (rc != CD_OK)
        return rc;
    const int W = p->width, H = p->height, C = p->channels;
    const size_t plane = (size_t)W * H;

    switch (p->resize) {
    case CD_RESIZE_SHORTER_CROP:
        if ((rc = plan_crop(img, p, &l, err)) != CD_OK)
            return rc;
        break;
    case CD_RESIZE_LETTERBOX:
        plan_letterbox(img, p, &l);
        break;
    default:
        l.job = (struct cd_resize_job){W, H, 0, 0, W, H, 1};
        break;
    }
    rc = cd_resize_bilinear(img, &l.job, out + (size_t)l.ry * W + l.rx,
                            (size_t)W, plane, err);
    if (rc != CD_OK)
        return cd_err_wrap(err, "preprocess");

    const int rx0 = l.rx, rx1 = l.rx + l.job.win_w;
    const int ry0 = l.ry, ry1 = l.ry + l.job.win_h;
    for (int c = 0; c < C; c++) {
        const float mean = p->mean[c], std = p->std[c], scale = p->scale;
        const float margin = l.margin_is_pixel ? (0.0f / scale - mean) / std
                                               : p->pad_value;
        float *o = out + (size_t)c * plane;
        for (int y = 0; y < H; y++) {
            float *row = o + (size_t)y * W;
            int inside = y >= ry0 && y < ry1;
            for (int x = 0; x < W; x++)
                row[x] = inside && x >= rx0 && x < rx1
                             ? (row[x] / scale - mean) / std
                             : margin;
        }
    }
    return CD_OK;
}
