/* image.h — decoded 8-bit images and the JPEG/PNG decoders that make them.
 * Decoding sniffs the magic bytes, checks the declared size against a pixel
 * budget before allocating, and turns every malformed input into CD_EFORMAT
 * with a message; nothing here aborts or prints. EXIF orientation and colour
 * profiles are ignored (as PIL's Image.open + convert does). */
#ifndef CD_MEDIA_IMAGE_H
#define CD_MEDIA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

/* Budget used when a caller passes max_pixels = 0 (about 8k x 8k). */
#define CD_IMAGE_MAX_PIXELS_DEFAULT ((size_t)64 * 1024 * 1024)
/* cd_image_load_file refuses larger files. */
#define CD_IMAGE_MAX_FILE_BYTES ((size_t)64 * 1024 * 1024)

struct cd_image {
    int width, height;
    int channels;     /* 1 (gray) or 3 (RGB) */
    uint8_t *pixels;  /* owned; (height, width, channels) row-major */
};

/* Decodes a JPEG or PNG held in buf into *out with want_channels (1 or 3)
 * channels. Colour to gray uses PIL's weights (299/587/114, rounded as
 * Pillow's "L" conversion); alpha is dropped, not composited; 16-bit
 * samples are scaled to 8 bits; CMYK JPEGs are converted to RGB the way
 * Pillow does (Adobe APP14 marker = inverted CMYK). width*height above
 * max_pixels (0 = CD_IMAGE_MAX_PIXELS_DEFAULT) fails with CD_ERANGE before
 * any pixel buffer is allocated. A JPEG that libjpeg only warns about
 * (truncated, corrupt entropy data) is refused as well. Unknown magic bytes
 * give CD_EUNSUPPORTED. On failure *out is zeroed. out->pixels is owned. */
int cd_image_decode(const void *buf, size_t len, int want_channels,
                    size_t max_pixels, struct cd_image *out,
                    struct cd_err *err);

/* Reads path (at most CD_IMAGE_MAX_FILE_BYTES) and decodes it as above. */
int cd_image_load_file(const char *path, int want_channels, size_t max_pixels,
                       struct cd_image *out, struct cd_err *err);

/* Frees img->pixels and zeroes *img; NULL is a no-op. */
void cd_image_free(struct cd_image *img);

/* The format-specific decoders behind cd_image_decode (same contract; the
 * caller has already checked want_channels and resolved max_pixels). */
int cd_image_decode_jpeg(const void *buf, size_t len, int want_channels,
                         size_t max_pixels, struct cd_image *out,
                         struct cd_err *err);
int cd_image_decode_png(const void *buf, size_t len, int want_channels,
                        size_t max_pixels, struct cd_image *out,
                        struct cd_err *err);

/* Helpers shared by the decoders. cd_image_check_size validates w, h > 0,
 * w*h <= max_pixels and that w*h*bytes_per_pixel fits in size_t, storing
 * the byte count. cd_image_rgb_to_gray converts n RGB pixels to n gray
 * bytes in place (dst may equal src). */
int cd_image_check_size(long w, long h, size_t max_pixels,
                        size_t bytes_per_pixel, size_t *bytes,
                        struct cd_err *err);
void cd_image_rgb_to_gray(const uint8_t *rgb, uint8_t *gray, size_t n);

#endif
