/* op_shape_scnn.c — shape function of scnn (SCNN slice-by-slice message
 * passing): x (N, C, H, W) and four bias-free message convs down/up
 * (C, C, 1, w) and right/left (C, C, w, 1), each w odd. The output has the
 * input's shape. Validates weights and refuses even widths; no data access. */
#include "op_family.h"

#define SBUF 128
#define DIM_MAX ((int64_t)1 << 31)
#define WIDTH_MAX 1023

static const char *const slot_name[4] = { "down", "up", "right", "left" };

CD_SHAPE_FN(scnn)
{
    char b1[SBUF], b2[SBUF];
    (void)a;
    if (n_in != 1)
        return cd_err_set(err, CD_EINVAL, "scnn takes 1 input, got %d", n_in);
    const struct cd_shape *x = &in[0];
    if (x->ndim != 4 || x->dim[0] != 1)
        return cd_err_set(err, CD_EINVAL, "scnn input %s: expected a "
                          "per-sample (1, C, H, W) shape",
                          cd_shape_str(x, b1, sizeof b1));
    for (int i = 1; i < 4; i++)
        if (x->dim[i] < 1 || x->dim[i] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "scnn input %s: dim %d out of "
                              "range", cd_shape_str(x, b1, sizeof b1), i);
    if (cd_shape_numel(x) < 0 || cd_shape_numel(x) > INT32_MAX)
        return cd_err_set(err, CD_EINVAL, "scnn input %s: too many elements",
                          cd_shape_str(x, b1, sizeof b1));
    int64_t C = x->dim[1];
    for (int s = 0; s < 4; s++) {
        const struct cd_shape *ws = &w[s];
        int kdim = s < 2 ? 3 : 2, one = s < 2 ? 2 : 3;
        const char *form = s < 2 ? "(C, C, 1, w)" : "(C, C, w, 1)";
        if (ws->ndim != 4 || ws->dim[0] != C || ws->dim[1] != C ||
            ws->dim[one] != 1 || ws->dim[kdim] < 1 ||
            ws->dim[kdim] > WIDTH_MAX)
            return cd_err_set(err, CD_EINVAL, "scnn weight '%s' has shape %s, "
                              "expected %s with C = %lld of input %s",
                              slot_name[s], cd_shape_str(ws, b1, sizeof b1),
                              form, (long long)C,
                              cd_shape_str(x, b2, sizeof b2));
        if (ws->dim[kdim] % 2 == 0)
            return cd_err_set(err, CD_EINVAL, "scnn weight '%s' %s: message "
                              "width %lld must be odd (padding w/2 keeps the "
                              "slice length)", slot_name[s],
                              cd_shape_str(ws, b1, sizeof b1),
                              (long long)ws->dim[kdim]);
        if (cd_shape_numel(ws) < 0 || cd_shape_numel(ws) > INT32_MAX)
            return cd_err_set(err, CD_EINVAL, "scnn weight '%s' too large",
                              slot_name[s]);
    }
    *out = *x;
    return CD_OK;
}
