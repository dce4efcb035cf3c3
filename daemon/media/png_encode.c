/* png_encode.c — PNG encoding of 8-bit gray/RGB images into a growing
 * memory buffer with libpng (fast zlib level: responses, not archives).
 * libpng errors longjmp back here and become a status; never prints or
 * aborts, never leaks the buffer on failure. */
#include "png_encode.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor.h"

struct enc_ctx {
    png_structp png;
    png_infop info;
    const struct cd_image *img;
    uint8_t *buf;
    size_t len, cap;
    char msg[256];
};

static void write_fn(png_structp png, png_bytep data, size_t n)
{
    struct enc_ctx *c = png_get_io_ptr(png);
    if (n > c->cap - c->len) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap - c->len < n) {
            if (cap > SIZE_MAX / 2)
                png_error(png, "output too large");
            cap *= 2;
        }
        uint8_t *nb = realloc(c->buf, cap);
        if (!nb)
            png_error(png, "out of memory");
        c->buf = nb;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
}

static void flush_fn(png_structp png)
{
    (void)png;
}

static void error_fn(png_structp png, png_const_charp msg)
{
    struct enc_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "error");
    png_longjmp(png, 1);
}

static void warn_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Every libpng call; state lives in *c, so nothing is lost on longjmp. */
static int run(struct enc_ctx *c)
{
    if (setjmp(png_jmpbuf(c->png)))
        return -1;
    const struct cd_image *img = c->img;
    png_set_write_fn(c->png, c, write_fn, flush_fn);
    png_set_compression_level(c->png, 3);
    png_set_IHDR(c->png, c->info, (png_uint_32)img->width,
                 (png_uint_32)img->height, 8,
                 img->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    size_t stride = (size_t)img->width * img->channels;
    for (int y = 0; y < img->height; y++)
        png_write_row(c->png, img->pixels + (size_t)y * stride);
    png_write_end(c->png, NULL);
    return 0;
}

int cd_image_encode_png(const struct cd_image *img, void **out,
                        size_t *out_len, struct cd_err *err)
{
    int rc = CD_OK;
    size_t bytes;
    struct enc_ctx c = {.img = img};

    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!img || !out || !out_len || !img->pixels)
        return cd_err_set(err, CD_EINVAL, "PNG encode: missing argument");
    if (img->channels != 1 && img->channels != 3)
        return cd_err_set(err, CD_EINVAL, "PNG encode: channels %d (need 1 or 3)",
                          img->channels);
    if (img->width <= 0 || img->height <= 0 || img->width > PNG_USER_WIDTH_MAX ||
        img->height > PNG_USER_HEIGHT_MAX ||
        !cd_size_mul((size_t)img->width * img->channels, (size_t)img->height,
                     &bytes))
        return cd_err_set(err, CD_EINVAL, "PNG encode: bad size %dx%d",
                          img->width, img->height);

    c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, error_fn,
                                    warn_fn);
    if (!c.png || !(c.info = png_create_info_struct(c.png))) {
        rc = cd_err_set(err, CD_ENOMEM, "PNG encode: cannot create encoder");
        goto fail;
    }
    if (run(&c) != 0) {
        rc = cd_err_set(err, strstr(c.msg, "memory") ? CD_ENOMEM : CD_EFORMAT,
                        "PNG encode: %s", c.msg);
        goto fail;
    }
    png_destroy_write_struct(&c.png, &c.info);
    *out = c.buf;
    *out_len = c.len;
    return CD_OK;
fail:
    if (c.png)
        png_destroy_write_struct(&c.png, c.info ? &c.info : NULL);
    free(c.buf);
    return rc;
}
