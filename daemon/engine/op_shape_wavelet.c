/* op_shape_wavelet.c — shape functions of WaveMix's 2-D Haar transform
 * (haar_dwt: (C, H, W) -> (4C, H/2, W/2)) and its inverse (haar_idwt).
 * Refuses odd spatial sizes and channel counts the layout cannot hold, with
 * the shapes in the message. Pure: no allocation, no data access. */
#include "op_family.h"

#include <stdio.h>

#define SBUF 128
#define DIM_MAX ((int64_t)1 << 31)

static int check_x(int n_in, const struct cd_shape *in, const char *op,
                   struct cd_err *err)
{
    char b[SBUF];
    if (n_in != 1)
        return cd_err_set(err, CD_EINVAL, "%s: %d inputs (1 expected)", op,
                          n_in);
    const struct cd_shape *x = &in[0];
    if (x->ndim != 4)
        return cd_err_set(err, CD_EINVAL, "%s input %s: rank %d, expected 4 "
                          "(N, C, H, W)", op, cd_shape_str(x, b, SBUF),
                          x->ndim);
    if (x->dim[0] != 1)
        return cd_err_set(err, CD_EINVAL, "%s input %s: per-sample shapes "
                          "need dim[0] == 1", op, cd_shape_str(x, b, SBUF));
    for (int i = 1; i < 4; i++)
        if (x->dim[i] < 1 || x->dim[i] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "%s input %s: dim %d out of "
                              "range", op, cd_shape_str(x, b, SBUF), i);
    return CD_OK;
}

CD_SHAPE_FN(haar_dwt)
{
    char b[SBUF];
    (void)a;
    (void)w;
    int rc = check_x(n_in, in, "haar_dwt", err);
    if (rc)
        return rc;
    const struct cd_shape *x = &in[0];
    if (x->dim[2] % 2 || x->dim[3] % 2)
        return cd_err_set(err, CD_EINVAL, "haar_dwt input %s: height and "
                          "width must be even (odd sizes are not padded)",
                          cd_shape_str(x, b, SBUF));
    *out = *x;
    out->dim[1] = 4 * x->dim[1];
    out->dim[2] = x->dim[2] / 2;
    out->dim[3] = x->dim[3] / 2;
    if (cd_shape_numel(out) < 0)
        return cd_err_set(err, CD_EINVAL, "haar_dwt output too large");
    return CD_OK;
}

CD_SHAPE_FN(haar_idwt)
{
    char b[SBUF];
    (void)a;
    (void)w;
    int rc = check_x(n_in, in, "haar_idwt", err);
    if (rc)
        return rc;
    const struct cd_shape *x = &in[0];
    if (x->dim[1] % 4)
        return cd_err_set(err, CD_EINVAL, "haar_idwt input %s: channels must "
                          "be a multiple of 4 (LL, then 3 bands per channel)",
                          cd_shape_str(x, b, SBUF));
    *out = *x;
    out->dim[1] = x->dim[1] / 4;
    out->dim[2] = 2 * x->dim[2];
    out->dim[3] = 2 * x->dim[3];
    if (cd_shape_numel(out) < 0)
        return cd_err_set(err, CD_EINVAL, "haar_idwt output too large");
    return CD_OK;
}
