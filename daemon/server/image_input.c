/* image_input.c — turns the image in a request body into a model input
 * tensor: Content-Type dispatch (raw, octet-stream, multipart), decode with
 * the pixel budget, model preprocessing; and maps computed over the network
 * frame (masks, heatmaps) back onto the source image's pixels. It returns HTTP statuses but never
 * touches a request or a response, and never trusts the body's sizes. */
#include "server/image_input.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eigencam.h"
#include "media/image.h"
#include "media/preprocess.h"
#include "media/rle.h"
#include "server/body_input.h"

static bool is_image_type(const char *ct)
{
    return cd_body_input_type_is(ct, "image/jpeg") ||
           cd_body_input_type_is(ct, "image/jpg") ||
           cd_body_input_type_is(ct, "image/png");
}

static const struct cd_body_kind image_kind = {
    is_image_type, "the image", "image/jpeg or image/png", "", "image/jpeg, image/png",
};

int cd_image_input_find(const char *content_type, const void *body, size_t len,
                        const char *field, const void **img, size_t *img_len,
                        struct cd_err *err)
{
    return cd_body_input_find(&image_kind, content_type, body, len, field, img, img_len,
                              err);
}

size_t cd_image_input_numel(const struct cd_preprocess *p)
{
    if (p->kind != CD_INPUT_IMAGE || p->width <= 0 || p->height <= 0 ||
        p->width > CD_PREPROCESS_MAX_SIDE || p->height > CD_PREPROCESS_MAX_SIDE ||
        (p->channels != 1 && p->channels != 3))
        return 0;
    return (size_t)p->channels * (size_t)p->width * (size_t)p->height;
}

int cd_image_input_tensor(const void *img, size_t len,
                          const struct cd_preprocess *p, size_t max_pixels,
                          float *out, struct cd_err *err)
{
    struct cd_image im = {0};
    if (cd_image_input_numel(p) == 0) {
        cd_err_set(err, CD_EINVAL, "the model does not take images");
        return 400;
    }
    int rc = cd_image_decode(img, len, p->channels, max_pixels, &im, err);
    if (rc != CD_OK) {
        if (rc == CD_ENOMEM) {
            cd_err_wrap(err, "decoding the image");
            return 500;
        }
        cd_err_wrap(err, "cannot decode the image");
        return 400;
    }
    rc = cd_preprocess_image(&im, p, out, err);
    cd_image_free(&im);
    if (rc != CD_OK) {
        cd_err_wrap(err, "preprocessing the image");
        return rc == CD_ENOMEM ? 500 : 400;
    }
    return 0;
}

int cd_image_input_tensor_keep(const void *img, size_t len,
                               const struct cd_preprocess *p, size_t max_pixels,
                               float *out, struct cd_image *keep,
                               struct cd_err *err)
{
    struct cd_image im = {0};
    if (keep)
        memset(keep, 0, sizeof *keep);
    if (!keep)
        return cd_image_input_tensor(img, len, p, max_pixels, out, err);
    if (cd_image_input_numel(p) == 0) {
        cd_err_set(err, CD_EINVAL, "the model does not take images");
        return 400;
    }
    int rc = cd_image_decode(img, len, p->channels, max_pixels, &im, err);
    if (rc != CD_OK) {
        cd_err_wrap(err, rc == CD_ENOMEM ? "decoding the image"
                                         : "cannot decode the image");
        return rc == CD_ENOMEM ? 500 : 400;
    }
    rc = cd_preprocess_image(&im, p, out, err);
    if (rc != CD_OK) {
        cd_image_free(&im);
        cd_err_wrap(err, "preprocessing the image");
        return rc == CD_ENOMEM ? 500 : 400;
    }
    *keep = im;
    return 0;
}

/* ---- network frame -> source image ------------------------------------- */

/* Per axis, network coordinate u = a * x + b for image coordinate x
 * (continuous, pixel edges at integers), as cd_preprocess_image lays the
 * image out (see preprocess.c: plan_crop, plan_letterbox). */
struct geom {
    double ax, bx, ay, by;
};

static int crop_offset(int size, int crop)
{
    if (crop > size)
        return -((crop - size) / 2);
    return (int)nearbyint((size - crop) / 2.0);
}

static void geom_of(const struct cd_preprocess *p, int W, int H, struct geom *g)
{
    int64_t w = W, h = H, NW = p->width, NH = p->height;
    g->ax = (double)NW / (double)W;
    g->ay = (double)NH / (double)H;
    g->bx = g->by = 0;
    if (p->resize == CD_RESIZE_SHORTER_CROP) {
        int64_t r = p->resize_to > 0 ? p->resize_to : (NW < NH ? NW : NH);
        int64_t vw, vh;
        if (w <= h) {
            vw = r;
            vh = (int64_t)((double)r * (double)h / (double)w);
        } else {
            vh = r;
            vw = (int64_t)((double)r * (double)w / (double)h);
        }
        if (vw < 1 || vh < 1)
            return;
        g->ax = (double)vw / (double)W;
        g->ay = (double)vh / (double)H;
        g->bx = -crop_offset((int)vw, (int)NW);
        g->by = -crop_offset((int)vh, (int)NH);
    } else if (p->resize == CD_RESIZE_LETTERBOX) {
        int64_t nw, nh;
        if (NW * h <= NH * w) {
            nw = NW;
            nh = (2 * h * NW + w) / (2 * w);
        } else {
            nh = NH;
            nw = (2 * w * NH + h) / (2 * h);
        }
        nw = nw < 1 ? 1 : nw > NW ? NW : nw;
        nh = nh < 1 ? 1 : nh > NH ? NH : nh;
        g->ax = (double)nw / (double)W;
        g->ay = (double)nh / (double)H;
        g->bx = (double)((NW - nw) / 2);
        g->by = (double)((NH - nh) / 2);
    }
}

static int map_args_ok(int h, int w, const struct cd_preprocess *p, int W,
                       int H, struct cd_err *err)
{
    if (h < 1 || w < 1 || W < 1 || H < 1 || p->width < 1 || p->height < 1)
        return cd_err_set(err, CD_EINVAL, "bad map or image size");
    return CD_OK;
}

/* Map coordinate (continuous, cell edges at integers) of image pixel i's
 * centre along one axis. */
static double map_coord(double a, double b, int i, int net, int m)
{
    return (a * (i + 0.5) + b) * (double)m / (double)net;
}

int cd_image_input_classes_to_image(const uint8_t *cls, int h, int w,
                                    const struct cd_preprocess *p, int W, int H,
                                    uint8_t *out, struct cd_err *err)
{
    struct geom g;
    int rc = map_args_ok(h, w, p, W, H, err);
    if (rc)
        return rc;
    if (p->resize == CD_RESIZE_STRETCH)
        return cd_classes_resize_nearest(cls, h, w, out, H, W, err);
    geom_of(p, W, H, &g);
    int *xs = malloc((size_t)W * sizeof *xs);
    if (!xs)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    for (int x = 0; x < W; x++) {
        double u = floor(map_coord(g.ax, g.bx, x, p->width, w));
        xs[x] = u < 0 ? 0 : u > w - 1 ? w - 1 : (int)u;
    }
    for (int y = 0; y < H; y++) {
        double v = floor(map_coord(g.ay, g.by, y, p->height, h));
        int sy = v < 0 ? 0 : v > h - 1 ? h - 1 : (int)v;
        const uint8_t *row = cls + (size_t)sy * w;
        uint8_t *o = out + (size_t)y * W;
        for (int x = 0; x < W; x++)
            o[x] = row[xs[x]];
    }
    free(xs);
    return CD_OK;
}

/* Bilinear source index pair and weight (align_corners=False rules). */
static void lin(double c, int m, int *i0, int *i1, float *t)
{
    double s = c - 0.5;
    if (s < 0)
        s = 0;
    int k = (int)s;
    if (k > m - 1)
        k = m - 1;
    *i0 = k;
    *i1 = k + 1 < m ? k + 1 : m - 1;
    double f = s - k;
    *t = (float)(f < 0 ? 0 : f > 1 ? 1 : f);
}

int cd_image_input_heat_to_image(const float *map, int h, int w,
                                 const struct cd_preprocess *p, int W, int H,
                                 float *out, struct cd_err *err)
{
    struct geom g;
    int rc = map_args_ok(h, w, p, W, H, err);
    if (rc)
        return rc;
    if (p->resize == CD_RESIZE_STRETCH)
        return cd_eigencam_upsample(map, h, w, out, H, W, err);
    geom_of(p, W, H, &g);
    int *x0 = malloc((size_t)W * 2 * sizeof *x0);
    float *tx = malloc((size_t)W * sizeof *tx);
    if (!x0 || !tx) {
        free(x0);
        free(tx);
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    }
    for (int x = 0; x < W; x++)
        lin(map_coord(g.ax, g.bx, x, p->width, w), w, &x0[2 * x], &x0[2 * x + 1],
            &tx[x]);
    for (int y = 0; y < H; y++) {
        int y0, y1;
        float ty;
        lin(map_coord(g.ay, g.by, y, p->height, h), h, &y0, &y1, &ty);
        const float *r0 = map + (size_t)y0 * w, *r1 = map + (size_t)y1 * w;
        float *o = out + (size_t)y * W;
        for (int x = 0; x < W; x++) {
            int a = x0[2 * x], b = x0[2 * x + 1];
            float top = r0[a] + (r0[b] - r0[a]) * tx[x];
            float bot = r1[a] + (r1[b] - r1[a]) * tx[x];
            o[x] = top + (bot - top) * ty;
        }
    }
    free(x0);
    free(tx);
    return CD_OK;
}

void cd_image_input_map_point(const struct cd_preprocess *p, int W, int H,
                              int h, int w, int my, int mx, int *x, int *y)
{
    struct geom g;
    geom_of(p, W, H, &g);
    /* network coordinate of the cell centre, then back to the image */
    double u = (mx + 0.5) * (double)p->width / (double)w;
    double v = (my + 0.5) * (double)p->height / (double)h;
    double fx = floor((u - g.bx) / g.ax), fy = floor((v - g.by) / g.ay);
    *x = fx < 0 ? 0 : fx > W - 1 ? W - 1 : (int)fx;
    *y = fy < 0 ? 0 : fy > H - 1 ? H - 1 : (int)fy;
}
