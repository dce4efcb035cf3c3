/* ops_ref_util.h — helpers shared by the C references (ops_ref_*.c). */
#ifndef CD_OPS_REF_UTIL_H
#define CD_OPS_REF_UTIL_H

#include "tensor.h"

#include <stdint.h>

/* Views per-sample shape s as (outer, len, inner) around dim axis (a
 * possibly negative index, normalised against the rank): element (o, j, i)
 * is at (o * len + j) * inner + i. Returns the normalised axis. */
int cd_ref_axis_view(const struct cd_shape *s, int axis, int64_t *outer,
                     int64_t *len, int64_t *inner);

#endif
