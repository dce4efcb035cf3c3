/* op_shape_grn.c — shape function of grn (global response normalisation,
 * ConvNeXt V2 / UniRepLKNet): validates the channel axis (1 = channels-first
 * (N,C,spatial..), -1 = channels-last (N,spatial..,C)), eps, and gamma/beta
 * of C elements. Output shape = input shape. Touches no data. */
#include "op_family.h"

#include <math.h>

CD_SHAPE_FN(grn)
{
    char b[128];
    if (n_in != 1)
        return cd_err_set(err, CD_EINVAL, "grn takes 1 input, got %d", n_in);
    const struct cd_shape *x = &in[0];
    if (x->ndim < 3 || x->ndim > CD_MAX_DIMS)
        return cd_err_set(err, CD_EINVAL, "grn input %s: rank %d, expected >= "
                          "3 (N, C and spatial dims)",
                          cd_shape_str(x, b, sizeof b), x->ndim);
    if (a->axis != 1 && a->axis != -1 && a->axis != x->ndim - 1)
        return cd_err_set(err, CD_EINVAL, "grn axis %d must be 1 (channels "
                          "first) or -1 (channels last)", a->axis);
    if (!(a->eps >= 0.0f) || !isfinite(a->eps))
        return cd_err_set(err, CD_EINVAL, "grn eps %g must be finite and >= 0",
                          (double)a->eps);
    int ax = a->axis < 0 ? x->ndim - 1 : a->axis;
    int64_t c = x->dim[ax];
    const char *names[2] = { "gamma", "beta" };
    for (int i = 0; i < 2; i++) {
        if (w[i].ndim == 0)
            return cd_err_set(err, CD_EINVAL, "grn weight '%s' missing",
                              names[i]);
        if (cd_shape_numel(&w[i]) != c)
            return cd_err_set(err, CD_EINVAL, "grn weight '%s' has shape %s, "
                              "expected %lld elements (channels of axis %d)",
                              names[i], cd_shape_str(&w[i], b, sizeof b),
                              (long long)c, a->axis);
    }
    if (cd_shape_numel(x) <= 0)
        return cd_err_set(err, CD_EINVAL, "grn input %s is empty",
                          cd_shape_str(x, b, sizeof b));
    *out = *x;
    return CD_OK;
}
