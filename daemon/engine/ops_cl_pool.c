/* ops_cl_pool.c — OpenCL dispatch of maxpool/avgpool (the vectorised 2-D
 * kernels cd_pool2d_max/avg for 1-D and 2-D pools with stride 1 or 2 along
 * W, cd_pool otherwise), adaptive average pooling and global average pooling
 * (kernels/pool.cl). 1-D and 2-D inputs are mapped onto (d, h, w) with
 * leading sizes 1. Only validates sizes, sets arguments and enqueues: no
 * allocation, no blocking, never aborts. */
#include "ops_cl.h"
#include "ops_cl_util.h"

#include <stdint.h>

#define MAX_ELEMS ((int64_t)INT32_MAX)

/* (C, D, H, W) of a per-sample (1, C, *spatial) shape with 1..3 spatial
 * dims, into v.s[0..3]. */
static int shape4(const struct cd_shape *s, cl_int8 *v)
{
    int nsp = s->ndim - 2;
    int64_t n = cd_shape_numel(s);
    if (nsp < 1 || nsp > 3 || n < 1 || n > MAX_ELEMS)
        return -1;
    *v = (cl_int8){ { 0 } };
    v->s[0] = (cl_int)s->dim[1];
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - nsp);
        v->s[1 + i] = j < 0 ? 1 : (cl_int)s->dim[2 + j];
    }
    return nsp;
}

/* Enqueues the pool kernel `name` over (output positions, C, batch) with
 * args src, src_off, dst, dst_off, isz, osz (0..5), then extra from arg 6. */
static int run_pool(struct cd_cl_backend *be, const struct cd_exec_node *e,
                    const char *name, const cl_int8 *isz, const cl_int8 *osz,
                    const struct cd_cl_arg *extra, int n_extra, int batch,
                    struct cd_err *err)
{
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong io = e->in[0].off, oo = e->out.off;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(io), CD_CL_ARG(be->arena),
        CD_CL_ARG(oo), CD_CL_ARG(*isz), CD_CL_ARG(*osz),
    };
    int rc = cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "pool", err);
    if (rc)
        return rc;
    if (cd_cl_set_args(k, 6, extra, n_extra, name, err))
        return CD_EDEVICE;
    size_t gws[3] = { (size_t)osz->s[1] * osz->s[2] * osz->s[3],
                      (size_t)osz->s[0], (size_t)batch };
    return cd_cl_enqueue(be, k, 3, gws, NULL, name, err);
}

/* Work-items of the 2-D kernels: about this many, each a run of output
 * rows of one plane (enough to keep both cores busy and amortise POCL's
 * per-work-group cost). */
#define POOL2D_ITEMS 2048

/* cd_pool2d_max / cd_pool2d_avg (D == 1, stride along W 1 or 2): rows of
 * 16-wide vector segments; one work-item per work-group. */
static int run_pool2d(struct cd_cl_backend *be, const struct cd_exec_node *e,
                      const cl_int8 *isz, const cl_int8 *osz,
                      const cl_int8 *ksz, const cl_int8 *st,
                      const cl_int8 *di, const cl_int8 *pb,
                      const cl_int8 *pe, int is_max, int cip, int batch,
                      struct cd_err *err)
{
    const char *name = is_max ? "cd_pool2d_max" : "cd_pool2d_avg";
    cl_kernel k = cd_cl_kernel(be, name, err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    int C = isz->s[0], OH = osz->s[2];
    int64_t rows = (int64_t)OH * C * batch, rpi = rows / POOL2D_ITEMS;
    rpi = rpi < 1 ? 1 : rpi > OH ? OH : rpi;
    cl_ulong io = e->in[0].off, oo = e->out.off;
    cl_long total = (cl_long)batch * C * isz->s[2] * isz->s[3];
    const struct cd_cl_arg head[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(io), CD_CL_ARG(be->arena),
        CD_CL_ARG(oo),
    };
    cl_int iv[16] = { C, isz->s[2], isz->s[3], OH, osz->s[3], ksz->s[1],
                      ksz->s[2], st->s[1], st->s[2] };
    int n = 9;
    if (is_max) {
        iv[n++] = di->s[1];
        iv[n++] = di->s[2];
        iv[n++] = pb->s[1];
        iv[n++] = pb->s[2];
    } else {
        iv[n++] = pb->s[1];
        iv[n++] = pb->s[2];
        iv[n++] = pe->s[1];
        iv[n++] = pe->s[2];
        iv[n++] = cip;
    }
    iv[n++] = (cl_int)rpi;
    const struct cd_cl_arg tail[] = { CD_CL_ARG(total) };
    cl_uint nh = (cl_uint)CD_CL_NARGS(head);
    if (cd_cl_set_args(k, 0, head, CD_CL_NARGS(head), name, err) ||
        cd_cl_set_int_args(k, nh, iv, n, name, err) ||
        cd_cl_set_args(k, nh + (cl_uint)n, tail, 1, name, err))
        return CD_EDEVICE;
    size_t gws[3] = { (size_t)((OH + rpi - 1) / rpi), (size_t)C,
                      (size_t)batch };
    static const size_t lws[3] = { 1, 1, 1 };
    return cd_cl_enqueue(be, k, 3, gws, lws, name, err);
}

static int check_io(const struct cd_exec_node *e, int batch, cl_int8 *isz,
                    cl_int8 *osz, struct cd_err *err)
{
    int nsp = shape4(&e->in[0].shape, isz);
    if (batch < 0 || e->n_in < 1 || nsp < 0 ||
        shape4(&e->out.shape, osz) != nsp || osz->s[0] != isz->s[0])
        return cd_err_set(err, CD_EINVAL, "%s: bad pool shapes", e->name);
    return CD_OK;
}

CD_CL_FN(pool)
{
    cl_int8 isz, osz, ksz = { { 0 } }, st = { { 0 } }, di = { { 0 } },
                      pb = { { 0 } }, pe = { { 0 } };
    int rc = check_io(e, batch, &isz, &osz, err);
    if (rc)
        return rc;
    const struct cd_attrs *a = e->a;
    int nsp = e->in[0].shape.ndim - 2;
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - nsp);
        ksz.s[i] = j < 0 ? 1 : a->kernel[j];
        st.s[i] = j < 0 ? 1 : a->stride[j];
        di.s[i] = j < 0 ? 1 : a->dilation[j];
        pb.s[i] = j < 0 ? 0 : a->pad_begin[j];
        pe.s[i] = j < 0 ? 0 : a->pad_end[j];
        if (ksz.s[i] < 1 || st.s[i] < 1 || di.s[i] < 1 || pb.s[i] < 0 ||
            pe.s[i] < 0)
            return cd_err_set(err, CD_EINVAL, "%s: bad pool attributes",
                              e->name);
    }
    if (batch == 0)
        return CD_OK;
    cl_int is_max = e->op == CD_OP_MAXPOOL, cip = a->count_include_pad != 0;
    if (nsp <= 2 && st.s[2] <= 2)
        return run_pool2d(be, e, &isz, &osz, &ksz, &st, &di, &pb, &pe,
                          is_max, cip, batch, err);
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(ksz), CD_CL_ARG(st), CD_CL_ARG(di), CD_CL_ARG(pb),
        CD_CL_ARG(pe), CD_CL_ARG(is_max), CD_CL_ARG(cip),
    };
    return run_pool(be, e, "cd_pool", &isz, &osz, args, CD_CL_NARGS(args),
                    batch, err);
}

CD_CL_FN(adaptive_pool)
{
    cl_int8 isz, osz;
    int rc = check_io(e, batch, &isz, &osz, err);
    if (rc)
        return rc;
    if (batch == 0)
        return CD_OK;
    return run_pool(be, e, "cd_adaptive_avgpool", &isz, &osz, NULL, 0, batch,
                    err);
}

CD_CL_FN(global_pool)
{
    const struct cd_shape *x = &e->in[0].shape;
    int64_t n = cd_shape_numel(x);
    if (batch < 0 || x->ndim < 3 || n < 1 || n > MAX_ELEMS ||
        cd_shape_numel(&e->out.shape) != x->dim[1])
        return cd_err_set(err, CD_EINVAL, "%s: bad global pool shapes",
                          e->name);
    if (batch == 0)
        return CD_OK;
    cl_kernel k = cd_cl_kernel(be, "cd_global_avgpool", err);
    if (!k)
        return err ? err->code : CD_EDEVICE;
    cl_ulong io = e->in[0].off, oo = e->out.off;
    cl_int C = (cl_int)x->dim[1], S = (cl_int)(n / x->dim[1]);
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(io), CD_CL_ARG(be->arena),
        CD_CL_ARG(oo), CD_CL_ARG(C), CD_CL_ARG(S),
    };
    if (cd_cl_set_args(k, 0, args, CD_CL_NARGS(args), "cd_global_avgpool",
                       err))
        return CD_EDEVICE;
    size_t gws[2] = { (size_t)C, (size_t)batch };
    return cd_cl_enqueue(be, k, 2, gws, NULL, "cd_global_avgpool", err);
}
