/* body_input.h — the file carried by an HTTP request body, picked by
 * Content-Type: the whole body for the accepted media types (and
 * application/octet-stream or no type), or a multipart/form-data file part.
 * Shared by image_input and audio_input; knows nothing of responses: it
 * returns the HTTP status the caller should answer. */
#ifndef CD_BODY_INPUT_H
#define CD_BODY_INPUT_H

#include "engine/err.h"

#include <stdbool.h>
#include <stddef.h>

/* True when the media type (before any ';' parameters) equals want. */
bool cd_body_input_type_is(const char *content_type, const char *want);

/* What one kind of file is accepted as, and how its errors read. */
struct cd_body_kind {
    bool (*accepts)(const char *content_type); /* besides octet-stream */
    const char *noun;      /* "the image": "empty body: send NOUN as ..." */
    const char *part_send; /* media types a file part should have */
    const char *for_what;  /* "" or " for an audio model" */
    const char *body_send; /* media types a body should have, before octet */
};

/* Finds the file bytes in a request body: an accepted type,
 * application/octet-stream or no Content-Type: the whole body;
 * multipart/form-data: the part named `field` (NULL or absent: the first
 * file part). Returns 0 with *data and *data_len borrowed from body, or the
 * HTTP status to answer (400, 415) with a message in err. */
int cd_body_input_find(const struct cd_body_kind *kind, const char *content_type,
                       const void *body, size_t len, const char *field,
                       const void **data, size_t *data_len, struct cd_err *err);

#endif
