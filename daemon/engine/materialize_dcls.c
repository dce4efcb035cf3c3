/* materialize_dcls.c — load-time construction of a DCLS kernel: rewrites a
 * dcls_conv node (weight, positions P, optional Gaussian widths SIG, bias)
 * into a plain conv whose dense kernel of dilated_kernel_size is built the
 * way the authors' ConstructKernel{1,2,3}d does (v1 bilinear, or Gaussian
 * when SIG is present). It refuses non-finite or out-of-range factors; it
 * must not touch the node's inputs or any other node. */
#include "graph.h"
#include "op_family.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NORM_EPS 1e-7   /* the authors' normalisation X / (sum X + 1e-7) */
#define SIG_FLOOR 0.27  /* Gaussian width = |SIG| + 0.27 */

/* Interpolation taps of one kernel element along one dense axis. */
struct taps {
    int n;
    int *idx;     /* dense index along the axis */
    double *val;  /* its weight */
    double sum;
};

/* Taps along an axis of size len for a centre c (index units), bilinear
 * (sig < 0: max(0, 1 - |t - c|)) or Gaussian (exp(-(t - c)^2 / (2 sig^2))). */
static void axis_taps(struct taps *t, int len, double c, double sig)
{
    int lo = 0, hi = len - 1;
    t->n = 0;
    t->sum = 0.0;
    if (sig < 0) { /* only floor(c) and floor(c) + 1 can be non-zero */
        double f = floor(c);
        lo = f < 0 ? 0 : (int)(f > len ? len : f);
        hi = f + 1 > len - 1 ? len - 1 : (int)(f + 1);
    }
    for (int i = lo; i <= hi; i++) {
        double d = (double)i - c, v;
        if (sig < 0)
            v = fabs(d) < 1.0 ? 1.0 - fabs(d) : 0.0;
        else
            v = exp(-0.5 * (d / sig) * (d / sig));
        if (v == 0.0)
            continue;
        t->idx[t->n] = i;
        t->val[t->n++] = v;
        t->sum += v;
    }
}

/* Positions finite and inside [-lim, lim], lim = dilated_kernel_size // 2
 * (the range the layer's clamp_parameters keeps); widths finite. */
static int check_factors(const float *p, const float *sig, int nsp,
                         int64_t per, const int *dks, struct cd_err *err)
{
    for (int i = 0; i < nsp; i++) {
        int lim = dks[i] / 2;
        for (int64_t j = 0; j < per; j++) {
            float v = p[i * per + j];
            if (!isfinite(v))
                return cd_err_set(err, CD_EINVAL, "position P[%d][%lld] is "
                                  "not finite (%g)", i, (long long)j,
                                  (double)v);
            if (v < -lim || v > lim)
                return cd_err_set(err, CD_ERANGE, "position P[%d][%lld] = %g "
                                  "out of range [-%d, %d] (dilated_kernel_"
                                  "size[%d] %d // 2, the range DCLS clamps "
                                  "positions to)", i, (long long)j,
                                  (double)v, lim, lim, i, dks[i]);
            if (sig && !isfinite(sig[i * per + j]))
                return cd_err_set(err, CD_EINVAL, "width SIG[%d][%lld] is not "
                                  "finite", i, (long long)j);
        }
    }
    return CD_OK;
}

/* Checks the node's factors against its attributes; fills the per-element
 * count, kernel_count and the dense shape. */
static int check_shapes(const struct cd_graph *g, const struct cd_node *n,
                        struct cd_shape *dense, int64_t *kc,
                        struct cd_err *err)
{
    const struct cd_attrs *a = &n->a;
    int nsp = a->nsp;
    if (n->w[0] < 0 || n->w[1] < 0)
        return cd_err_set(err, CD_EINVAL, "weights 'weight' and 'P' are "
                          "required");
    if (nsp < 1 || nsp > CD_MAX_SPATIAL)
        return cd_err_set(err, CD_EINVAL, "attribute \"dilated_kernel_size\""
                          " missing or with %d entries", nsp);
    const struct cd_shape *w = &g->weights[n->w[0]].shape;
    const struct cd_shape *p = &g->weights[n->w[1]].shape;
    struct cd_shape none = { 0 };
    const struct cd_shape *s = n->w[2] >= 0 ? &g->weights[n->w[2]].shape
                                            : &none;
    const struct cd_shape *b = n->w[3] >= 0 ? &g->weights[n->w[3]].shape
                                            : &none;
    struct cd_shape in = { .ndim = 2 + nsp, .dim = { 1, 1, 1, 1, 1 } };
    struct cd_shape ws[CD_MAX_WEIGHTS] = { *w, *p, *s, *b }, out;
    struct cd_attrs aa = *a;
    if (w->ndim == 3)
        in.dim[1] = w->dim[1] * a->groups;
    for (int i = 0; i < nsp; i++)
        in.dim[2 + i] = a->kernel[i]; /* checks the factors, not the input */
    aa.residual = 0;
    for (int i = 0; i < nsp; i++)
        aa.pad_begin[i] = aa.pad_end[i] = 0, aa.stride[i] = 1;
    int rc = cd_shape_dcls_conv(&aa, 1, &in, ws, &out, err);
    if (rc)
        return rc;
    *dense = (struct cd_shape){ .ndim = 2 + nsp };
    dense->dim[0] = w->dim[0];
    dense->dim[1] = w->dim[1];
    for (int i = 0; i < nsp; i++)
        dense->dim[2 + i] = a->kernel[i];
    *kc = w->dim[2];
    return CD_OK;
}

CD_MATERIALIZE_FN(dcls_conv)
{
    struct cd_shape dense = { 0 };
    int64_t kc = 0;
    float *k = NULL;
    struct taps t[3] = { { 0 } };
    int rc = check_shapes(g, node, &dense, &kc, err);
    if (rc)
        return rc;
    const struct cd_attrs *a = &node->a;
    int nsp = a->nsp, dks[3] = { 1, 1, 1 };
    for (int i = 0; i < nsp; i++)
        dks[i] = a->kernel[i];
    int64_t nel = dense.dim[0] * dense.dim[1]; /* kernel elements per k */
    int64_t per = nel * kc;                     /* entries of P per dim */
    int64_t ksp = (int64_t)dks[0] * dks[1] * dks[2];
    const float *w = g->weights[node->w[0]].data;
    const float *p = g->weights[node->w[1]].data;
    const float *sig = node->w[2] >= 0 ? g->weights[node->w[2]].data : NULL;
    if (!w || !p || (node->w[2] >= 0 && !sig))
        return cd_err_set(err, CD_EINVAL, "factor data missing");
    if ((rc = check_factors(p, sig, nsp, per, dks, err)))
        return rc;
    k = calloc((size_t)(nel * ksp), sizeof *k); /* < 2^31, checked */
    bool ok = k != NULL;
    for (int i = 0; i < 3; i++) {
        t[i].idx = malloc((size_t)dks[i] * sizeof *t[i].idx);
        t[i].val = malloc((size_t)dks[i] * sizeof *t[i].val);
        ok = ok && t[i].idx && t[i].val;
    }
    if (!ok) {
        rc = cd_err_set(err, CD_ENOMEM, "no memory for the dense kernel");
        goto fail;
    }
    /* Dense axis ax (0 = outermost) is driven by P[nsp - 1 - ax] shifted by
     * dilated_kernel_size[nsp - 1 - ax] // 2, as in the authors' code (P[0]
     * moves along the last axis). Missing axes get one tap of weight 1. */
    for (int64_t e = 0; e < nel; e++) {
        for (int64_t j = 0; j < kc; j++) {
            int64_t q = e * kc + j;
            double norm = 1.0;
            for (int ax = 0; ax < 3; ax++) {
                if (ax >= nsp) {
                    t[ax].n = 1, t[ax].idx[0] = 0, t[ax].val[0] = 1.0;
                    continue;
                }
                int pi = nsp - 1 - ax;
                double c = (double)p[pi * per + q] + dks[pi] / 2;
                double s = sig ? fabs((double)sig[pi * per + q]) + SIG_FLOOR
                               : -1.0;
                axis_taps(&t[ax], dks[ax], c, s);
                norm *= t[ax].sum;
            }
            double scale = (double)w[q] / (norm + NORM_EPS);
            float *ke = k + e * ksp;
            for (int i0 = 0; i0 < t[0].n; i0++)
                for (int i1 = 0; i1 < t[1].n; i1++)
                    for (int i2 = 0; i2 < t[2].n; i2++)
                        ke[((int64_t)t[0].idx[i0] * dks[1] + t[1].idx[i1]) *
                               dks[2] + t[2].idx[i2]] +=
                            (float)(scale * t[0].val[i0] * t[1].val[i1] *
                                    t[2].val[i2]);
        }
    }
    char name[300];
    snprintf(name, sizeof name, "%s.weight#dcls", node->name);
    int id = cd_graph_add_weight(g, name, dense, k, true);
    if (id < 0) {
        rc = cd_err_set(err, CD_ENOMEM, "no memory for weight \"%s\"", name);
        goto fail;
    }
    k = NULL; /* owned by the graph now; g->weights may have moved */
    int bias = node->w[3];
    node->op = CD_OP_CONV;
    node->w[0] = id;
    node->w[1] = bias;
    for (int i = 2; i < CD_MAX_WEIGHTS; i++)
        node->w[i] = -1;
    for (int i = 0; i < CD_MAX_SPATIAL; i++)
        node->a.kernel[i] = 0, node->a.dilation[i] = 1;
    rc = CD_OK;
fail:
    free(k);
    for (int i = 0; i < 3; i++) {
        free(t[i].idx);
        free(t[i].val);
    }
    return rc;
}
