/* preprocess.h — turns a decoded image into the network's input tensor:
 * the resize policy of the model (stretch, shorter-side resize + centre
 * crop, letterbox), then value = (pixel / scale - mean[c]) / std[c].
 * Resampling is cd_resize_bilinear with antialias on (PIL / torchvision
 * Resize semantics). */
#ifndef CD_MEDIA_PREPROCESS_H
#define CD_MEDIA_PREPROCESS_H

#include "engine/err.h"
#include "engine/model.h"
#include "media/image.h"

/* Largest network input side accepted. */
#define CD_PREPROCESS_MAX_SIDE 16384

/* out is (p->channels, p->height, p->width), caller-owned. img must have
 * p->channels channels (decode with want_channels = p->channels).
 *
 * - CD_RESIZE_STRETCH: resize to exactly width x height.
 * - CD_RESIZE_SHORTER_CROP: as torchvision Resize(r) + CenterCrop((H, W)):
 *   the shorter side becomes r = resize_to (0: min(width, height)), the
 *   longer int(r * long / short); the crop offset is round-half-even of
 *   (size - crop) / 2; a crop larger than the image is padded with pixel
 *   value 0 (before normalisation), centred as torchvision pads.
 * - CD_RESIZE_LETTERBOX: scaled to fit inside (aspect kept, the fitted side
 *   rounded half up), centred with the left/top margin (W - w) / 2 rounded
 *   down; the margin holds pad_value (already in network units). */
int cd_preprocess_image(const struct cd_image *img,
                        const struct cd_preprocess *p, float *out,
                        struct cd_err *err);

#endif
