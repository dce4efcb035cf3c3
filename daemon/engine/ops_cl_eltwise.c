/* ops_cl_eltwise.c — OpenCL dispatch of the activation ops (cd_cl_unary) and
 * of add/sub/mul/div with numpy broadcasting (cd_cl_binary), kernels in
 * kernels/eltwise.cl. Picks the float16 row kernel when one operand is full
 * size and the other's non-broadcast dims are contiguous, else the general
 * N-d kernel. Only enqueues: no allocation, no blocking, never aborts. */
#include "ops_cl.h"
#include "ops_cl_util.h"

#include <stdint.h>

/* One operand of a binary op, as seen against the output's full shape. */
struct operand {
    cl_mem buf;
    cl_ulong off;
    int present;          /* 0: the scalar constant */
    int64_t dim[8];       /* right-aligned to the output rank, 1-padded */
};

CD_CL_FN(unary)
{
    float alpha, beta;
    cl_int act = (cl_int)cd_op_act(e->op, e->a, &alpha, &beta);
    int64_t n = cd_cl_batched_numel(&e->out.shape, batch);
    if (n < 0 || n != cd_cl_batched_numel(&e->in[0].shape, batch))
        return cd_err_set(err, CD_EINVAL, "unary %s: bad size", e->name);
    if (n == 0)
        return CD_OK;
    cl_kernel k = cd_cl_kernel(be, "cd_unary", err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_uint nn = (cl_uint)n;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(oo), CD_CL_ARG(be->arena),
        CD_CL_ARG(io), CD_CL_ARG(nn), CD_CL_ARG(act), CD_CL_ARG(alpha),
        CD_CL_ARG(beta),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_unary", err))
        return CD_EDEVICE;
    size_t gws = (size_t)((n + 7) / 8);
    return cd_cl_enqueue(be, k, 1, &gws, NULL, "cd_unary", err);
}

/* Right-aligns shape s to rank r (8 slots); for an activation (batch_dim
 * > 0) the output's batch slot becomes batch_dim. */
static int align_operand(struct operand *p, const struct cd_shape *s,
                         int batch_dim, int r)
{
    if (s->ndim > r || s->ndim < 0)
        return -1;
    for (int k = 0; k < 8; k++)
        p->dim[k] = 1;
    for (int k = 0; k < s->ndim; k++)
        p->dim[8 - s->ndim + k] = s->dim[k];
    /* an activation's per-sample shape is padded to rank r, then batched */
    if (batch_dim > 0) {
        if (p->dim[8 - r] != 1)
            return -1;
        p->dim[8 - r] = batch_dim;
    }
    return 0;
}

static bool is_full(const struct operand *p, const int64_t *od)
{
    if (!p->present)
        return false;
    for (int k = 0; k < 8; k++)
        if (p->dim[k] != od[k])
            return false;
    return true;
}

/* True when q's non-broadcast dims form one contiguous block; then writes
 * inner (product of the output dims after it) and mid (its size; 0 for the
 * scalar constant). */
static bool is_block(const struct operand *q, const int64_t *od,
                     int64_t *inner, int64_t *mid)
{
    if (!q->present) {
        *inner = 1;
        *mid = 0;
        return true;
    }
    int lo = 8, hi = 0;
    for (int k = 0; k < 8; k++)
        if (q->dim[k] != 1) {
            lo = k < lo ? k : lo;
            hi = k + 1;
        }
    *inner = 1;
    *mid = 1;
    for (int k = lo; k < hi; k++) {
        if (q->dim[k] != od[k])
            return false;
        *mid *= od[k];
    }
    for (int k = hi; k < 8; k++)
        *inner *= od[k];
    if (lo == 8)
        *inner = 1;
    return true;
}

/* Work-items of cd_binary: about this many (both cores busy, few
 * work-groups for POCL); a work-item's columns at most ELT_CHUNK_MAX. */
#define ELT_ITEMS 1024
#define ELT_CHUNK_MAX 4096

/* a full size, b a block of the output (is_block's inner, mid; mid 0: the
 * constant bs): cd_binary over a viewed as (rows, len). */
static int run_fast(struct cd_cl_backend *be, const struct operand *a,
                    const struct operand *b, int64_t n, int64_t inner,
                    int64_t mid, float bs, cl_int op, cl_int rev,
                    cl_ulong out_off, struct cd_err *err)
{
    cl_kernel k = cd_cl_kernel(be, "cd_binary", err);
    if (!k)
        return CD_EDEVICE;
    int64_t rows = 1, len = n;
    cl_int bmode;
    if (mid == 0)
        bmode = 0;
    else if (mid == 1)
        bmode = 2; /* one value for everything: b[0] */
    else if (inner == 1 && mid == n)
        bmode = 1;
    else if (inner == 1 && mid > 1) {
        bmode = 3; /* last-dim broadcast: rows of mid */
        len = mid;
        rows = n / mid;
    } else {
        bmode = 2; /* one value per run of inner */
        len = inner;
        rows = n / inner;
    }
    int64_t chunk = (n / ELT_ITEMS + 15) / 16 * 16;
    chunk = chunk < 256 ? 256 : chunk > ELT_CHUNK_MAX ? ELT_CHUNK_MAX : chunk;
    if (chunk > len)
        chunk = len;
    int64_t ncol = (len + chunk - 1) / chunk;
    int64_t rpi = rows * ncol / ELT_ITEMS;
    rpi = rpi < 1 ? 1 : rpi;
    cl_uint nr = (cl_uint)rows, nl = (cl_uint)len, ch = (cl_uint)chunk,
            per = (cl_uint)rpi, mm = (cl_uint)(mid > 0 ? mid : 1);
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off), CD_CL_ARG(a->buf),
        CD_CL_ARG(a->off), CD_CL_ARG(b->buf), CD_CL_ARG(b->off),
        CD_CL_ARG(nr), CD_CL_ARG(nl), CD_CL_ARG(ch), CD_CL_ARG(per),
        CD_CL_ARG(mm), CD_CL_ARG(bs), CD_CL_ARG(bmode), CD_CL_ARG(op),
        CD_CL_ARG(rev),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_binary", err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)ncol, (size_t)((rows + rpi - 1) / rpi) };
    static const size_t lws[2] = { 1, 1 };
    return cd_cl_enqueue(be, k, 2, gws, lws, "cd_binary", err);
}

/* Contiguous strides of p over the output dims, 0 where p broadcasts. */
static void bcast_strides(const struct operand *p, const int64_t *od,
                          int64_t *st)
{
    int64_t m = 1;
    for (int k = 7; k >= 0; k--) {
        st[k] = (p->dim[k] == 1 && od[k] != 1) ? 0 : m;
        m *= p->dim[k];
    }
}

/* General case: drops size-1 output dims, merges dims along which both
 * operands are contiguous (or both broadcast), then one row kernel. */
static int run_nd(struct cd_cl_backend *be, const struct operand *l,
                  const struct operand *r, const int64_t *od, cl_int op,
                  cl_ulong out_off, struct cd_err *err)
{
    int64_t sl[8], sr[8], d[8], ml[8], mr[8];
    bcast_strides(l, od, sl);
    bcast_strides(r, od, sr);
    int m = cd_cl_merge_dims(8, od, sl, sr, d, ml, mr);
    cl_int8 vd, vl, vr;
    int64_t rows = cd_cl_pack_dims(m, d, ml, mr, &vd, &vl, &vr);
    cl_kernel k = cd_cl_kernel(be, "cd_binary_nd", err);
    if (!k)
        return CD_EDEVICE;
    cl_uint nrows = (cl_uint)rows;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off), CD_CL_ARG(l->buf),
        CD_CL_ARG(l->off), CD_CL_ARG(r->buf), CD_CL_ARG(r->off),
        CD_CL_ARG(vd), CD_CL_ARG(vl), CD_CL_ARG(vr), CD_CL_ARG(nrows),
        CD_CL_ARG(op),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_binary_nd", err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)((vd.s[7] + 7) / 8), (size_t)rows };
    return cd_cl_enqueue(be, k, 2, gws, NULL, "cd_binary_nd", err);
}

CD_CL_FN(binary)
{
    cl_int op;
    switch (e->op) {
    case CD_OP_ADD: op = 0; break;
    case CD_OP_SUB: op = 1; break;
    case CD_OP_MUL: op = 2; break;
    case CD_OP_DIV: op = 3; break;
    default: return cd_err_set(err, CD_EINVAL, "binary %s: not a binary op",
                               e->name);
    }
    const struct cd_shape *os = &e->out.shape;
    int r = os->ndim;
    int64_t n = cd_cl_batched_numel(os, batch);
    if (n < 0 || r < 1 || r > CD_MAX_DIMS)
        return cd_err_set(err, CD_EINVAL, "binary %s: bad output shape",
                          e->name);
    if (n == 0)
        return CD_OK;
    int64_t od[8];
    for (int k = 0; k < 8; k++)
        od[k] = 1;
    for (int k = 0; k < r; k++)
        od[8 - r + k] = os->dim[k];
    od[8 - r] = batch;

    struct operand x = { .buf = be->arena, .off = e->in[0].off, .present = 1 };
    struct operand y = { .buf = be->arena, .off = 0, .present = 1 };
    int bad = align_operand(&x, &e->in[0].shape, batch, r);
    bool constant = true;
    if (e->n_in >= 2) {
        y.off = e->in[1].off;
        bad |= align_operand(&y, &e->in[1].shape, batch, r);
        constant = false;
    } else if (e->has_w[0]) {
        y.buf = be->wpool;
        y.off = e->w[0].off;
        bad |= align_operand(&y, &e->w[0].shape, 0, r);
    } else if (e->a->has_scalar) {
        y.present = 0;
        for (int k = 0; k < 8; k++)
            y.dim[k] = 1;
    } else {
        return cd_err_set(err, CD_EINVAL, "binary %s: no second operand",
                          e->name);
    }
    for (int k = 0; k < 8 && !bad; k++)
        if ((x.dim[k] != od[k] && x.dim[k] != 1) ||
            (y.dim[k] != od[k] && y.dim[k] != 1))
            bad = 1;
    if (bad)
        return cd_err_set(err, CD_EINVAL,
                          "binary %s: operands do not broadcast to the output",
                          e->name);
    cl_int rev = constant && e->a->reverse;
    cl_ulong oo = e->out.off;
    int64_t inner, mid;
    if (is_full(&x, od) && is_block(&y, od, &inner, &mid))
        return run_fast(be, &x, &y, n, inner, mid, e->a->scalar, op, rev, oo,
                        err);
    if (is_full(&y, od) && is_block(&x, od, &inner, &mid))
        return run_fast(be, &y, &x, n, inner, mid, 0.0f, op, !rev, oo, err);
    if (!y.present)
        return cd_err_set(err, CD_EINVAL, "binary %s: scalar with a "
                          "broadcast input", e->name);
    return rev ? run_nd(be, &y, &x, od, op, oo, err)
               : run_nd(be, &x, &y, od, op, oo, err);
}
