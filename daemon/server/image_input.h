/* image_input.h — the image carried by an HTTP request, turned into a
 * model's input tensor: picks the bytes by Content-Type (raw image, sniffed
 * octet-stream, or a multipart/form-data file part), decodes them within the
 * pixel budget and preprocesses them per the model. Knows nothing of
 * responses: it returns the HTTP status the caller should answer. */
#ifndef CD_IMAGE_INPUT_H
#define CD_IMAGE_INPUT_H

#include "engine/err.h"
#include "engine/model.h"
#include "media/image.h"

#include <stddef.h>
#include <stdint.h>

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

/* Same, and when keep is not NULL also hands back the decoded image
 * (p->channels channels; caller frees with cd_image_free; zeroed on failure). */
int cd_image_input_tensor_keep(const void *img, size_t len,
                               const struct cd_preprocess *p, size_t max_pixels,
                               float *out, struct cd_image *keep,
                               struct cd_err *err);

/* Maps (h, w) computed over the network input frame (segmentation logits,
 * CAM maps) resampled onto every pixel of the W x H source image, undoing
 * the model's resize policy. Stretch: exactly F.interpolate to (H, W)
 * ("nearest" for classes, "bilinear" align_corners=False for heat). Centre
 * crop and letterbox: each image pixel centre is mapped through the same
 * geometry cd_preprocess_image used into the map, with the same rules;
 * image parts cropped away take the nearest map edge. out holds W*H. */
int cd_image_input_classes_to_image(const uint8_t *cls, int h, int w,
                                    const struct cd_preprocess *p, int W, int H,
                                    uint8_t *out, struct cd_err *err);
int cd_image_input_heat_to_image(const float *map, int h, int w,
                                 const struct cd_preprocess *p, int W, int H,
                                 float *out, struct cd_err *err);
/* The source-image pixel (x, y) under the centre of map cell (my, mx). */
void cd_image_input_map_point(const struct cd_preprocess *p, int W, int H,
                              int h, int w, int my, int mx, int *x, int *y);

/* Per-sample element count the preprocessing writes; 0 when the model does
 * not take images. */
size_t cd_image_input_numel(const struct cd_preprocess *p);

#endif
