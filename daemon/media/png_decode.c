/* png_decode.c — PNG to 8-bit gray/RGB through libpng, read from memory:
 * every colour type and bit depth, palette + tRNS, Adam7 interlacing.
 * libpng errors longjmp back here and become CD_EFORMAT; the pixel budget
 * is checked on the IHDR size before allocating. Never prints. */
#include "image.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor.h"

struct png_ctx {
    png_structp png;
    png_infop info;
    const uint8_t *buf;
    size_t len, pos;
    size_t max_pixels;
    int want_channels;
    int rc;            /* status when the failure is ours, not libpng's */
    struct cd_err *err;
    char msg[256];     /* libpng's error message */
    uint8_t *px;       /* owned until handed to the image */
    png_bytep *rows;
    int width, height;
};

static void read_fn(png_structp png, png_bytep dst, size_t n)
{
    struct png_ctx *c = png_get_io_ptr(png);
    if (n > c->len - c->pos)
        png_error(png, "truncated data");
    memcpy(dst, c->buf + c->pos, n);
    c->pos += n;
}

static void error_fn(png_structp png, png_const_charp msg)
{
    struct png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "error");
    png_longjmp(png, 1);
}

static void warn_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* All libpng calls happen here; on a libpng error control returns from
 * setjmp with everything worth keeping stored in *c, not in locals. */
static int run(struct png_ctx *c)
{
    if (setjmp(png_jmpbuf(c->png)))
        return -1;
    png_set_read_fn(c->png, c, read_fn);
    png_read_info(c->png, c->info);

    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &ctype, &interlace, NULL,
                 NULL);
    int color = (ctype & PNG_COLOR_MASK_COLOR) != 0;
    int ch = (color || c->want_channels == 3) ? 3 : 1;
    size_t bytes, rows_bytes;
    c->rc = cd_image_check_size((long)w, (long)h, c->max_pixels, (size_t)ch,
                                &bytes, c->err);
    if (c->rc != CD_OK)
        return -2;

    png_set_expand(c->png); /* palette -> RGB, gray < 8 bits, tRNS -> alpha */
    if (depth == 16)
        png_set_scale_16(c->png);
    png_set_strip_alpha(c->png);
    if (!color && c->want_channels == 3)
        png_set_gray_to_rgb(c->png);
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    if (png_get_channels(c->png, c->info) != ch ||
        png_get_rowbytes(c->png, c->info) != (size_t)w * (size_t)ch) {
        c->rc = cd_err_set(c->err, CD_EFORMAT, "PNG: unexpected row layout");
        return -2;
    }

    if (!cd_size_mul(h, sizeof *c->rows, &rows_bytes) ||
        !(c->rows = malloc(rows_bytes)) || !(c->px = malloc(bytes))) {
        c->rc = cd_err_set(c->err, CD_ENOMEM, "PNG: out of memory for %ux%u",
                           (unsigned)w, (unsigned)h);
        return -2;
    }
    for (png_uint_32 y = 0; y < h; y++)
        c->rows[y] = c->px + (size_t)y * w * ch;
    png_read_image(c->png, c->rows);
    c->width = (int)w;
    c->height = (int)h;
    return ch;
}

int cd_image_decode_png(const void *buf, size_t len, int want_channels,
                        size_t max_pixels, struct cd_image *out,
                        struct cd_err *err)
{
    int rc;
    struct png_ctx c = {.buf = buf, .len = len, .max_pixels = max_pixels,
                        .want_channels = want_channels, .err = err};

    memset(out, 0, sizeof *out);
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, error_fn,
                                   warn_fn);
    if (!c.png || !(c.info = png_create_info_struct(c.png))) {
        rc = cd_err_set(err, CD_ENOMEM, "PNG: cannot create decoder");
        goto fail;
    }
    int ch = run(&c);
    if (ch == -1) {
        rc = cd_err_set(err, CD_EFORMAT, "PNG: %s", c.msg);
        goto fail;
    }
    if (ch == -2) {
        rc = c.rc;
        if (rc == CD_ERANGE)
            cd_err_wrap(err, "PNG");
        goto fail;
    }
    size_t n = (size_t)c.width * (size_t)c.height;
    if (ch == 3 && want_channels == 1) {
        cd_image_rgb_to_gray(c.px, c.px, n);
        uint8_t *smaller = realloc(c.px, n);
        if (smaller)
            c.px = smaller;
    }
    png_destroy_read_struct(&c.png, &c.info, NULL);
    free(c.rows);
    out->width = c.width;
    out->height = c.height;
    out->channels = want_channels;
    out->pixels = c.px;
    return CD_OK;
fail:
    if (c.png)
        png_destroy_read_struct(&c.png, c.info ? &c.info : NULL, NULL);
    free(c.rows);
    free(c.px);
    return rc;
}
