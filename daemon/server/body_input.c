/* body_input.c — picks the file bytes out of a request body by Content-Type
 * (whole body or a multipart/form-data file part) for image_input and
 * audio_input. It never touches a request or a response, never copies the
 * body and never trusts its sizes (multipart parsing checks every bound). */
#include "server/body_input.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "server/multipart.h"

bool cd_body_input_type_is(const char *ct, const char *want)
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

static bool accepted(const struct cd_body_kind *kind, const char *ct)
{
    return kind->accepts(ct) || cd_body_input_type_is(ct, "application/octet-stream");
}

int cd_body_input_find(const struct cd_body_kind *kind, const char *content_type,
                       const void *body, size_t len, const char *field,
                       const void **data, size_t *data_len, struct cd_err *err)
{
    *data = NULL;
    *data_len = 0;
    if (!content_type || !*content_type || accepted(kind, content_type)) {
        if (!body || len == 0) {
            cd_err_set(err, CD_EINVAL, "empty body: send %s as the request body",
                       kind->noun);
            return 400;
        }
        *data = body;
        *data_len = len;
        return 0;
    }
    if (cd_body_input_type_is(content_type, "multipart/form-data")) {
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
        if (part_type[0] && !accepted(kind, part_type)) {
            char t[64];
            media_type_copy(part_type, t, sizeof t);
            cd_err_set(err, CD_EUNSUPPORTED, "unsupported file part type '%s': send %s",
                       t, kind->part_send);
            return 415;
        }
        if (dl == 0) {
            cd_err_set(err, CD_EINVAL, "the file part is empty");
            return 400;
        }
        *data = d;
        *data_len = dl;
        return 0;
    }
    char t[64];
    media_type_copy(content_type, t, sizeof t);
    cd_err_set(err, CD_EUNSUPPORTED,
               "unsupported Content-Type '%s'%s: send %s, "
               "application/octet-stream or multipart/form-data",
               t, kind->for_what, kind->body_send);
    return 415;
}
