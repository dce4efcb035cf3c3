/* op_shape_conv_transpose.c — shape function of conv_transpose (semantics of
 * torch.nn.ConvTranspose1d/2d/3d): weight (Cin, Cout/groups, k...), output
 * (in-1)*stride - pad_begin - pad_end + dilation*(k-1) + output_padding + 1.
 * Validates every attribute with the shapes in the message. Pure: no
 * allocation, no data access, never aborts. */
#include "op_family.h"

#include <stdio.h>

#define SBUF 128
#define DIM_MAX ((int64_t)1 << 31)

static const char *str(const struct cd_shape *s, char *buf)
{
    return cd_shape_str(s, buf, SBUF);
}

static int check_in(const struct cd_shape *s, int i, struct cd_err *err)
{
    char b[SBUF];
    if (s->ndim < 3 || s->ndim > 5 || s->dim[0] != 1)
        return cd_err_set(err, CD_EINVAL, "conv_transpose input %d %s: "
                          "expected per-sample rank 3..5 (N=1, C, 1-3 "
                          "spatial dims)", i, str(s, b));
    for (int d = 1; d < s->ndim; d++)
        if (s->dim[d] < 1 || s->dim[d] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "conv_transpose input %d %s: "
                              "dim %d out of range", i, str(s, b), d);
    return CD_OK;
}

/* Stride, dilation, padding and output padding of spatial dim i. */
static int check_dim(const struct cd_attrs *a, int i, struct cd_err *err)
{
    int s = a->stride[i], d = a->dilation[i], op = a->output_padding[i];
    if (s < 1)
        return cd_err_set(err, CD_EINVAL, "stride[%d] = %d must be >= 1", i,
                          s);
    if (d < 1)
        return cd_err_set(err, CD_EINVAL, "dilation[%d] = %d must be >= 1",
                          i, d);
    if (a->pad_begin[i] < 0 || a->pad_end[i] < 0)
        return cd_err_set(err, CD_EINVAL, "padding[%d] = (%d, %d) must be "
                          ">= 0", i, a->pad_begin[i], a->pad_end[i]);
    if (op < 0 || (op >= s && op >= d))
        return cd_err_set(err, CD_EINVAL, "output_padding[%d] = %d must be "
                          "smaller than stride (%d) or dilation (%d)", i, op,
                          s, d);
    return CD_OK;
}

CD_SHAPE_FN(conv_transpose)
{
    char b1[SBUF], b2[SBUF];
    int rc;
    if (n_in < 1 || n_in > 2)
        return cd_err_set(err, CD_EINVAL, "%d inputs (1..2 expected)", n_in);
    for (int i = 0; i < n_in; i++)
        if ((rc = check_in(&in[i], i, err)))
            return rc;
    const struct cd_shape *x = &in[0], *wt = &w[0];
    int nsp = x->ndim - 2;
    if (a->nsp != 0 && a->nsp != nsp)
        return cd_err_set(err, CD_EINVAL, "stride/padding/dilation have %d "
                          "spatial entries but input %s has %d spatial dims",
                          a->nsp, str(x, b1), nsp);
    if (wt->ndim != x->ndim)
        return cd_err_set(err, CD_EINVAL, "weight %s rank differs from input "
                          "%s (expected (Cin, Cout/groups, k...))",
                          str(wt, b1), str(x, b2));
    for (int i = 0; i < wt->ndim; i++)
        if (wt->dim[i] < 1 || wt->dim[i] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "weight %s: dim %d out of range",
                              str(wt, b1), i);
    int64_t g = a->groups;
    if (g < 1 || x->dim[1] % g)
        return cd_err_set(err, CD_EINVAL, "groups %lld must be >= 1 and "
                          "divide the input channels of %s", (long long)g,
                          str(x, b1));
    if (wt->dim[0] != x->dim[1])
        return cd_err_set(err, CD_EINVAL, "weight %s dim 0 must equal the "
                          "input channels of %s", str(wt, b1), str(x, b2));
    int64_t cout = wt->dim[1] * g;
    if (cout > DIM_MAX)
        return cd_err_set(err, CD_EINVAL, "output channels too large");
    if (w[1].ndim && (w[1].ndim != 1 || w[1].dim[0] != cout))
        return cd_err_set(err, CD_EINVAL, "weight 'bias' has shape %s, "
                          "expected [%lld]", str(&w[1], b1),
                          (long long)cout);
    *out = *x;
    out->dim[1] = cout;
    for (int i = 0; i < nsp; i++) {
        if ((rc = check_dim(a, i, err)))
            return rc;
        int64_t o = (x->dim[2 + i] - 1) * a->stride[i] - a->pad_begin[i] -
                    a->pad_end[i] + (int64_t)a->dilation[i] *
                    (wt->dim[2 + i] - 1) + a->output_padding[i] + 1;
        if (o < 1 || o > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "spatial dim %d: output size "
                              "%lld out of range (input %s, kernel %lld, "
                              "padding (%d, %d))", i, (long long)o,
                              str(x, b1), (long long)wt->dim[2 + i],
                              a->pad_begin[i], a->pad_end[i]);
        out->dim[2 + i] = o;
    }
    if (cd_shape_numel(out) < 0)
        return cd_err_set(err, CD_EINVAL, "output %s too large", str(out, b1));
    if (a->act < 0 || a->act >= CD_ACT_COUNT)
        return cd_err_set(err, CD_EINVAL, "activation %d unknown", a->act);
    if (a->residual != (n_in == 2))
        return cd_err_set(err, CD_EINVAL, "%d inputs with residual %d (2 "
                          "inputs iff residual)", n_in, a->residual);
    if (a->residual && !cd_shape_eq(&in[1], out))
        return cd_err_set(err, CD_EINVAL, "residual input %s does not match "
                          "output %s", str(&in[1], b1), str(out, b2));
    return CD_OK;
}
