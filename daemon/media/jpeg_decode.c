/* jpeg_decode.c — JPEG to 8-bit gray/RGB through libjpeg-turbo's TurboJPEG
 * API: baseline, progressive, grayscale, CMYK/YCCK (converted like Pillow).
 * Must not allocate before the header passed the pixel budget, must not
 * accept data libjpeg only warns about (truncation), never prints. */
#include "image.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* True when an APP14 "Adobe" segment precedes the first scan: its CMYK is
 * stored inverted (Photoshop convention, also what Pillow writes). */
static int has_adobe_marker(const uint8_t *p, size_t len)
{
    size_t i = 2; /* after SOI */
    while (i + 4 <= len) {
        if (p[i] != 0xFF)
            return 0;
        uint8_t m = p[i + 1];
        if (m == 0xFF) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0xDA || m == 0xD9) /* SOS, EOI */
            return 0;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { /* no length field */
            i += 2;
            continue;
        }
        size_t seg = ((size_t)p[i + 2] << 8) | p[i + 3];
        if (seg < 2)
            return 0;
        if (m == 0xEE && seg >= 7 && i + 9 <= len && !memcmp(p + i + 4, "Adobe", 5))
            return 1;
        i += 2 + seg;
    }
    return 0;
}

/* Pillow's cmyk2rgb on (possibly inverted) CMYK; in place, 4 -> 3 bytes. */
static void cmyk_to_rgb(uint8_t *px, size_t n, int inverted)
{
    for (size_t i = 0; i < n; i++) {
        int c[4];
        for (int k = 0; k < 4; k++)
            c[k] = inverted ? 255 - px[4 * i + k] : px[4 * i + k];
        int nk = 255 - c[3];
        for (int k = 0; k < 3; k++) {
            int t = c[k] * nk + 128;
            int v = nk - (((t >> 8) + t) >> 8);
            px[3 * i + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

int cd_image_decode_jpeg(const void *buf, size_t len, int want_channels,
                         size_t max_pixels, struct cd_image *out,
                         struct cd_err *err)
{
    int rc, w = 0, h = 0, subsamp = 0, cs = 0;
    uint8_t *px = NULL;
    tjhandle tj = NULL;

    memset(out, 0, sizeof *out);
    if (len > ULONG_MAX)
        return cd_err_set(err, CD_ERANGE, "JPEG: input too large");
    tj = tjInitDecompress();
    if (!tj)
        return cd_err_set(err, CD_ENOMEM, "JPEG: cannot create decompressor");
    if (tjDecompressHeader3(tj, buf, (unsigned long)len, &w, &h, &subsamp,
                            &cs) != 0) {
        rc = cd_err_set(err, CD_EFORMAT, "JPEG: %s", tjGetErrorStr2(tj));
        goto fail;
    }
    int cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    int pf = TJPF_RGB;
    size_t bpp = 3, bytes;
    if (cmyk) {
        pf = TJPF_CMYK;
        bpp = 4;
    } else if (cs == TJCS_GRAY && want_channels == 1) {
        pf = TJPF_GRAY;
        bpp = 1;
    }
    rc = cd_image_check_size(w, h, max_pixels, bpp, &bytes, err);
    if (rc != CD_OK) {
        cd_err_wrap(err, "JPEG");
        goto fail;
    }
    px = malloc(bytes);
    if (!px) {
        rc = cd_err_set(err, CD_ENOMEM, "JPEG: out of memory for %dx%d", w, h);
        goto fail;
    }
    int flags = TJFLAG_STOPONWARNING;
#ifdef TJFLAG_LIMITSCANS
    flags |= TJFLAG_LIMITSCANS;
#endif
    if (tjDecompress2(tj, buf, (unsigned long)len, px, w, 0, h, pf, flags) != 0) {
        rc = cd_err_set(err, CD_EFORMAT, "JPEG: %s", tjGetErrorStr2(tj));
        goto fail;
    }
    size_t n = (size_t)w * (size_t)h;
    if (cmyk)
        cmyk_to_rgb(px, n, has_adobe_marker(buf, len));
    if (want_channels == 1 && pf != TJPF_GRAY)
        cd_image_rgb_to_gray(px, px, n);
    if (want_channels * n < bytes) {
        uint8_t *smaller = realloc(px, want_channels * n);
        if (smaller)
            px = smaller;
    }
    tjDestroy(tj);
    out->width = w;
    out->height = h;
    out->channels = want_channels;
    out->pixels = px;
    return CD_OK;
fail:
    free(px);
    if (tj)
        tjDestroy(tj);
    return rc;
}
