/* json_util.h — small jansson helpers shared by the model.json parsers
 * (model.c, model_preprocess.c, attrs.c). Internal to the engine. */
#ifndef CD_JSON_UTIL_H
#define CD_JSON_UTIL_H

#include "err.h"

#include <jansson.h>
#include <stdbool.h>

/* Is name one of the comma-separated entries of list? */
bool cd_json_listed(const char *list, const char *name);

/* Refuses the first key of obj not in the comma-separated allowed list:
 * CD_EINVAL, "unknown <what> key \"<key>\"". */
int cd_json_check_keys(const json_t *obj, const char *allowed,
                       const char *what, struct cd_err *err);

#endif
