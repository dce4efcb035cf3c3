/* ops_ref_tensor.c — C references of the elementwise and data-movement ops:
 * activations, broadcasting binary ops, concat, slice, copy, permute,
 * softmax and constant pad. They trust shapes already checked by the shape
 * functions (the ref backend re-checks every node) and must not allocate. */
#include "ops_ref.h"
#include "ops_ref_util.h"

#include <math.h>
#include <string.h>

static int64_t numel(const struct cd_tref *t)
{
    return cd_shape_numel(&t->shape);
}

/* Row-major strides of s. */
static void strides(const struct cd_shape *s, int64_t *st)
{
    int64_t m = 1;
    for (int i = s->ndim - 1; i >= 0; i--) {
        st[i] = m;
        m *= s->dim[i];
    }
}

static int norm_axis(int axis, int rank)
{
    return axis < 0 ? axis + rank : axis;
}

CD_REF_FN(unary)
{
    float al, be;
    enum cd_act act = cd_op_act(e->op, e->a, &al, &be);
    int64_t n = numel(&e->out) * batch;
    const float *x = arena + e->in[0].off;
    float *y = arena + e->out.off;
    for (int64_t i = 0; i < n; i++)
        y[i] = cd_act_apply(act, x[i], al, be);
    return CD_OK;
}

static float bin(enum cd_op op, float x, float y)
{
    switch (op) {
    case CD_OP_ADD: return x + y;
    case CD_OP_SUB: return x - y;
    case CD_OP_MUL: return x * y;
    case CD_OP_DIV: return x / y;
    default: return NAN;
    }
}

/* Broadcast strides of operand shape s (right-aligned) against out rank r:
 * 0 where the operand has size 1 or no dim. */
static void bcast_strides(const struct cd_shape *s, int r, int64_t *st)
{
    int64_t own[CD_MAX_DIMS];
    strides(s, own);
    int sh = r - s->ndim;
    for (int i = 0; i < r; i++)
        st[i] = (i < sh || s->dim[i - sh] == 1) ? 0 : own[i - sh];
}

CD_REF_FN(binary)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *os = &e->out.shape;
    int r = os->ndim;
    int64_t on = numel(&e->out), an = numel(&e->in[0]);
    int64_t sa[CD_MAX_DIMS], sb[CD_MAX_DIMS] = { 0 };
    bcast_strides(&e->in[0].shape, r, sa);
    const float *other = NULL; /* second operand base for sample 0 */
    int64_t other_bstride = 0;
    if (e->n_in == 2) {
        bcast_strides(&e->in[1].shape, r, sb);
        other = arena + e->in[1].off;
        other_bstride = numel(&e->in[1]);
    } else if (!a->has_scalar) {
        bcast_strides(&e->w[0].shape, r, sb);
        other = wpool + e->w[0].off;
    }
    bool rev = a->reverse && e->n_in == 1;
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * an;
        const float *o = other ? other + b * other_bstride : NULL;
        float *y = arena + e->out.off + b * on;
        int64_t idx[CD_MAX_DIMS] = { 0 }, ia = 0, ib = 0;
        for (int64_t i = 0; i < on; i++) {
            float u = x[ia], v = o ? o[ib] : a->scalar;
            y[i] = rev ? bin(e->op, v, u) : bin(e->op, u, v);
            for (int d = r - 1; d >= 0; d--) { /* advance the counter */
                ia += sa[d];
                ib += sb[d];
                if (++idx[d] < os->dim[d])
                    break;
                ia -= sa[d] * idx[d];
                ib -= sb[d] * idx[d];
                idx[d] = 0;
            }
        }
    }
    return CD_OK;
}

CD_REF_FN(concat)
{
    const struct cd_shape *os = &e->out.shape;
    int ax = norm_axis(e->a->axis, os->ndim);
    int64_t outer = 1, inner = 1;
    size_t on = cd_tref_bstride(&e->out);
    for (int i = 0; i < ax; i++)
        outer *= os->dim[i];
    for (int i = ax + 1; i < os->ndim; i++)
        inner *= os->dim[i];
    for (int b = 0; b < batch; b++) {
        float *y = arena + e->out.off + b * on;
        for (int64_t o = 0; o < outer; o++)
            for (int k = 0; k < e->n_in; k++) {
                int64_t chunk = e->in[k].shape.dim[ax] * inner;
                const float *x = arena + e->in[k].off +
                                 b * cd_tref_bstride(&e->in[k]) + o * chunk;
                if (x != y) /* else already in place (pass_concat.c) */
                    memmove(y, x, (size_t)chunk * sizeof *y);
                y += chunk;
            }
    }
    return CD_OK;
}

CD_REF_FN(slice)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *xs = &e->in[0].shape;
    int ax = norm_axis(a->axis, xs->ndim);
    int64_t len = xs->dim[ax], start = a->start;
    /* Python clamping of start (the shape function fixed the length) */
    if (start < 0)
        start = start < -len ? 0 : start + len;
    if (start > len)
        start = len;
    int64_t outer = 1, inner = 1, n = e->out.shape.dim[ax];
    for (int i = 0; i < ax; i++)
        outer *= xs->dim[i];
    for (int i = ax + 1; i < xs->ndim; i++)
        inner *= xs->dim[i];
    int64_t xn = numel(&e->in[0]), on = numel(&e->out);
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * xn;
        float *y = arena + e->out.off + b * on;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < n; j++) {
                const float *src = x + (o * len + start + j * a->step) * inner;
                memmove(y, src, (size_t)inner * sizeof *y);
                y += inner;
            }
    }
    return CD_OK;
}

CD_REF_FN(copy)
{
    int64_t n = numel(&e->out);
    if (n != numel(&e->in[0]))
        return cd_err_set(err, CD_EINVAL, "copy of %lld elements into %lld",
                          (long long)numel(&e->in[0]), (long long)n);
    if (e->in[0].off != e->out.off)
        memmove(arena + e->out.off, arena + e->in[0].off,
                (size_t)n * (size_t)batch * sizeof(float));
    return CD_OK;
}

CD_REF_FN(permute)
{
    const struct cd_shape *xs = &e->in[0].shape, *os = &e->out.shape;
    int r = os->ndim;
    int64_t xst[CD_MAX_DIMS], sp[CD_MAX_DIMS], n = numel(&e->out);
    strides(xs, xst);
    for (int i = 0; i < r; i++)
        sp[i] = xst[e->a->perm[i]]; /* input stride of output dim i */
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * n;
        float *y = arena + e->out.off + b * n;
        int64_t idx[CD_MAX_DIMS] = { 0 }, ix = 0;
        for (int64_t i = 0; i < n; i++) {
            y[i] = x[ix];
            for (int d = r - 1; d >= 0; d--) {
                ix += sp[d];
                if (++idx[d] < os->dim[d])
                    break;
                ix -= sp[d] * idx[d];
                idx[d] = 0;
            }
        }
    }
    return CD_OK;
}

CD_REF_FN(softmax)
{
    int64_t outer, len, inner, n = numel(&e->out);
    cd_ref_axis_view(&e->in[0].shape, e->a->axis, &outer, &len, &inner);
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * n;
        float *y = arena + e->out.off + b * n;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                const float *xp = x + o * len * inner + i;
                float *yp = y + o * len * inner + i;
                float mx = -INFINITY;
                for (int64_t j = 0; j < len; j++)
                    if (xp[j * inner] > mx || isnan(xp[j * inner]))
                        mx = xp[j * inner];
                double sum = 0.0;
                for (int64_t j = 0; j < len; j++)
                    sum += exp((double)xp[j * inner] - mx);
                for (int64_t j = 0; j < len; j++)
                    yp[j * inner] = (float)(exp((double)xp[j * inner] - mx) /
                                            sum);
            }
    }
    return CD_OK;
}

CD_REF_FN(pad)
{
    const struct cd_attrs *a = e->a;
    const struct cd_shape *xs = &e->in[0].shape, *os = &e->out.shape;
    int r = os->ndim, first = r - a->nsp;
    int64_t xst[CD_MAX_DIMS], xn = numel(&e->in[0]), on = numel(&e->out);
    int64_t lo[CD_MAX_DIMS] = { 0 };
    strides(xs, xst);
    for (int i = 0; i < a->nsp; i++)
        lo[first + i] = a->pad_begin[i];
    for (int b = 0; b < batch; b++) {
        const float *x = arena + e->in[0].off + b * xn;
        float *y = arena + e->out.off + b * on;
        int64_t idx[CD_MAX_DIMS] = { 0 };
        for (int64_t i = 0; i < on; i++) {
            int64_t ix = 0;
            bool inside = true;
            for (int d = 0; d < r && inside; d++) {
                int64_t c = idx[d] - lo[d];
                inside = c >= 0 && c < xs->dim[d];
                ix += c * xst[d];
            }
            y[i] = inside ? x[ix] : a->alpha;
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < os->dim[d])
                    break;
                idx[d] = 0;
            }
        }
    }
    return CD_OK;
}
