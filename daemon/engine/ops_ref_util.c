/* ops_ref_util.c — helpers shared by the C references: the (outer, len,
 * inner) view of a shape around one axis. Trusts shapes the shape functions
 * checked; no allocation, no data access. */
#include "ops_ref_util.h"

int cd_ref_axis_view(const struct cd_shape *s, int axis, int64_t *outer,
                     int64_t *len, int64_t *inner)
{
    int ax = axis < 0 ? axis + s->ndim : axis;
    *outer = 1;
    *inner = 1;
    *len = s->dim[ax];
    for (int i = 0; i < ax; i++)
        *outer *= s->dim[i];
    for (int i = ax + 1; i < s->ndim; i++)
        *inner *= s->dim[i];
    return ax;
}
