/* colormap.h — turning class maps and heatmaps into RGB pictures for PNG
 * answers: a class palette, a heatmap colour map, alpha blending over the
 * input image, and resizing float maps to the image's size. Output images
 * are struct cd_image (channels 3), ready for cd_image_encode_png. */
#ifndef CD_MEDIA_COLORMAP_H
#define CD_MEDIA_COLORMAP_H

#include <stdint.h>

#include "engine/err.h"
#include "media/image.h"

/* Class k's colour: the PASCAL VOC palette (bits of k spread over the high
 * bits of R, G, B): 0 black (background), 1 (128,0,0), 2 (0,128,0),
 * 3 (128,128,0), 4 (0,0,128), ... distinct for all 256 classes. */
void cd_colormap_class(int k, uint8_t rgb[3]);

/* Heatmap colour of v in [0, 1] (clamped; NaN as 0): a Turbo-like
 * perceptual rainbow, dark blue-purple -> blue -> cyan -> green -> yellow ->
 * orange -> dark red, linear between 9 stops at v = i/8 (table in
 * colormap.c), rounded half up. */
void cd_colormap_heat(float v, uint8_t rgb[3]);

/* RGB image (w x h) of class colours of cls (h, w). out->pixels owned. */
int cd_colormap_classes_image(const uint8_t *cls, int w, int h,
                              struct cd_image *out, struct cd_err *err);
/* RGB image (w x h) of heat colours of map (h, w). */
int cd_colormap_heat_image(const float *map, int w, int h,
                           struct cd_image *out, struct cd_err *err);

/* out = (1 - alpha) * img + alpha * colour per channel, rounded half up;
 * RGB, the size of img (gray images are taken as R = G = B). Classes: the
 * colour of cls[p] (h, w as img); background (class 0) pixels keep the image
 * unchanged. Heat: the colour of map[p] (h, w as img). alpha in [0, 1]. */
int cd_colormap_blend_classes(const struct cd_image *img, const uint8_t *cls,
                              float alpha, struct cd_image *out,
                              struct cd_err *err);
int cd_colormap_blend_heat(const struct cd_image *img, const float *map,
                           float alpha, struct cd_image *out,
                           struct cd_err *err);

enum cd_fmap_mode {
    CD_FMAP_NEAREST,  /* F.interpolate(mode="nearest") */
    CD_FMAP_BILINEAR, /* F.interpolate(mode="bilinear", align_corners=False) */
    CD_FMAP_COUNT
};

/* Resizes the float map src (h, w) to dst (H, W). */
int cd_colormap_resize(const float *src, int h, int w, float *dst, int H,
                       int W, enum cd_fmap_mode mode, struct cd_err *err);

#endif
