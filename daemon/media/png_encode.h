/* png_encode.h — 8-bit gray or RGB images to PNG bytes in memory (masks,
 * heatmaps in responses). */
#ifndef CD_MEDIA_PNG_ENCODE_H
#define CD_MEDIA_PNG_ENCODE_H

#include <stddef.h>

#include "engine/err.h"
#include "media/image.h"

/* Encodes img (channels 1 or 3) as a non-interlaced 8-bit PNG. On success
 * *out is an owned malloc'd buffer of *out_len bytes (free with free());
 * on failure *out is NULL. */
int cd_image_encode_png(const struct cd_image *img, void **out,
                        size_t *out_len, struct cd_err *err);

#endif
