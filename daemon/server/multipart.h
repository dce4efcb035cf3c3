/* multipart.h — finds one file in a multipart/form-data body (RFC 7578)
 * without copying: the answer points into the caller's body. Strict about
 * bounds; every malformed body fails with CD_EFORMAT and a message fit for a
 * 400 answer. */
#ifndef CD_MULTIPART_H
#define CD_MULTIPART_H

#include "engine/err.h"

#include <stddef.h>

/* Longest part header block accepted (all header lines of one part). */
#define CD_MULTIPART_MAX_HEADER 8192

/* content_type: the request's Content-Type ("multipart/form-data;
 * boundary=..."). field: the form field name to find; NULL picks the first
 * part that carries a filename, else the first part. On success *data and
 * *data_len describe the part's content (borrowed from body) and part_type
 * receives the part's Content-Type ("" when the part has none; truncated to
 * part_type_len - 1 bytes). part_type may be NULL. Returns CD_OK, CD_EINVAL
 * (NULL arguments) or CD_EFORMAT. */
int cd_multipart_find_file(const char *content_type, const void *body,
                           size_t len, const char *field, const void **data,
                           size_t *data_len, char *part_type,
                           size_t part_type_len, struct cd_err *err);

#endif
