/* image_input.c — turns the image in a request body into a model input
 * tensor: Content-Type dispatch (raw, octet-stream, multipart), decode with
 * the pixel budget, model preprocessing. It returns HTTP statuses but never
 * touches a request or a response, and never trusts the body's sizes. */
#include "server/image_input.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "media/image.h"
#include "media/preprocess.h"
#include "server/multipart.h"

/* True when the media type (before any ';' parameters) equals want. */
static bool media_type_is(const char *ct, const char *want)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == 0 || *ct == ';';
}

static void media_type_copy(const char *ct, char *out, size_t cap)
{
    size_t k = 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    for (; *ct && *ct != ';' && k + 1 < cap; ct++)
        out[k++] = isprint((unsigned char)*ct) ? *ct : '?';
    out[k] = 0;
}

int cd_image_input_find(const char *content_type, const void *body, size_t len,
                        const char *field, const void **img, size_t *img_len,
                        struct cd_err *err)
{
    *img = NULL;
    *img_len = 0;
    if (!content_type || !*content_type || media_type_is(content_type, "image/jpeg") ||
        media_type_is(content_type, "image/jpg") ||
        media_type_is(content_type, "image/png") ||
        media_type_is(content_type, "application/octet-stream")) {
        if (!body || len == 0) {
            cd_err_set(err, CD_EINVAL, "empty body: send the image as the request body");
            return 400;
        }
        *img = body;
        *img_len = len;
        return 0;
    }
    if (media_type_is(content_type, "multipart/form-data")) {
        char part_type[128] = "";
        const void *d = NULL;
        size_t dl = 0;
        if (!body || len == 0) {
            cd_err_set(err, CD_EINVAL, "empty multipart body");
            return 400;
        }
        int rc = cd_multipart_find_file(content_type, body, len, field, &d, &dl,
                                        part_type, sizeof part_type, err);
        if (rc != CD_OK && field) /* the named field is absent: take the first file */
            rc = cd_multipart_find_file(content_type, body, len, NULL, &d, &dl,
                                        part_type, sizeof part_type, err);
        if (rc != CD_OK) {
            cd_err_wrap(err, "multipart body");
            return 400;
        }
        if (part_type[0] && !media_type_is(part_type, "image/jpeg") &&
            !media_type_is(part_type, "image/jpg") &&
            !media_type_is(part_type, "image/png") &&
            !media_type_is(part_type, "application/octet-stream")) {
            char t[64];
            media_type_copy(part_type, t, sizeof t);
            cd_err_set(err, CD_EUNSUPPORTED,
                       "unsupported file part type '%s': send image/jpeg or image/png", t);
            return 415;
        }
        if (dl == 0) {
            cd_err_set(err, CD_EINVAL, "the file part is empty");
            return 400;
        }
        *img = d;
        *img_len = dl;
        return 0;
    }
    char t[64];
    media_type_copy(content_type, t, sizeof t);
    cd_err_set(err, CD_EUNSUPPORTED,
               "unsupported Content-Type '%s': send image/jpeg, image/png, "
               "application/octet-stream or multipart/form-data", t);
    return 415;
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
