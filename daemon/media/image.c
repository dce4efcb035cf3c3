/* image.c — image format sniffing, file loading and the helpers the JPEG
 * and PNG decoders share (size budget, RGB to gray, freeing). The decoding
 * itself lives in jpeg_decode.c and png_decode.c. Must not abort, print or
 * allocate a pixel buffer before the declared size passed the budget. */
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/tensor.h"

static const uint8_t JPEG_MAGIC[3] = {0xFF, 0xD8, 0xFF};
static const uint8_t PNG_MAGIC[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

int cd_image_check_size(long w, long h, size_t max_pixels,
                        size_t bytes_per_pixel, size_t *bytes,
                        struct cd_err *err)
{
    size_t px, n;
    if (w <= 0 || h <= 0)
        return cd_err_set(err, CD_EFORMAT, "invalid image size %ldx%ld", w, h);
    if (!cd_size_mul((size_t)w, (size_t)h, &px) || px > max_pixels)
        return cd_err_set(err, CD_ERANGE,
                          "image %ldx%ld exceeds the limit of %zu pixels",
                          w, h, max_pixels);
    if (!cd_size_mul(px, bytes_per_pixel, &n))
        return cd_err_set(err, CD_ENOMEM, "image %ldx%ld too large", w, h);
    *bytes = n;
    return CD_OK;
}

void cd_image_rgb_to_gray(const uint8_t *rgb, uint8_t *gray, size_t n)
{
    /* Pillow's ImagingConvert "RGB" -> "L" (ITU-R 601-2 luma, 16-bit fixed). */
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        gray[i] = (uint8_t)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
    }
}

void cd_image_free(struct cd_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

int cd_image_decode(const void *buf, size_t len, int want_channels,
                    size_t max_pixels, struct cd_image *out,
                    struct cd_err *err)
{
    if (!out)
        return cd_err_set(err, CD_EINVAL, "image decode: no output");
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return cd_err_set(err, CD_EINVAL, "image decode: no input");
    if (want_channels != 1 && want_channels != 3)
        return cd_err_set(err, CD_EINVAL,
                          "image decode: channels must be 1 or 3, not %d",
                          want_channels);
    if (max_pixels == 0)
        max_pixels = CD_IMAGE_MAX_PIXELS_DEFAULT;
    if (len == 0)
        return cd_err_set(err, CD_EFORMAT, "empty image");
    const uint8_t *p = buf;
    if (len >= sizeof JPEG_MAGIC && !memcmp(p, JPEG_MAGIC, sizeof JPEG_MAGIC))
        return cd_image_decode_jpeg(buf, len, want_channels, max_pixels, out,
                                    err);
    if (len >= sizeof PNG_MAGIC && !memcmp(p, PNG_MAGIC, sizeof PNG_MAGIC))
        return cd_image_decode_png(buf, len, want_channels, max_pixels, out,
                                   err);
    return cd_err_set(err, CD_EUNSUPPORTED,
                      "unsupported image format (expected JPEG or PNG)");
}

int cd_image_load_file(const char *path, int want_channels, size_t max_pixels,
                       struct cd_image *out, struct cd_err *err)
{
    int rc;
    uint8_t *buf = NULL;
    struct stat st;
    FILE *f = NULL;

    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out)
        return cd_err_set(err, CD_EINVAL, "image load: no path or output");
    f = fopen(path, "rb");
    if (!f) {
        rc = cd_err_set(err, CD_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = cd_err_set(err, CD_EIO, "%s: not a regular file", path);
        goto fail;
    }
    if ((uint64_t)st.st_size > CD_IMAGE_MAX_FILE_BYTES) {
        rc = cd_err_set(err, CD_ERANGE, "%s: file of %lld bytes exceeds %zu",
                        path, (long long)st.st_size, CD_IMAGE_MAX_FILE_BYTES);
        goto fail;
    }
    size_t len = (size_t)st.st_size;
    buf = malloc(len ? len : 1);
    if (!buf) {
        rc = cd_err_set(err, CD_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    if (len && fread(buf, 1, len, f) != len) {
        rc = cd_err_set(err, CD_EIO, "%s: short read", path);
        goto fail;
    }
    rc = cd_image_decode(buf, len, want_channels, max_pixels, out, err);
    if (rc != CD_OK)
        cd_err_wrap(err, "%s", path);
fail:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}
