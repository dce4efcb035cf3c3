/* ops_cl_tensor.c — OpenCL dispatch of the data-movement ops: copy
 * (flatten/reshape/identity/dropout), concat, slice, permute, constant pad
 * and upsample (kernels in kernels/tensor.cl). Concat, slice and permute are
 * one strided N-d copy each after merging contiguous dims. Only enqueues:
 * no allocation, never aborts; every index range is checked first. */
#include "ops_cl.h"
#include "ops_cl_util.h"

#include <stdint.h>

/* A full (batched) shape: dim 0 replaced by batch. */
struct full {
    int nd;
    int64_t dim[CD_MAX_DIMS];
    int64_t numel;
};

static int full_shape(const struct cd_shape *s, int batch, struct full *f,
                      const char *name, struct cd_err *err)
{
    int64_t n = cd_cl_batched_numel(s, batch);
    if (s->ndim < 1 || s->ndim > CD_MAX_DIMS || n < 0)
        return cd_err_set(err, CD_EINVAL, "%s: bad or too large shape", name);
    f->nd = s->ndim;
    for (int k = 0; k < s->ndim; k++)
        f->dim[k] = s->dim[k];
    f->dim[0] = batch;
    f->numel = n;
    return CD_OK;
}

/* Full shapes of input 0 and of the output. */
static int full_io(const struct cd_exec_node *e, int batch, struct full *fi,
                   struct full *fo, struct cd_err *err)
{
    int st = full_shape(&e->in[0].shape, batch, fi, e->name, err);
    if (st == CD_OK)
        st = full_shape(&e->out.shape, batch, fo, e->name, err);
    return st;
}

static void contig_strides(const struct full *f, int64_t *st)
{
    int64_t s = 1;
    for (int k = f->nd - 1; k >= 0; k--) {
        st[k] = s;
        s *= f->dim[k];
    }
}

/* Block of one cd_copy_transpose work-item along a dim of n: all of it up
 * to 128, else 64 (whole 256-byte runs on both the read and the write
 * side; a few hundred work-items for the convnext shapes at batch 8). */
static size_t transpose_block(int64_t n)
{
    return n <= 128 ? (size_t)n : 64;
}

/* Collapsed copy whose output is contiguous along its last dim and whose
 * input is contiguous along dim t: 16x16 tiles of register-transposed
 * quads (cd_copy_transpose). */
static int copy_transpose(struct cd_cl_backend *be, int m, const int64_t *d,
                          const int64_t *si, const int64_t *so, int t,
                          cl_ulong in_off, cl_ulong out_off, const char *what,
                          struct cd_err *err)
{
    cl_int8 vd, vi, vo;
    int64_t rows = 1;
    int slot = 6;
    for (int k = 0; k < 8; k++) {
        vd.s[k] = 1;
        vi.s[k] = 0;
        vo.s[k] = 0;
    }
    for (int j = m - 2; j >= 0; j--) { /* the dims other than t and last */
        if (j == t)
            continue;
        vd.s[slot] = (cl_int)d[j];
        vi.s[slot] = (cl_int)si[j];
        vo.s[slot] = (cl_int)so[j];
        rows *= d[j];
        slot--;
    }
    cl_kernel k = cd_cl_kernel(be, "cd_copy_transpose", err);
    if (!k)
        return CD_EDEVICE;
    cl_uint nrows = (cl_uint)rows, l = (cl_uint)d[m - 1], tt = (cl_uint)d[t];
    cl_int is_l = (cl_int)si[m - 1], os_t = (cl_int)so[t];
    size_t lr = transpose_block(l), tr = transpose_block(tt);
    cl_uint lb = (cl_uint)lr, tb = (cl_uint)tr;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off), CD_CL_ARG(be->arena),
        CD_CL_ARG(in_off), CD_CL_ARG(vd), CD_CL_ARG(vi), CD_CL_ARG(vo),
        CD_CL_ARG(nrows), CD_CL_ARG(l), CD_CL_ARG(tt), CD_CL_ARG(is_l),
        CD_CL_ARG(os_t), CD_CL_ARG(lb), CD_CL_ARG(tb),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_copy_transpose",
                       err))
        return CD_EDEVICE;
    size_t gws[3] = { (l + lr - 1) / lr, (tt + tr - 1) / tr, (size_t)rows };
    static const size_t lws[3] = { 1, 1, 1 };
    return cd_cl_enqueue(be, k, 3, gws, lws, what, err);
}

/* Enqueues out[sum i_k os_k] = in[sum i_k is_k] over dims (nd <= 6) after
 * dropping size-1 dims and merging dims contiguous in both tensors. */
static int copy_strided(struct cd_cl_backend *be, int nd, const int64_t *dim,
                        const int64_t *is, const int64_t *os, cl_ulong in_off,
                        cl_ulong out_off, const char *what,
                        struct cd_err *err)
{
    int64_t d[8], si[8], so[8];
    for (int k = 0; k < nd; k++)
        if (dim[k] == 0)
            return CD_OK;
    int m = cd_cl_merge_dims(nd, dim, is, os, d, si, so);
    int t = -1; /* a dim along which the input is contiguous */
    for (int j = 0; j + 1 < m; j++)
        if (si[j] == 1 && d[j] >= 8)
            t = j;
    if (t >= 0 && so[m - 1] == 1 && d[m - 1] >= 8)
        return copy_transpose(be, m, d, si, so, t, in_off, out_off, what,
                              err);
    cl_int8 vd, vi, vo;
    int64_t rows = cd_cl_pack_dims(m, d, si, so, &vd, &vi, &vo);
    cl_kernel k = cd_cl_kernel(be, "cd_copy_strided", err);
    if (!k)
        return CD_EDEVICE;
    cl_uint nrows = (cl_uint)rows;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(out_off), CD_CL_ARG(be->arena),
        CD_CL_ARG(in_off), CD_CL_ARG(vd), CD_CL_ARG(vi), CD_CL_ARG(vo),
        CD_CL_ARG(nrows),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_copy_strided",
                       err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)((vd.s[7] + 7) / 8), (size_t)rows };
    return cd_cl_enqueue(be, k, 2, gws, NULL, what, err);
}

CD_CL_FN(copy)
{
    struct full fi, fo;
    int st = full_io(e, batch, &fi, &fo, err);
    if (st != CD_OK)
        return st;
    if (fi.numel != fo.numel)
        return cd_err_set(err, CD_EINVAL, "copy %s: %lld vs %lld elements",
                          e->name, (long long)fi.numel, (long long)fo.numel);
    if (e->in[0].off == e->out.off || fo.numel == 0)
        return CD_OK; /* a view sharing storage */
    cl_kernel k = cd_cl_kernel(be, "cd_copy", err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_uint n = (cl_uint)fo.numel;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(oo), CD_CL_ARG(be->arena),
        CD_CL_ARG(io), CD_CL_ARG(n),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_copy", err))
        return CD_EDEVICE;
    size_t gws = (size_t)((fo.numel + 7) / 8);
    return cd_cl_enqueue(be, k, 1, &gws, NULL, "cd_copy", err);
}

CD_CL_FN(concat)
{
    struct full fo, fi;
    int st = full_shape(&e->out.shape, batch, &fo, e->name, err);
    if (st != CD_OK)
        return st;
    int axis = e->a->axis < 0 ? e->a->axis + fo.nd : e->a->axis;
    if (axis < 1 || axis >= fo.nd)
        return cd_err_set(err, CD_EINVAL, "concat %s: bad axis %d", e->name,
                          e->a->axis);
    int64_t os[CD_MAX_DIMS], is[CD_MAX_DIMS], at = 0;
    contig_strides(&fo, os);
    os[0] = (int64_t)cd_tref_bstride(&e->out); /* a wider buffer's prefix */
    for (int i = 0; i < e->n_in; i++) {
        st = full_shape(&e->in[i].shape, batch, &fi, e->name, err);
        if (st != CD_OK)
            return st;
        bool ok = fi.nd == fo.nd;
        for (int k = 0; ok && k < fo.nd; k++)
            ok = k == axis || fi.dim[k] == fo.dim[k];
        if (!ok || at + fi.dim[axis] > fo.dim[axis])
            return cd_err_set(err, CD_EINVAL,
                              "concat %s: input %d does not fit the output",
                              e->name, i);
        contig_strides(&fi, is);
        is[0] = (int64_t)cd_tref_bstride(&e->in[i]);
        cl_ulong dst = e->out.off + (cl_ulong)(at * os[axis]);
        at += fi.dim[axis];
        bool in_place = e->in[i].off == dst;
        for (int k = 0; in_place && k < fi.nd; k++)
            in_place = is[k] == os[k];
        if (in_place)
            continue; /* a prefix laid out by pass_concat.c */
        st = copy_strided(be, fi.nd, fi.dim, is, os, e->in[i].off, dst,
                          "cd_copy_strided(concat)", err);
        if (st != CD_OK)
            return st;
    }
    if (at != fo.dim[axis])
        return cd_err_set(err, CD_EINVAL, "concat %s: inputs fill %lld of %lld",
                          e->name, (long long)at, (long long)fo.dim[axis]);
    return CD_OK;
}

CD_CL_FN(slice)
{
    struct full fi, fo;
    int st = full_io(e, batch, &fi, &fo, err);
    if (st != CD_OK)
        return st;
    int axis = e->a->axis < 0 ? e->a->axis + fi.nd : e->a->axis;
    int64_t step = e->a->step, start = e->a->start;
    if (axis < 1 || axis >= fi.nd || fo.nd != fi.nd || step == 0)
        return cd_err_set(err, CD_EINVAL, "slice %s: bad axis or step",
                          e->name);
    int64_t len = fi.dim[axis], cnt = fo.dim[axis];
    /* Python's slice start normalisation */
    if (start < 0) {
        start += len;
        if (start < 0)
            start = step < 0 ? -1 : 0;
    } else if (start >= len) {
        start = step < 0 ? len - 1 : len;
    }
    bool ok = true;
    for (int k = 0; k < fi.nd; k++)
        ok = ok && (k == axis || fi.dim[k] == fo.dim[k]);
    if (cnt > 0) {
        int64_t last = start + (cnt - 1) * step;
        ok = ok && start >= 0 && start < len && last >= 0 && last < len;
    }
    if (!ok)
        return cd_err_set(err, CD_EINVAL,
                          "slice %s: output does not fit the input", e->name);
    int64_t is[CD_MAX_DIMS], os[CD_MAX_DIMS];
    contig_strides(&fi, is);
    contig_strides(&fo, os);
    cl_ulong in_off = e->in[0].off + (cl_ulong)(start * is[axis]);
    is[axis] *= step;
    return copy_strided(be, fo.nd, fo.dim, is, os, in_off, e->out.off,
                        "cd_copy_strided(slice)", err);
}

CD_CL_FN(permute)
{
    struct full fi, fo;
    int st = full_io(e, batch, &fi, &fo, err);
    if (st != CD_OK)
        return st;
    const struct cd_attrs *a = e->a;
    bool ok = a->n_perm == fi.nd && fo.nd == fi.nd;
    unsigned seen = 0;
    for (int k = 0; ok && k < fi.nd; k++) {
        int p = a->perm[k];
        ok = p >= 0 && p < fi.nd && !(seen & (1u << p)) &&
             fo.dim[k] == fi.dim[p];
        if (ok)
            seen |= 1u << p;
    }
    if (!ok)
        return cd_err_set(err, CD_EINVAL, "permute %s: bad perm", e->name);
    int64_t is[CD_MAX_DIMS], ip[CD_MAX_DIMS], os[CD_MAX_DIMS];
    contig_strides(&fi, is);
    contig_strides(&fo, os);
    for (int k = 0; k < fi.nd; k++)
        ip[k] = is[a->perm[k]];
    return copy_strided(be, fo.nd, fo.dim, ip, os, e->in[0].off, e->out.off,
                        "cd_copy_strided(permute)", err);
}

CD_CL_FN(pad)
{
    struct full fi, fo;
    int st = full_io(e, batch, &fi, &fo, err);
    if (st != CD_OK)
        return st;
    int d = e->a->nsp;
    if (fo.nd != fi.nd || d < 0 || d > fi.nd - 1)
        return cd_err_set(err, CD_EINVAL, "pad %s: bad padding rank",
                          e->name);
    cl_int8 vo, vi, vp;
    int64_t rows = 1;
    for (int k = 0; k < 8; k++) {
        int j = k - (8 - fi.nd); /* dim index, -1.. for unused slots */
        int sp = j - (fi.nd - d); /* padded-dim index */
        int64_t pb = sp >= 0 ? e->a->pad_begin[sp] : 0;
        int64_t pe = sp >= 0 ? e->a->pad_end[sp] : 0;
        int64_t di = j >= 0 ? fi.dim[j] : 1, dout = j >= 0 ? fo.dim[j] : 1;
        if (pb < 0 || pe < 0 || dout != di + pb + pe)
            return cd_err_set(err, CD_EINVAL,
                              "pad %s: output dim %d does not match padding",
                              e->name, j);
        vi.s[k] = (cl_int)di;
        vo.s[k] = (cl_int)dout;
        vp.s[k] = (cl_int)pb;
        if (k < 7)
            rows *= dout;
    }
    if (fo.numel == 0)
        return CD_OK;
    cl_kernel k = cd_cl_kernel(be, "cd_pad", err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_uint nrows = (cl_uint)rows;
    cl_float value = e->a->alpha;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(oo), CD_CL_ARG(be->arena),
        CD_CL_ARG(io), CD_CL_ARG(vo), CD_CL_ARG(vi), CD_CL_ARG(vp),
        CD_CL_ARG(nrows), CD_CL_ARG(value),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_pad", err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)((vo.s[7] + 63) / 64), (size_t)rows };
    return cd_cl_enqueue(be, k, 2, gws, NULL, "cd_pad", err);
}

/* PyTorch's area_pixel_compute_scale (as cd_ref_upsample): align_corners
 * ratio, else 1/scale when a scale was given, else in/out. */
static float up_scale(int64_t in, int64_t out, int align, float given)
{
    if (align)
        return out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
    if (given > 0.0f)
        return (float)(1.0 / (double)given);
    return (float)in / (float)out;
}

CD_CL_FN(upsample)
{
    struct full fi, fo;
    int st = full_io(e, batch, &fi, &fo, err);
    if (st != CD_OK)
        return st;
    const struct cd_attrs *a = e->a;
    int nsp = fi.nd - 2;
    bool bil = a->mode == CD_UPSAMPLE_BILINEAR;
    bool ok = nsp >= 1 && nsp <= CD_MAX_SPATIAL && fo.nd == fi.nd &&
              fi.dim[1] == fo.dim[1] && (bil ? nsp == 2
                                             : a->mode == CD_UPSAMPLE_NEAREST);
    int64_t in[3] = { 1, 1, 1 }, out[3] = { 1, 1, 1 };
    cl_float sc[3];
    int align = bil && a->align_corners;
    for (int j = 0; ok && j < 3; j++) {
        int i = j - (3 - nsp); /* spatial index, < 0 for unused slots */
        if (i >= 0) {
            in[j] = fi.dim[2 + i];
            out[j] = fo.dim[2 + i];
        }
        ok = in[j] >= 1 && out[j] >= 0;
        sc[j] = ok ? up_scale(in[j], out[j], align,
                              i >= 0 ? a->scale[i] : 0.0f) : 0.0f;
    }
    if (!ok)
        return cd_err_set(err, CD_EINVAL, "upsample %s: bad shapes or mode",
                          e->name);
    if (fo.numel == 0)
        return CD_OK;
    cl_kernel k = cd_cl_kernel(be, "cd_upsample", err);
    if (!k)
        return CD_EDEVICE;
    cl_ulong oo = e->out.off, io = e->in[0].off;
    cl_uint planes = (cl_uint)(fi.dim[0] * fi.dim[1]);
    cl_uint d = (cl_uint)in[0], h = (cl_uint)in[1], w = (cl_uint)in[2];
    cl_uint dout = (cl_uint)out[0], ho = (cl_uint)out[1], wo = (cl_uint)out[2];
    cl_int mode = bil, al = align;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(oo), CD_CL_ARG(be->arena),
        CD_CL_ARG(io), CD_CL_ARG(planes), CD_CL_ARG(d), CD_CL_ARG(h),
        CD_CL_ARG(w), CD_CL_ARG(dout), CD_CL_ARG(ho), CD_CL_ARG(wo),
        CD_CL_ARG(sc[0]), CD_CL_ARG(sc[1]), CD_CL_ARG(sc[2]),
        CD_CL_ARG(mode), CD_CL_ARG(al),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_upsample", err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)((wo + 31) / 32),
                      (size_t)planes * dout * ho };
    return cd_cl_enqueue(be, k, 2, gws, NULL, "cd_upsample", err);
}
