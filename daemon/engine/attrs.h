/* attrs.h — parsing of a model.json node's "attrs" object into struct
 * cd_attrs, with the types and ranges of docs/model-format.md. */
#ifndef CD_ATTRS_H
#define CD_ATTRS_H

#include "ops.h"

#include <jansson.h>

/* Fills defaults (cd_attrs_default), then every key of attrs (borrowed; NULL
 * means none). Refuses names the op's row does not list, wrong types and out
 * of range values, with a message naming the attribute.
 * Conventions beyond ops.h:
 *  - a->nsp is the length of the spatial lists given (kernel, stride,
 *    dilation, size, output_size, scale; padding counts d for a length d or
 *    2d list); 0 when none was given. All must agree. A padding list alone
 *    of length 2 means symmetric 2-D padding; lengths 4 and 6 are begin/end.
 *  - pools without "stride" get stride = kernel; "kernel" is required.
 *  - pad: "value" is stored in a->alpha (default 0).
 *  - clamp: "min"/"max" in a->alpha/a->beta.
 *  - epilogue: "activation" leaky_relu defaults act_alpha to 0.01, clamp
 *    defaults act_alpha/act_beta to -inf/+inf.
 *  - dropout: "p" is checked (0..1) and ignored. */
int cd_attrs_parse(const json_t *attrs, enum cd_op op, struct cd_attrs *a,
                   struct cd_err *err);

#endif
