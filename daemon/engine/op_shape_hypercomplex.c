/* op_shape_hypercomplex.c — shape functions of the hypercomplex convolutions
 * stored as factors (phc_conv, quaternion_conv, complex_conv): check the
 * factors against each other and against the input channels, then check the
 * dense conv they materialise into with cd_shape_conv. Pure functions: no
 * allocation, no weight data access, never abort on bad shapes. */
#include "op_family.h"

#include <stdio.h>

#define SBUF 128
#define DIM_MAX ((int64_t)1 << 31)

static const char *str(const struct cd_shape *s, char *buf)
{
    return cd_shape_str(s, buf, SBUF);
}

/* Input 0 present with a conv rank (N, C, 1..3 spatial); its channels. */
static int conv_input(int n_in, const struct cd_shape *in, int64_t *cin,
                      struct cd_err *err)
{
    char b[SBUF];
    if (n_in < 1)
        return cd_err_set(err, CD_EINVAL, "no input (1 or 2 expected)");
    if (in[0].ndim < 3 || in[0].ndim > 2 + CD_MAX_SPATIAL || in[0].dim[1] < 1)
        return cd_err_set(err, CD_EINVAL, "input %s: expected (N, C, 1-3 "
                          "spatial dims)", str(&in[0], b));
    *cin = in[0].dim[1];
    return CD_OK;
}

/* Factor `what` has rank ndim and every dim in 1..DIM_MAX. */
static int check_factor(const struct cd_shape *w, int ndim, const char *what,
                        const char *layout, struct cd_err *err)
{
    char b[SBUF];
    if (w->ndim != ndim)
        return cd_err_set(err, CD_EINVAL, "weight '%s' has shape %s, expected "
                          "%s (rank %d)", what, str(w, b), layout, ndim);
    for (int i = 0; i < w->ndim; i++)
        if (w->dim[i] < 1 || w->dim[i] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "weight '%s' %s: dim %d out of "
                              "range", what, str(w, b), i);
    if (cd_shape_numel(w) < 0)
        return cd_err_set(err, CD_EINVAL, "weight '%s' %s too large", what,
                          str(w, b));
    return CD_OK;
}

/* The dense weight (nb*dim[0], nb*dim[1], k...) from a part shape p. */
static int block_weight(const struct cd_shape *p, int64_t nb,
                        struct cd_shape *wd, struct cd_err *err)
{
    char b[SBUF];
    *wd = *p;
    wd->dim[0] = p->dim[0] * nb;
    wd->dim[1] = p->dim[1] * nb;
    if (wd->dim[0] > DIM_MAX || wd->dim[1] > DIM_MAX || cd_shape_numel(wd) < 0)
        return cd_err_set(err, CD_EINVAL, "materialised weight from %s x %lld "
                          "blocks too large", str(p, b), (long long)nb);
    return CD_OK;
}

/* cd_shape_conv on the materialised weight and bias, message prefixed. */
static int as_conv(const struct cd_attrs *a, int n_in, const struct cd_shape *in,
                   const struct cd_shape *wd, const struct cd_shape *bias,
                   struct cd_shape *out, struct cd_err *err)
{
    char b[SBUF];
    struct cd_shape w[CD_MAX_WEIGHTS] = { 0 };
    w[0] = *wd;
    if (bias)
        w[1] = *bias;
    int rc = cd_shape_conv(a, n_in, in, w, out, err);
    if (rc)
        return cd_err_wrap(err, "as conv with materialised weight %s",
                           str(wd, b));
    return CD_OK;
}

/* PHC: A (n, n, n), F (n, Cout/n, Cin/(n groups), k...), optional bias. */
CD_SHAPE_FN(phc_conv)
{
    char b1[SBUF], b2[SBUF];
    const struct cd_shape *A = &w[0], *F = &w[1];
    int64_t cin;
    int rc = conv_input(n_in, in, &cin, err);
    if (rc)
        return rc;
    int nsp = in[0].ndim - 2;
    if ((rc = check_factor(A, 3, "A", "(n, n, n)", err)))
        return rc;
    int64_t n = A->dim[0];
    if (A->dim[1] != n || A->dim[2] != n)
        return cd_err_set(err, CD_EINVAL, "weight 'A' has shape %s, expected "
                          "(n, n, n)", str(A, b1));
    if ((rc = check_factor(F, 3 + nsp, "F", nsp == 1 ?
                           "(n, Cout/n, Cin/n, k)" : nsp == 2 ?
                           "(n, Cout/n, Cin/n, kh, kw)" :
                           "(n, Cout/n, Cin/n, kd, kh, kw)", err)))
        return rc;
    if (F->dim[0] != n)
        return cd_err_set(err, CD_EINVAL, "weight 'F' %s: dim 0 must be n = "
                          "%lld (A is %s)", str(F, b1), (long long)n,
                          str(A, b2));
    if (cin % n)
        return cd_err_set(err, CD_EINVAL, "n = %lld does not divide the input "
                          "channels %lld", (long long)n, (long long)cin);
    struct cd_shape part = *F, wd;
    part.ndim = F->ndim - 1;
    for (int i = 0; i < part.ndim; i++)
        part.dim[i] = F->dim[i + 1];
    if ((rc = block_weight(&part, n, &wd, err)))
        return rc;
    return as_conv(a, n_in, in, &wd, w[2].ndim ? &w[2] : NULL, out, err);
}

/* Quaternion: r, i, j, k each (Cout/4, Cin/(4 groups), k...), bias (Cout). */
CD_SHAPE_FN(quaternion_conv)
{
    static const char *const names[4] = { "r", "i", "j", "k" };
    char b1[SBUF], b2[SBUF];
    int64_t cin;
    int rc = conv_input(n_in, in, &cin, err);
    if (rc)
        return rc;
    for (int p = 0; p < 4; p++) {
        if ((rc = check_factor(&w[p], in[0].ndim, names[p],
                               "(Cout/4, Cin/4, k...) like the input's rank",
                               err)))
            return rc;
        if (p && !cd_shape_eq(&w[p], &w[0]))
            return cd_err_set(err, CD_EINVAL, "quaternion parts differ: "
                              "'%s' is %s but 'r' is %s", names[p],
                              str(&w[p], b1), str(&w[0], b2));
    }
    if (cin % 4)
        return cd_err_set(err, CD_EINVAL, "input channels %lld not divisible "
                          "by 4 (quaternion components)", (long long)cin);
    struct cd_shape wd;
    if ((rc = block_weight(&w[0], 4, &wd, err)))
        return rc;
    return as_conv(a, n_in, in, &wd, w[4].ndim ? &w[4] : NULL, out, err);
}

/* Complex: real, imag each (Cout/2, Cin/(2 groups), k...); bias_real and
 * bias_imag each (Cout/2), either may be absent (zero). */
CD_SHAPE_FN(complex_conv)
{
    static const char *const names[4] = { "real", "imag", "bias_real",
                                          "bias_imag" };
    char b1[SBUF], b2[SBUF];
    int64_t cin;
    int rc = conv_input(n_in, in, &cin, err);
    if (rc)
        return rc;
    for (int p = 0; p < 2; p++)
        if ((rc = check_factor(&w[p], in[0].ndim, names[p],
                               "(Cout/2, Cin/2, k...) like the input's rank",
                               err)))
            return rc;
    if (!cd_shape_eq(&w[0], &w[1]))
        return cd_err_set(err, CD_EINVAL, "complex halves differ: 'real' is "
                          "%s but 'imag' is %s", str(&w[0], b1),
                          str(&w[1], b2));
    if (cin % 2)
        return cd_err_set(err, CD_EINVAL, "input channels %lld not even (real "
                          "and imaginary halves)", (long long)cin);
    int64_t half = w[0].dim[0];
    for (int p = 2; p < 4; p++)
        if (w[p].ndim && (w[p].ndim != 1 || w[p].dim[0] != half))
            return cd_err_set(err, CD_EINVAL, "weight '%s' has shape %s, "
                              "expected [%lld] (Cout/2)", names[p],
                              str(&w[p], b1), (long long)half);
    struct cd_shape wd, bias = { .ndim = 1 };
    if ((rc = block_weight(&w[0], 2, &wd, err)))
        return rc;
    bias.dim[0] = wd.dim[0];
    return as_conv(a, n_in, in, &wd, w[2].ndim || w[3].ndim ? &bias : NULL,
                   out, err);
}
