/* ops_cl_gram.c — OpenCL dispatch of the Eigen-CAM Gram matrix
 * (kernels/gram.cl): channel means, then G = Xc Xc^T of one (C, hw) sample,
 * into the backend's scratch buffer (grown the first time a larger layer is
 * asked for, then reused: no allocation per request), read back blocking. Only
 * validates, enqueues and copies; the eigen-analysis is eigencam.c's. */
#include "ops_cl_gram.h"

#include "cl_backend.h"
#include "ops_cl_util.h"

#include <stdint.h>
#include <string.h>

#define GRAM_TS 8           /* must match kernels/gram.cl */
#define GRAM_MAX_C 4096     /* G is C*C floats: 64 MiB at most */

static size_t round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

int cd_cl_gram(struct cd_backend *b, size_t off, int C, int hw,
               float *gram_out, float *mean_out, struct cd_err *err)
{
    struct cd_cl_backend *be = b ? b->impl : NULL;
    size_t n, cc, tot;
    if (!be || !be->arena)
        return cd_err_set(err, CD_EINVAL, "gram: backend not allocated");
    if (C < 1 || C > GRAM_MAX_C || hw < 1 || !gram_out || !mean_out ||
        !cd_size_mul((size_t)C, (size_t)hw, &n) || n > INT32_MAX ||
        !cd_size_mul((size_t)C, (size_t)C, &cc) ||
        !cd_size_add(cc, (size_t)C, &tot))
        return cd_err_set(err, CD_EINVAL, "gram: bad size %d x %d (C at most "
                          "%d)", C, hw, GRAM_MAX_C);
    if (off > be->arena_floats || n > be->arena_floats - off)
        return cd_err_set(err, CD_ERANGE, "gram input [%zu, +%zu) outside the "
                          "arena's %zu floats", off, n, be->arena_floats);
    if (be->max_wg < GRAM_TS * GRAM_TS)
        return cd_err_set(err, CD_EUNSUPPORTED, "gram: device work-groups of "
                          "%zu < %d", be->max_wg, GRAM_TS * GRAM_TS);
    cl_kernel km = cd_cl_kernel(be, "cd_gram_mean", err);
    cl_kernel kg = km ? cd_cl_kernel(be, "cd_gram_xtx", err) : NULL;
    if (!kg)
        return CD_EDEVICE;
    cl_int crc;
    int rc;
    if (be->scratch_floats < tot) {
        cl_mem grown = clCreateBuffer(be->ctx, CL_MEM_READ_WRITE,
                                      tot * sizeof(float), NULL, &crc);
        if ((rc = cd_cl_check(crc, "clCreateBuffer(gram scratch)", err)))
            return rc;
        if (be->scratch)
            clReleaseMemObject(be->scratch);
        be->scratch = grown;
        be->scratch_floats = tot;
    }
    cl_mem s = be->scratch;
    cl_ulong xo = off;
    cl_uint uc = (cl_uint)C, uh = (cl_uint)hw;
    const struct cd_cl_arg args[] = {
        CD_CL_ARG(be->arena), CD_CL_ARG(xo), CD_CL_ARG(uc), CD_CL_ARG(uh),
        CD_CL_ARG(s),
    };
    size_t g1 = round_up((size_t)C, 64);
    size_t g2[2] = { round_up((size_t)C, GRAM_TS), round_up((size_t)C, GRAM_TS) };
    size_t l2[2] = { GRAM_TS, GRAM_TS };
    if ((rc = cd_cl_set_args(km, 0, args, CD_CL_NARGS(args), "cd_gram_mean", err)) ||
        (rc = cd_cl_enqueue(be, km, 1, &g1, NULL, "cd_gram_mean", err)) ||
        (rc = cd_cl_set_args(kg, 0, args, CD_CL_NARGS(args), "cd_gram_xtx", err)) ||
        (rc = cd_cl_enqueue(be, kg, 2, g2, l2, "cd_gram_xtx", err)))
        goto fail;
    crc = clEnqueueReadBuffer(be->q, s, CL_TRUE, 0, (size_t)C * sizeof(float),
                              mean_out, 0, NULL, NULL);
    if ((rc = cd_cl_check(crc, "clEnqueueReadBuffer(gram means)", err)))
        goto fail;
    crc = clEnqueueReadBuffer(be->q, s, CL_TRUE, (size_t)C * sizeof(float),
                              cc * sizeof(float), gram_out, 0, NULL, NULL);
    rc = cd_cl_check(crc, "clEnqueueReadBuffer(gram)", err);
fail:
    return rc;
}
