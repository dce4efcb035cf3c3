/* model_preprocess.h — parsing of model.json's inputs[0] "preprocess" object
 * (image, audio or tensor) into struct cd_preprocess. Internal to the
 * engine: model.c is its only caller. */
#ifndef CD_MODEL_PREPROCESS_H
#define CD_MODEL_PREPROCESS_H

#include "model.h"

#include <jansson.h>

/* Largest input dimension (model.c checks input shapes against it too). */
#define CD_MODEL_DIM_MAX ((int64_t)1 << 24)

/* Fills *p with the defaults (kind tensor, scale 255, std 1), then the keys
 * of pp (borrowed; NULL means a raw tensor input). input is the batch-1
 * input shape the preprocessing must produce. Refuses unknown keys, wrong
 * types and ranges, and specs that do not match input, with a message
 * naming the key. */
int cd_model_preprocess_parse(const json_t *pp, const struct cd_shape *input,
                              struct cd_preprocess *p, struct cd_err *err);

#endif
