/* image_input.h — the image carried by an HTTP request, turned into a
 * model's input tensor: picks the bytes by Content-Type (raw image, sniffed
 * octet-stream, or a multipart/form-data file part), decodes them within the
 * pixel budget and preprocesses them per the model. Knows nothing of
 * responses: it returns the HTTP status the caller should answer. */
#ifndef CD_IMAGE_INPUT_H
#define CD_IMAGE_INPUT_H

#include "engine/err.h"
#include "engine/model.h"

#include <stddef.h>

/* Finds the image bytes in a request body. content_type may be NULL (then
 * the bytes are sniffed). image/jpeg, image/png, application/octet-stream:
 * the whole body; multipart/form-data: the part named `field` (NULL: the
 * first file part). Returns 0 with *img and *img_len borrowed from body, or the
 * HTTP status to answer (400, 415) with a message in err. */
int cd_image_input_find(const char *content_type, const void *body, size_t len,
                        const char *field, const void **img, size_t *img_len,
                        struct cd_err *err);

/* Decodes an encoded JPEG/PNG and preprocesses it for p into out, which
 * holds p->channels * p->height * p->width floats. Returns 0, or the HTTP
 * status to answer (400 undecodable or too many pixels, 500 internal) with
 * a message in err. max_pixels 0 = the decoder's default budget. */
int cd_image_input_tensor(const void *img, size_t len,
                          const struct cd_preprocess *p, size_t max_pixels,
                          float *out, struct cd_err *err);

/* Per-sample element count the preprocessing writes; 0 when the model does
 * not take images. */
size_t cd_image_input_numel(const struct cd_preprocess *p);

#endif
