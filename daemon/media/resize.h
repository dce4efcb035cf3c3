/* resize.h — bilinear resampling of an 8-bit interleaved image into a
 * planar float window, in pixel units (0..255, no normalisation).
 *
 * Semantics are those of PyTorch F.interpolate(mode="bilinear",
 * align_corners=False) with half-pixel centres and edge clamping; with
 * antialias=1 the triangle filter is widened by the scale factor when
 * shrinking, which is F.interpolate(..., antialias=True) and PIL's
 * Image.resize(BILINEAR) (torchvision's Resize on PIL images). No
 * intermediate rounding to uint8 (PIL rounds; expect +-1 differences). */
#ifndef CD_MEDIA_RESIZE_H
#define CD_MEDIA_RESIZE_H

#include <stddef.h>

#include "engine/err.h"
#include "media/image.h"

/* The whole source is scaled to virt_w x virt_h; only the window
 * [win_x, win_x+win_w) x [win_y, win_y+win_h) of that virtual image is
 * produced, which gives resize-then-crop without computing the crop-away. */
struct cd_resize_job {
    int virt_w, virt_h;
    int win_x, win_y, win_w, win_h; /* must lie inside the virtual image */
    int antialias;                  /* 1: widen the filter when shrinking */
};

/* Largest virt_w / virt_h accepted. */
#define CD_RESIZE_MAX_DIM (1 << 24)

/* Writes channel c, window row y, column x of the result to
 * dst[c*plane_stride + y*row_stride + x]; dst is (C, win_h, win_w) when
 * row_stride = win_w and plane_stride = win_w*win_h. Allocates only its
 * scratch (about win_w x source rows floats); fails with CD_EINVAL on a
 * bad job, CD_ENOMEM when scratch cannot be had. */
int cd_resize_bilinear(const struct cd_image *src,
                       const struct cd_resize_job *job, float *dst,
                       size_t row_stride, size_t plane_stride,
                       struct cd_err *err);

#endif
