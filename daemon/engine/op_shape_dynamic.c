/* op_shape_dynamic.c — shape function of dynamic_dwconv (ATConv-style
 * per-sample depthwise convolution): x (N, C, [H,] W) and a kernel input
 * holding C*kh*kw values per sample, optional bias (C). Validates every
 * attribute and the kernel's element count; it must not touch data. */
#include "op_family.h"

#include <stdio.h>

#define SBUF 128
#define DIM_MAX ((int64_t)1 << 31)

static int check_sample(const struct cd_shape *s, const char *what,
                        struct cd_err *err)
{
    char b[SBUF];
    if (s->ndim < 2 || s->ndim > CD_MAX_DIMS || s->dim[0] != 1)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv %s %s: need a "
                          "per-sample shape (1, ...) of rank 2..%d", what,
                          cd_shape_str(s, b, sizeof b), CD_MAX_DIMS);
    for (int i = 0; i < s->ndim; i++)
        if (s->dim[i] < 1 || s->dim[i] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "dynamic_dwconv %s %s: dim %d "
                              "out of range", what,
                              cd_shape_str(s, b, sizeof b), i);
    if (cd_shape_numel(s) < 0)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv %s %s: too many "
                          "elements", what, cd_shape_str(s, b, sizeof b));
    return CD_OK;
}

/* Kernel size per spatial dim: the "kernel" attribute, or, when it is
 * absent, the trailing dims of a kernel input shaped (1, C, k...). */
static int kernel_size(const struct cd_attrs *a, int nsp,
                       const struct cd_shape *x, const struct cd_shape *kn,
                       int64_t *k, struct cd_err *err)
{
    char b[SBUF];
    bool given = a->kernel[0] > 0;
    for (int i = 0; i < nsp; i++) {
        if (given) {
            k[i] = a->kernel[i];
        } else if (kn->ndim == x->ndim && kn->dim[1] == x->dim[1]) {
            k[i] = kn->dim[2 + i];
        } else {
            return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: attribute "
                              "\"kernel\" is required when the kernel input "
                              "%s is not shaped (1, C, k...)",
                              cd_shape_str(kn, b, sizeof b));
        }
        if (k[i] < 1)
            return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: kernel[%d] = "
                              "%lld must be >= 1", i, (long long)k[i]);
    }
    return CD_OK;
}

CD_SHAPE_FN(dynamic_dwconv)
{
    char b1[SBUF], b2[SBUF];
    int rc;
    if (n_in != 2)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv takes 2 inputs (x, "
                          "kernel), got %d", n_in);
    if ((rc = check_sample(&in[0], "input x", err)) ||
        (rc = check_sample(&in[1], "kernel input", err)))
        return rc;
    const struct cd_shape *x = &in[0], *kn = &in[1];
    int nsp = x->ndim - 2;
    if (nsp < 1 || nsp > 2)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv input %s: rank %d, "
                          "expected 3 or 4 (N, C, [H,] W)",
                          cd_shape_str(x, b1, sizeof b1), x->ndim);
    if (a->nsp != 0 && a->nsp != nsp)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: attributes have %d "
                          "spatial entries but input %s has %d spatial dims",
                          a->nsp, cd_shape_str(x, b1, sizeof b1), nsp);
    int64_t k[2] = { 1, 1 };
    if ((rc = kernel_size(a, nsp, x, kn, k, err)))
        return rc;
    int64_t C = x->dim[1], taps = k[0] * (nsp > 1 ? k[1] : 1);
    size_t want;
    if (!cd_size_mul((size_t)C, (size_t)taps, &want) || want > INT32_MAX)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: C %lld x kernel "
                          "taps %lld too large", (long long)C,
                          (long long)taps);
    if (cd_shape_numel(kn) != (int64_t)want)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: kernel input %s "
                          "has %lld values per sample, expected C*kh*kw = "
                          "%lld for input %s", cd_shape_str(kn, b1, sizeof b1),
                          (long long)cd_shape_numel(kn), (long long)want,
                          cd_shape_str(x, b2, sizeof b2));
    if (w[0].ndim && (w[0].ndim != 1 || w[0].dim[0] != C))
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: weight 'bias' has "
                          "shape %s, expected [%lld]",
                          cd_shape_str(&w[0], b1, sizeof b1), (long long)C);
    if (a->act != CD_ACT_NONE || a->residual)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv has no fused "
                          "epilogue");
    *out = *x;
    for (int i = 0; i < nsp; i++) {
        int s = a->stride[i], d = a->dilation[i];
        int pb = a->pad_begin[i], pe = a->pad_end[i];
        if (s < 1 || d < 1)
            return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: stride[%d] = "
                              "%d and dilation[%d] = %d must be >= 1", i, s,
                              i, d);
        if (pb < 0 || pe < 0)
            return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: padding[%d] = "
                              "(%d, %d) must be >= 0", i, pb, pe);
        int64_t span = x->dim[2 + i] + pb + pe - (int64_t)d * (k[i] - 1) - 1;
        if (span < 0)
            return cd_err_set(err, CD_EINVAL, "dynamic_dwconv: spatial dim "
                              "%d: kernel %lld (dilation %d) larger than "
                              "padded input %s", i, (long long)k[i], d,
                              cd_shape_str(x, b1, sizeof b1));
        out->dim[2 + i] = span / s + 1;
    }
    if (cd_shape_numel(out) < 0)
        return cd_err_set(err, CD_EINVAL, "dynamic_dwconv output too large");
    return CD_OK;
}
