/* op_shape_dcls.c — shape function of dcls_conv (DCLS, learned kernel
 * positions): checks the stored factors (weight, positions P, optional
 * Gaussian widths SIG, bias) against dilated_kernel_size, then defers to the
 * conv shape function with the dense kernel's shape. Pure: it sees shapes
 * only; position values (NaN, out of range) are checked by the materialiser. */
#include "op_family.h"

#include <stdint.h>
#include <stdio.h>

#define SBUF 128
#define DENSE_MAX ((int64_t)INT32_MAX) /* floats of the materialised kernel */

static const char *str(const struct cd_shape *s, char *buf)
{
    return cd_shape_str(s, buf, SBUF);
}

CD_SHAPE_FN(dcls_conv)
{
    char b1[SBUF], b2[SBUF];
    const struct cd_shape *wt = &w[0], *p = &w[1], *sig = &w[2];
    if (n_in < 1 || n_in > 2)
        return cd_err_set(err, CD_EINVAL, "%d inputs (1..2 expected)", n_in);
    int nsp = in[0].ndim - 2;
    if (nsp < 1 || nsp > CD_MAX_SPATIAL)
        return cd_err_set(err, CD_EINVAL, "dcls_conv input %s: rank %d, "
                          "expected 3..5 (N, C, 1-3 spatial dims)",
                          str(&in[0], b1), in[0].ndim);
    if (a->nsp != nsp)
        return cd_err_set(err, CD_EINVAL, "attribute \"dilated_kernel_size\" "
                          "has %d entries but input %s has %d spatial dims "
                          "(it is required)", a->nsp, str(&in[0], b1), nsp);
    int64_t dense = 1;
    for (int i = 0; i < nsp; i++) {
        if (a->kernel[i] < 1)
            return cd_err_set(err, CD_EINVAL, "dilated_kernel_size[%d] = %d "
                              "must be >= 1", i, a->kernel[i]);
        dense *= a->kernel[i]; /* <= 65536^3 fits int64 */
    }
    if (wt->ndim != 3 || wt->dim[0] < 1 || wt->dim[1] < 1 || wt->dim[2] < 1)
        return cd_err_set(err, CD_EINVAL, "weight 'weight' has shape %s, "
                          "expected (out, in/groups, kernel_count)",
                          str(wt, b1));
    if (p->ndim != 4 || p->dim[0] != nsp || p->dim[1] != wt->dim[0] ||
        p->dim[2] != wt->dim[1] || p->dim[3] != wt->dim[2])
        return cd_err_set(err, CD_EINVAL, "weight 'P' has shape %s, expected "
                          "[%d, %lld, %lld, %lld] (one position per spatial "
                          "dim for each of weight %s)", str(p, b1), nsp,
                          (long long)wt->dim[0], (long long)wt->dim[1],
                          (long long)wt->dim[2], str(wt, b2));
    if (sig->ndim && !cd_shape_eq(sig, p))
        return cd_err_set(err, CD_EINVAL, "weight 'SIG' has shape %s, "
                          "expected the shape of P %s", str(sig, b1),
                          str(p, b2));
    if (dense > DENSE_MAX / wt->dim[0] / wt->dim[1])
        return cd_err_set(err, CD_EINVAL, "dilated_kernel_size makes the "
                          "dense kernel of weight %s too large to "
                          "materialise", str(wt, b1));
    struct cd_shape wc[CD_MAX_WEIGHTS] = { { 0 } };
    wc[0].ndim = 2 + nsp;
    wc[0].dim[0] = wt->dim[0];
    wc[0].dim[1] = wt->dim[1];
    for (int i = 0; i < nsp; i++)
        wc[0].dim[2 + i] = a->kernel[i];
    wc[1] = w[3]; /* bias */
    int rc = cd_shape_conv(a, n_in, in, wc, out, err);
    if (rc)
        return cd_err_wrap(err, "dcls_conv as dense conv %s",
                           str(&wc[0], b1));
    return CD_OK;
}
