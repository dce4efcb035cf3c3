/* op_shape_multidilated.c — shape function of multidilated_conv (D3Net): the
 * input channels split into len(dilations) equal slices, slice i convolved
 * with dilation d_i under 'same' padding, all summed into one output. Checks
 * weight (Cout, Cin, k) / (Cout, Cin, kh, kw), the slicing, strides, bias and
 * the fused epilogue. Pure: shapes only, no allocation. */
#include "op_family.h"

#include <stdint.h>

#define SBUF 128
#define DIM_MAX ((int64_t)1 << 31)

static const char *str(const struct cd_shape *s, char *buf)
{
    return cd_shape_str(s, buf, SBUF);
}

static int check_in(const struct cd_shape *s, int i, struct cd_err *err)
{
    char b[SBUF];
    if (s->ndim < 3 || s->ndim > 4 || s->dim[0] != 1)
        return cd_err_set(err, CD_EINVAL, "multidilated_conv input %d %s: "
                          "expected a per-sample (1, C, L) or (1, C, H, W)",
                          i, str(s, b));
    for (int j = 0; j < s->ndim; j++)
        if (s->dim[j] < 1 || s->dim[j] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "input %d %s: dim %d out of "
                              "range", i, str(s, b), j);
    if (cd_shape_numel(s) < 0)
        return cd_err_set(err, CD_EINVAL, "input %d %s: too many elements",
                          i, str(s, b));
    return CD_OK;
}

CD_SHAPE_FN(multidilated_conv)
{
    char b1[SBUF], b2[SBUF];
    int rc;
    if (n_in < 1 || n_in > 2)
        return cd_err_set(err, CD_EINVAL, "%d inputs (1..2 expected)", n_in);
    for (int i = 0; i < n_in; i++)
        if ((rc = check_in(&in[i], i, err)))
            return rc;
    const struct cd_shape *x = &in[0], *wt = &w[0];
    int nsp = x->ndim - 2, m = a->n_dilations;
    if (a->nsp != 0 && a->nsp != nsp)
        return cd_err_set(err, CD_EINVAL, "stride has %d entries but input "
                          "%s has %d spatial dims", a->nsp, str(x, b1), nsp);
    if (m < 1 || m > CD_MAX_DILATIONS)
        return cd_err_set(err, CD_EINVAL, "attribute \"dilations\" missing "
                          "(one dilation per input-channel slice)");
    if (wt->ndim != x->ndim || wt->dim[0] < 1 || wt->dim[0] > DIM_MAX)
        return cd_err_set(err, CD_EINVAL, "weight %s: expected (out, in, "
                          "kernel...) of the input's rank %d", str(wt, b1),
                          x->ndim);
    if (wt->dim[1] != x->dim[1])
        return cd_err_set(err, CD_EINVAL, "weight %s dim 1 != input "
                          "channels of %s", str(wt, b1), str(x, b2));
    if (x->dim[1] % m)
        return cd_err_set(err, CD_EINVAL, "input channels %lld not divisible "
                          "into %d equal slices (one per dilation)",
                          (long long)x->dim[1], m);
    for (int i = 0; i < nsp; i++)
        if (wt->dim[2 + i] < 1 || wt->dim[2 + i] > 65536)
            return cd_err_set(err, CD_EINVAL, "weight %s: kernel dim %d out "
                              "of range", str(wt, b1), i);
    for (int s = 0; s < m; s++) {
        int64_t d = a->dilations[s];
        for (int i = 0; i < nsp; i++)
            if (d < 1 || d * (wt->dim[2 + i] - 1) > INT32_MAX / 4)
                return cd_err_set(err, CD_EINVAL, "dilations[%d] = %lld: "
                                  "must be >= 1 and keep the dilated kernel "
                                  "%s within int range", s, (long long)d,
                                  str(wt, b1));
    }
    if (w[1].ndim && (w[1].ndim != 1 || w[1].dim[0] != wt->dim[0]))
        return cd_err_set(err, CD_EINVAL, "weight 'bias' has shape %s, "
                          "expected [%lld]", str(&w[1], b1),
                          (long long)wt->dim[0]);
    *out = *x;
    out->dim[1] = wt->dim[0];
    for (int i = 0; i < nsp; i++) {
        if (a->stride[i] < 1)
            return cd_err_set(err, CD_EINVAL, "stride[%d] = %d must be >= 1",
                              i, a->stride[i]);
        /* 'same' padding d (k - 1) in total: (L - 1) / s + 1 per slice */
        out->dim[2 + i] = (x->dim[2 + i] - 1) / a->stride[i] + 1;
    }
    if (cd_shape_numel(out) < 0)
        return cd_err_set(err, CD_EINVAL, "output %s too large",
                          str(out, b1));
    if (a->act < 0 || a->act >= CD_ACT_COUNT)
        return cd_err_set(err, CD_EINVAL, "activation %d unknown", a->act);
    if (a->residual != (n_in == 2))
        return cd_err_set(err, CD_EINVAL, "%d inputs with residual %s", n_in,
                          a->residual ? "set (2 expected)" : "unset (1 "
                          "expected)");
    if (a->residual && !cd_shape_eq(&in[1], out))
        return cd_err_set(err, CD_EINVAL, "residual input %s does not match "
                          "output %s", str(&in[1], b1), str(out, b2));
    return CD_OK;
}
