/* op_shape.c — shape functions of the op table: validate attributes, input
 * and weight shapes of one node and write its per-sample output shape, with a
 * message naming the attribute or operand and printing the shapes at fault.
 * Pure functions: no allocation, no data access, never aborts on bad input. */
#include "op_shape.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SBUF 128
#define DIM_MAX ((int64_t)1 << 31) /* any single dim beyond this is refused */

static const char *str(const struct cd_shape *s, char *buf)
{
    return cd_shape_str(s, buf, SBUF);
}

/* Common checks on a per-sample activation shape. */
static int check_act(const struct cd_shape *s, const char *what,
                     struct cd_err *err)
{
    char b[SBUF];
    if (s->ndim < 1 || s->ndim > CD_MAX_DIMS)
        return cd_err_set(err, CD_EINVAL, "%s has rank %d (1..%d allowed)",
                          what, s->ndim, CD_MAX_DIMS);
    if (s->dim[0] != 1)
        return cd_err_set(err, CD_EINVAL,
                          "%s %s: per-sample shapes need dim[0] == 1", what,
                          str(s, b));
    for (int i = 0; i < s->ndim; i++)
        if (s->dim[i] < 1 || s->dim[i] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "%s %s: dim %d out of range",
                              what, str(s, b), i);
    if (cd_shape_numel(s) < 0)
        return cd_err_set(err, CD_EINVAL, "%s %s: too many elements", what,
                          str(s, b));
    return CD_OK;
}

static int check_inputs(int n_in, int lo, int hi, const struct cd_shape *in,
                        struct cd_err *err)
{
    if (n_in < lo || n_in > hi)
        return cd_err_set(err, CD_EINVAL, "%d inputs (%d..%d expected)", n_in,
                          lo, hi);
    for (int i = 0; i < n_in; i++) {
        char what[32];
        snprintf(what, sizeof what, "input %d", i);
        int rc = check_act(&in[i], what, err);
        if (rc)
            return rc;
    }
    return CD_OK;
}

/* A vector weight of length n (bias, batchnorm params). */
static int check_vec(const struct cd_shape *w, int64_t n, const char *what,
                     struct cd_err *err)
{
    char b[SBUF];
    if (w->ndim != 1 || w->dim[0] != n)
        return cd_err_set(err, CD_EINVAL, "weight '%s' has shape %s, expected "
                          "[%lld]", what, str(w, b), (long long)n);
    return CD_OK;
}

/* Normalises a possibly negative axis against rank; must land in 1..rank-1. */
static int norm_axis(int axis, int rank, const char *what, int *out,
                     struct cd_err *err)
{
    int ax = axis < 0 ? axis + rank : axis;
    if (ax < 1 || ax >= rank)
        return cd_err_set(err, CD_EINVAL, "%s %d out of range for rank %d "
                          "(must address a non-batch dim)", what, axis, rank);
    *out = ax;
    return CD_OK;
}

/* Fused epilogue: activation in range, residual input matches the output. */
static int check_epilogue(const struct cd_attrs *a, int n_in,
                          const struct cd_shape *in, const struct cd_shape *out,
                          struct cd_err *err)
{
    char b1[SBUF], b2[SBUF];
    if (a->act < 0 || a->act >= CD_ACT_COUNT)
        return cd_err_set(err, CD_EINVAL, "activation %d unknown", a->act);
    if (a->residual && n_in != 2)
        return cd_err_set(err, CD_EINVAL, "residual set but %d inputs (2 "
                          "expected)", n_in);
    if (!a->residual && n_in != 1)
        return cd_err_set(err, CD_EINVAL, "%d inputs without residual (1 "
                          "expected)", n_in);
    if (a->residual && !cd_shape_eq(&in[1], out))
        return cd_err_set(err, CD_EINVAL, "residual input %s does not match "
                          "output %s", str(&in[1], b1), str(out, b2));
    return CD_OK;
}

/* Input 0 (as `op` names it) must have rank >= min. */
static int need_rank(const struct cd_shape *x, int min, const char *op,
                     struct cd_err *err)
{
    char b[SBUF];
    if (x->ndim < min)
        return cd_err_set(err, CD_EINVAL, "%s input %s needs rank >= %d", op,
                          str(x, b), min);
    return CD_OK;
}

static int check_eps(float eps, struct cd_err *err)
{
    if (!(eps >= 0.0f) || !isfinite(eps))
        return cd_err_set(err, CD_EINVAL, "eps %g must be finite and >= 0",
                          (double)eps);
    return CD_OK;
}

/* Stride and dilation of spatial dim i must be >= 1. */
static int check_stride_dilation(int i, int s, int d, struct cd_err *err)
{
    if (s < 1)
        return cd_err_set(err, CD_EINVAL, "stride[%d] = %d must be >= 1", i,
                          s);
    if (d < 1)
        return cd_err_set(err, CD_EINVAL, "dilation[%d] = %d must be >= 1", i,
                          d);
    return CD_OK;
}

/* The output's element count must fit (what names it in the message). */
static int check_out_numel(const struct cd_shape *out, const char *what,
                           struct cd_err *err)
{
    char b[SBUF];
    if (cd_shape_numel(out) < 0)
        return cd_err_set(err, CD_EINVAL, "%s %s too large", what,
                          str(out, b));
    return CD_OK;
}

CD_SHAPE_FN(conv)
{
    char b1[SBUF], b2[SBUF];
    int rc = check_inputs(n_in, 1, 2, in, err);
    if (rc)
        return rc;
    const struct cd_shape *x = &in[0], *wt = &w[0];
    int nsp = x->ndim - 2;
    if (nsp < 1 || nsp > CD_MAX_SPATIAL)
        return cd_err_set(err, CD_EINVAL, "conv input %s: rank %d, expected "
                          "3..5 (N, C, 1-3 spatial dims)", str(x, b1), x->ndim);
    if (a->nsp != 0 && a->nsp != nsp)
        return cd_err_set(err, CD_EINVAL, "stride/padding/dilation have %d "
                          "spatial entries but input %s has %d spatial dims",
                          a->nsp, str(x, b1), nsp);
    if (wt->ndim != x->ndim)
        return cd_err_set(err, CD_EINVAL, "weight %s rank differs from input "
                          "%s", str(wt, b1), str(x, b2));
    for (int i = 0; i < wt->ndim; i++)
        if (wt->dim[i] < 1 || wt->dim[i] > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "weight %s: dim %d out of range",
                              str(wt, b1), i);
    int64_t g = a->groups, cout = wt->dim[0];
    if (g < 1)
        return cd_err_set(err, CD_EINVAL, "groups %lld must be >= 1",
                          (long long)g);
    if (wt->dim[1] * g != x->dim[1])
        return cd_err_set(err, CD_EINVAL, "input channels %lld != weight %s "
                          "dim 1 x groups %lld", (long long)x->dim[1],
                          str(wt, b1), (long long)g);
    if (cout % g)
        return cd_err_set(err, CD_EINVAL, "output channels %lld of weight %s "
                          "not divisible by groups %lld", (long long)cout,
                          str(wt, b1), (long long)g);
    if (w[1].ndim && (rc = check_vec(&w[1], cout, "bias", err)))
        return rc;
    *out = *x;
    out->dim[1] = cout;
    for (int i = 0; i < nsp; i++) {
        int s = a->stride[i], d = a->dilation[i];
        int pb = a->pad_begin[i], pe = a->pad_end[i];
        if ((rc = check_stride_dilation(i, s, d, err)))
            return rc;
        if (pb < 0 || pe < 0)
            return cd_err_set(err, CD_EINVAL, "padding[%d] = (%d, %d) must be "
                              ">= 0", i, pb, pe);
        int64_t span = x->dim[2 + i] + pb + pe - (int64_t)d *
                       (wt->dim[2 + i] - 1) - 1;
        if (span < 0)
            return cd_err_set(err, CD_EINVAL, "spatial dim %d: kernel %lld "
                              "(dilation %d) larger than padded input %s",
                              i, (long long)wt->dim[2 + i], d, str(x, b1));
        out->dim[2 + i] = span / s + 1;
    }
    return check_epilogue(a, n_in, in, out, err);
}

CD_SHAPE_FN(linear)
{
    char b1[SBUF], b2[SBUF];
    int rc = check_inputs(n_in, 1, 2, in, err);
    if (rc)
        return rc;
    const struct cd_shape *x = &in[0], *wt = &w[0];
    if ((rc = need_rank(x, 2, "linear", err)))
        return rc;
    if (wt->ndim != 2 || wt->dim[0] < 1 || wt->dim[1] < 1)
        return cd_err_set(err, CD_EINVAL, "weight %s must be (out, in)",
                          str(wt, b1));
    if (wt->dim[1] != x->dim[x->ndim - 1])
        return cd_err_set(err, CD_EINVAL, "input %s last dim != weight %s "
                          "dim 1", str(x, b1), str(wt, b2));
    if (w[1].ndim && (rc = check_vec(&w[1], wt->dim[0], "bias", err)))
        return rc;
    *out = *x;
    out->dim[x->ndim - 1] = wt->dim[0];
    return check_epilogue(a, n_in, in, out, err);
}

CD_SHAPE_FN(matmul)
{
    char b1[SBUF], b2[SBUF];
    int rc = check_inputs(n_in, 2, 2, in, err);
    if (rc)
        return rc;
    const struct cd_shape *x = &in[0], *y = &in[1];
    int r = x->ndim;
    if (r < 3 || y->ndim != r)
        return cd_err_set(err, CD_EINVAL, "matmul operands %s and %s: need "
                          "equal ranks >= 3 (batch, ..., M, K)", str(x, b1),
                          str(y, b2));
    for (int i = 0; i < r - 2; i++)
        if (x->dim[i] != y->dim[i])
            return cd_err_set(err, CD_EINVAL, "matmul leading dims differ: %s "
                              "vs %s", str(x, b1), str(y, b2));
    if (x->dim[r - 1] != y->dim[r - 2])
        return cd_err_set(err, CD_EINVAL, "matmul inner dims differ: %s @ %s",
                          str(x, b1), str(y, b2));
    *out = *x;
    out->dim[r - 1] = y->dim[r - 1];
    return CD_OK;
}

CD_SHAPE_FN(batchnorm)
{
    static const char *const names[4] = { "weight", "bias", "running_mean",
                                           "running_var" };
    int rc;
    if ((rc = check_inputs(n_in, 1, 1, in, err)) ||
        (rc = need_rank(&in[0], 2, "batchnorm", err)) ||
        (rc = check_eps(a->eps, err)))
        return rc;
    for (int i = 0; i < 4; i++)
        if ((rc = check_vec(&w[i], in[0].dim[1], names[i], err)))
            return rc;
    *out = in[0];
    return CD_OK;
}

CD_SHAPE_FN(layernorm)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int r = in[0].ndim;
    if ((rc = need_rank(&in[0], 2, "layernorm", err)))
        return rc;
    int ax = a->axis < 0 ? a->axis + r : a->axis;
    if (ax != 1 && ax != r - 1)
        return cd_err_set(err, CD_EINVAL, "axis %d: layernorm normalises dim "
                          "1 or the last dim of %s", a->axis, str(&in[0], b1));
    if ((rc = check_eps(a->eps, err)))
        return rc;
    int64_t c = in[0].dim[ax];
    if (w[0].ndim && (rc = check_vec(&w[0], c, "weight", err)))
        return rc;
    if (w[1].ndim && (rc = check_vec(&w[1], c, "bias", err)))
        return rc;
    *out = in[0];
    return CD_OK;
}

CD_SHAPE_FN(same)
{
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    *out = in[0];
    return CD_OK;
}

CD_SHAPE_FN(binary)
{
    char b1[SBUF], b2[SBUF];
    int rc = check_inputs(n_in, 1, 2, in, err);
    if (rc)
        return rc;
    int n_other = (n_in == 2) + (w[0].ndim != 0) + (a->has_scalar != 0);
    if (n_other != 1)
        return cd_err_set(err, CD_EINVAL, "binary op needs exactly one of a "
                          "second input, weight 'other' or 'scalar' (got %d)",
                          n_other);
    *out = in[0];
    if (a->has_scalar) {
        if (isnan(a->scalar))
            return cd_err_set(err, CD_EINVAL, "scalar is NaN");
        return CD_OK;
    }
    const struct cd_shape *o = n_in == 2 ? &in[1] : &w[0];
    const char *what = n_in == 2 ? "input 1" : "weight 'other'";
    if (n_in == 2 && o->ndim != in[0].ndim)
        return cd_err_set(err, CD_EINVAL, "input 1 %s rank differs from input "
                          "0 %s (both carry the batch dim)", str(o, b1),
                          str(&in[0], b2));
    if (o->ndim < 1 || o->ndim > in[0].ndim)
        return cd_err_set(err, CD_EINVAL, "%s %s has more dims than input %s",
                          what, str(o, b1), str(&in[0], b2));
    int sh = in[0].ndim - o->ndim;
    for (int i = 0; i < o->ndim; i++) {
        int64_t d = o->dim[i], x = out->dim[sh + i];
        if (d < 1 || d > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "%s %s: dim %d out of range",
                              what, str(o, b1), i);
        if (sh + i == 0 && d != 1)
            return cd_err_set(err, CD_EINVAL, "%s %s would broadcast over the "
                              "batch dim", what, str(o, b1));
        if (d != x && d != 1 && x != 1)
            return cd_err_set(err, CD_EINVAL, "shapes %s and %s (%s) do not "
                              "broadcast", str(&in[0], b1), str(o, b2), what);
        if (d > x)
            out->dim[sh + i] = d;
    }
    return check_out_numel(out, "broadcast output", err);
}

CD_SHAPE_FN(concat)
{
    char b1[SBUF], b2[SBUF];
    int rc = check_inputs(n_in, 1, 1024, in, err);
    if (rc)
        return rc;
    int r = in[0].ndim, ax = 0;
    if ((rc = norm_axis(a->axis, r, "axis", &ax, err)))
        return rc;
    *out = in[0];
    for (int k = 1; k < n_in; k++) {
        if (in[k].ndim != r)
            return cd_err_set(err, CD_EINVAL, "input %d %s rank differs from "
                              "input 0 %s", k, str(&in[k], b1),
                              str(&in[0], b2));
        for (int i = 0; i < r; i++)
            if (i != ax && in[k].dim[i] != in[0].dim[i])
                return cd_err_set(err, CD_EINVAL, "input %d %s differs from "
                                  "input 0 %s outside axis %d", k,
                                  str(&in[k], b1), str(&in[0], b2), ax);
        out->dim[ax] += in[k].dim[ax];
    }
    if (out->dim[ax] > DIM_MAX || cd_shape_numel(out) < 0)
        return cd_err_set(err, CD_EINVAL, "concat output too large");
    return CD_OK;
}

/* Python slice clamping, step >= 1: start index and length of len. */
static void slice_range(int64_t start, int64_t end, int64_t step, int64_t len,
                        int64_t *s0, int64_t *n)
{
    if (start < 0)
        start = start < -len ? 0 : start + len;
    if (start > len)
        start = len;
    if (end < 0)
        end = end < -len ? 0 : end + len;
    if (end > len)
        end = len;
    *s0 = start;
    *n = end > start ? (end - start + step - 1) / step : 0;
}

CD_SHAPE_FN(slice)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int ax = 0;
    if ((rc = norm_axis(a->axis, in[0].ndim, "axis", &ax, err)))
        return rc;
    if (a->step < 1)
        return cd_err_set(err, CD_EINVAL, "step %lld must be >= 1",
                          (long long)a->step);
    int64_t s0, n;
    slice_range(a->start, a->end, a->step, in[0].dim[ax], &s0, &n);
    if (n < 1)
        return cd_err_set(err, CD_EINVAL, "slice [%lld:%lld:%lld] of axis %d "
                          "in %s is empty", (long long)a->start,
                          (long long)a->end, (long long)a->step, ax,
                          str(&in[0], b1));
    *out = in[0];
    out->dim[ax] = n;
    return CD_OK;
}

CD_SHAPE_FN(flatten)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int r = in[0].ndim;
    int s = a->start_dim < 0 ? a->start_dim + r : a->start_dim;
    int e = a->end_dim < 0 ? a->end_dim + r : a->end_dim;
    if (r < 2)
        return cd_err_set(err, CD_EINVAL, "flatten of %s: nothing to flatten",
                          str(&in[0], b1));
    if (s < 1 || s >= r)
        return cd_err_set(err, CD_EINVAL, "start_dim %d out of range for %s "
                          "(must be >= 1)", a->start_dim, str(&in[0], b1));
    if (e < s || e >= r)
        return cd_err_set(err, CD_EINVAL, "end_dim %d out of range for %s "
                          "with start_dim %d", a->end_dim, str(&in[0], b1),
                          a->start_dim);
    out->ndim = r - (e - s);
    int64_t m = 1;
    for (int i = s; i <= e; i++)
        m *= in[0].dim[i];
    for (int i = 0; i < s; i++)
        out->dim[i] = in[0].dim[i];
    out->dim[s] = m;
    for (int i = e + 1; i < r; i++)
        out->dim[i - (e - s)] = in[0].dim[i];
    return CD_OK;
}

CD_SHAPE_FN(reshape)
{
    char b1[SBUF], b2[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    if (a->n_shape < 0 || a->n_shape > CD_MAX_DIMS - 1)
        return cd_err_set(err, CD_EINVAL, "shape has %d entries (0..%d "
                          "allowed, batch excluded)", a->n_shape,
                          CD_MAX_DIMS - 1);
    int64_t numel = cd_shape_numel(&in[0]), known = 1;
    int infer = -1;
    out->ndim = a->n_shape + 1;
    out->dim[0] = 1;
    for (int i = 0; i < a->n_shape; i++) {
        int64_t d = a->shape[i];
        if (d == -1) {
            if (infer >= 0)
                return cd_err_set(err, CD_EINVAL, "shape has more than one "
                                  "-1");
            infer = i;
            continue;
        }
        if (d < 1 || d > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "shape[%d] = %lld must be >= 1 "
                              "or -1", i, (long long)d);
        if (known > numel / d)
            known = numel + 1; /* cannot match; avoids overflow */
        else
            known *= d;
        out->dim[i + 1] = d;
    }
    if (infer >= 0) {
        if (known > numel || numel % known)
            return cd_err_set(err, CD_EINVAL, "shape cannot hold input %s "
                              "(%lld elements)", str(&in[0], b1),
                              (long long)numel);
        out->dim[infer + 1] = numel / known;
        known = numel;
    }
    if (known != numel)
        return cd_err_set(err, CD_EINVAL, "shape %s has a different element "
                          "count than input %s", str(out, b1),
                          str(&in[0], b2));
    return CD_OK;
}

CD_SHAPE_FN(permute)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int r = in[0].ndim;
    if (a->n_perm != r)
        return cd_err_set(err, CD_EINVAL, "perm has %d entries, input %s has "
                          "rank %d", a->n_perm, str(&in[0], b1), r);
    if (a->perm[0] != 0)
        return cd_err_set(err, CD_EINVAL, "perm[0] = %d: the batch dim must "
                          "stay first", a->perm[0]);
    bool seen[CD_MAX_DIMS] = { false };
    for (int i = 0; i < r; i++) {
        int p = a->perm[i];
        if (p < 0 || p >= r || seen[p])
            return cd_err_set(err, CD_EINVAL, "perm is not a permutation of "
                              "0..%d (entry %d = %d)", r - 1, i, p);
        seen[p] = true;
        out->dim[i] = in[0].dim[p];
    }
    out->ndim = r;
    return CD_OK;
}

/* PyTorch pooling_output_shape_pad_lr. */
static int64_t pool_out(int64_t in, int k, int pb, int pe, int s, int d,
                        int ceil_mode)
{
    int64_t num = in + pb + pe - (int64_t)d * (k - 1) - 1 +
                  (ceil_mode ? s - 1 : 0);
    if (num < 0)
        return 0;
    int64_t o = num / s + 1;
    if (ceil_mode && (o - 1) * s >= in + pb)
        o--;
    return o;
}

CD_SHAPE_FN(pool)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int nsp = in[0].ndim - 2;
    if (a->nsp < 1 || a->nsp > CD_MAX_SPATIAL)
        return cd_err_set(err, CD_EINVAL, "kernel is required (1..3 entries)");
    if (a->nsp != nsp)
        return cd_err_set(err, CD_EINVAL, "kernel has %d entries but input %s "
                          "has %d spatial dims", a->nsp, str(&in[0], b1), nsp);
    *out = in[0];
    for (int i = 0; i < nsp; i++) {
        int k = a->kernel[i], s = a->stride[i], d = a->dilation[i];
        int pb = a->pad_begin[i], pe = a->pad_end[i];
        if (k < 1)
            return cd_err_set(err, CD_EINVAL, "kernel[%d] = %d must be >= 1",
                              i, k);
        if ((rc = check_stride_dilation(i, s, d, err)))
            return rc;
        if (pb < 0 || pe < 0 || pb > k / 2 || pe > k / 2)
            return cd_err_set(err, CD_EINVAL, "padding[%d] = (%d, %d) must be "
                              "between 0 and half the kernel (%d)", i, pb, pe,
                              k);
        int64_t o = pool_out(in[0].dim[2 + i], k, pb, pe, s, d, a->ceil_mode);
        if (o < 1)
            return cd_err_set(err, CD_EINVAL, "spatial dim %d: kernel %d "
                              "(dilation %d) larger than padded input %s", i,
                              k, d, str(&in[0], b1));
        out->dim[2 + i] = o;
    }
    return CD_OK;
}

/* Number of leading set entries of a size list; -1 if set entries are not
 * contiguous from 0 or one is negative. */
static int count_sizes(const int *v)
{
    int n = 0;
    while (n < CD_MAX_SPATIAL && v[n] > 0)
        n++;
    for (int i = n; i < CD_MAX_SPATIAL; i++)
        if (v[i] != 0)
            return -1;
    return n;
}

CD_SHAPE_FN(adaptive_pool)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int nsp = in[0].ndim - 2, n = count_sizes(a->size);
    if (nsp < 1 || nsp > 2)
        return cd_err_set(err, CD_EINVAL, "adaptive_avgpool input %s must be "
                          "(N, C, L) or (N, C, H, W)", str(&in[0], b1));
    if (n != nsp || (a->nsp && a->nsp != nsp))
        return cd_err_set(err, CD_EINVAL, "output_size must have %d positive "
                          "entries for input %s", nsp, str(&in[0], b1));
    *out = in[0];
    for (int i = 0; i < nsp; i++)
        out->dim[2 + i] = a->size[i];
    return CD_OK;
}

CD_SHAPE_FN(global_pool)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    if (in[0].ndim < 3)
        return cd_err_set(err, CD_EINVAL, "global_avgpool input %s needs "
                          "spatial dims", str(&in[0], b1));
    *out = in[0];
    for (int i = 2; i < out->ndim; i++)
        out->dim[i] = 1;
    return CD_OK;
}

CD_SHAPE_FN(upsample)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int nsp = in[0].ndim - 2;
    if (nsp < 1 || nsp > CD_MAX_SPATIAL)
        return cd_err_set(err, CD_EINVAL, "upsample input %s needs 1-3 "
                          "spatial dims", str(&in[0], b1));
    if (a->mode == CD_UPSAMPLE_BILINEAR && nsp != 2)
        return cd_err_set(err, CD_EINVAL, "mode bilinear needs (N, C, H, W), "
                          "got %s", str(&in[0], b1));
    if (a->mode < 0 || a->mode >= CD_UPSAMPLE_COUNT)
        return cd_err_set(err, CD_EINVAL, "mode %d unknown", a->mode);
    int n_size = count_sizes(a->size), n_scale = 0;
    while (n_scale < CD_MAX_SPATIAL && a->scale[n_scale] != 0.0f)
        n_scale++;
    for (int i = n_scale; i < CD_MAX_SPATIAL; i++)
        if (a->scale[i] != 0.0f)
            n_scale = -1;
    if (n_size < 0 || n_scale < 0 || (n_size > 0) == (n_scale > 0))
        return cd_err_set(err, CD_EINVAL, "exactly one of size or scale must "
                          "be given");
    int n = n_size ? n_size : n_scale;
    if (n != nsp || (a->nsp && a->nsp != nsp))
        return cd_err_set(err, CD_EINVAL, "%s has %d entries but input %s has "
                          "%d spatial dims", n_size ? "size" : "scale", n,
                          str(&in[0], b1), nsp);
    *out = in[0];
    for (int i = 0; i < nsp; i++) {
        if (n_size) {
            out->dim[2 + i] = a->size[i];
            continue;
        }
        float sc = a->scale[i];
        if (!(sc > 0.0f) || !isfinite(sc))
            return cd_err_set(err, CD_EINVAL, "scale[%d] = %g must be finite "
                              "and > 0", i, (double)sc);
        double o = floor((double)in[0].dim[2 + i] * (double)sc);
        if (o < 1.0 || o > (double)DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "scale[%d] = %g gives output "
                              "size %.0f for input %s", i, (double)sc, o,
                              str(&in[0], b1));
        out->dim[2 + i] = (int64_t)o;
    }
    return check_out_numel(out, "upsample output", err);
}

CD_SHAPE_FN(softmax)
{
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int ax = 0;
    if ((rc = norm_axis(a->axis, in[0].ndim, "axis", &ax, err)))
        return rc;
    *out = in[0];
    return CD_OK;
}

CD_SHAPE_FN(pad)
{
    char b1[SBUF];
    int rc = check_inputs(n_in, 1, 1, in, err);
    if (rc)
        return rc;
    int r = in[0].ndim;
    if (a->nsp < 1 || a->nsp > CD_MAX_SPATIAL || a->nsp > r - 1)
        return cd_err_set(err, CD_EINVAL, "padding covers %d dims; input %s "
                          "allows 1..%d", a->nsp, str(&in[0], b1),
                          r - 1 < CD_MAX_SPATIAL ? r - 1 : CD_MAX_SPATIAL);
    if (!isfinite(a->alpha))
        return cd_err_set(err, CD_EINVAL, "value %g must be finite",
                          (double)a->alpha);
    *out = in[0];
    for (int i = 0; i < a->nsp; i++) {
        int pb = a->pad_begin[i], pe = a->pad_end[i];
        if (pb < 0 || pe < 0 || pb > DIM_MAX / 2 || pe > DIM_MAX / 2)
            return cd_err_set(err, CD_EINVAL, "padding[%d] = (%d, %d) must be "
                              ">= 0", i, pb, pe);
        out->dim[r - a->nsp + i] += pb + pe;
    }
    return check_out_numel(out, "pad output", err);
}
