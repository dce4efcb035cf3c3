/* backend_cl.c — the OpenCL implementation of struct cd_backend_i: context,
 * in-order queue, program, arena and weight pool, and node dispatch through
 * the op table's cd_cl_fn. Device choice lives in cl_device.c, the program in
 * cl_program.c, the host side of kernels in ops_cl*.c; nothing is op-specific.
 * Also home of cd_backend_free, which every backend shares. */
#include "backend.h"

#include "cl_backend.h"
#include "cl_device.h"
#include "cl_program.h"
#include "conv_select.h"
#include "ops_cl_gram.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MIN_FLOATS 16 /* a zero-sized buffer is invalid in OpenCL */

static struct cd_cl_backend *impl(struct cd_backend *b)
{
    return b ? b->impl : NULL;
}

static void release_buffers(struct cd_cl_backend *be)
{
    if (be->arena)
        clReleaseMemObject(be->arena);
    if (be->wpool)
        clReleaseMemObject(be->wpool);
    be->arena = be->wpool = NULL;
    be->arena_floats = be->wpool_floats = 0;
}

/* A zero-filled buffer of n floats (at least MIN_FLOATS). */
static int make_buffer(struct cd_cl_backend *be, const char *what, size_t *n,
                       cl_ulong max_alloc, cl_mem *out, struct cd_err *err)
{
    static const float zero = 0.0f;
    cl_int rc;
    if (*n < MIN_FLOATS)
        *n = MIN_FLOATS;
    if (*n > SIZE_MAX / sizeof(float) || *n * sizeof(float) > max_alloc)
        return cd_err_set(err, CD_ENOMEM,
                          "%s of %zu floats exceeds the device's largest "
                          "buffer (%llu MiB)", what, *n,
                          (unsigned long long)(max_alloc >> 20));
    size_t bytes = *n * sizeof(float);
    *out = clCreateBuffer(be->ctx, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS)
        return cd_err_set(err, CD_EDEVICE,
                          "clCreateBuffer(%s, %zu bytes) failed: %s (%d)", what,
                          bytes, cd_cl_strerror(rc), (int)rc);
    rc = clEnqueueFillBuffer(be->q, *out, &zero, sizeof zero, 0, bytes, 0, NULL,
                             NULL);
    return cd_cl_check(rc, "clEnqueueFillBuffer", err);
}

static int cl_alloc(struct cd_backend *b, size_t arena_floats,
                    size_t wpool_floats, struct cd_err *err)
{
    struct cd_cl_backend *be = impl(b);
    cl_ulong max_alloc = 0;
    if (!be)
        return cd_err_set(err, CD_EINVAL, "alloc: no backend");
    cd_conv_select_forget(be, 0, SIZE_MAX); /* plans hold packed weights */
    release_buffers(be);
    cl_int crc = clGetDeviceInfo(be->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                                 sizeof max_alloc, &max_alloc, NULL);
    if (crc != CL_SUCCESS)
        return cd_cl_check(crc, "clGetDeviceInfo", err);
    int rc = make_buffer(be, "arena", &arena_floats, max_alloc, &be->arena,
                         err);
    if (rc == CD_OK)
        rc = make_buffer(be, "weight pool", &wpool_floats, max_alloc,
                         &be->wpool, err);
    /* Drivers allocate lazily: finishing the fills surfaces out-of-memory
     * here rather than in the first batch. */
    if (rc == CD_OK)
        rc = cd_cl_check(clFinish(be->q), "clFinish (alloc)", err);
    if (rc != CD_OK)
        goto fail;
    be->arena_floats = arena_floats;
    be->wpool_floats = wpool_floats;
    return CD_OK;
fail:
    release_buffers(be);
    return rc;
}

/* Blocking copy between host and buf[off .. off+n), bounds-checked. */
static int transfer(struct cd_cl_backend *be, int to_device, int pool,
                    size_t off, void *host, size_t n, struct cd_err *err)
{
    const char *what = pool ? "weight pool" : "arena";
    cl_mem buf = pool ? be->wpool : be->arena;
    size_t cap = pool ? be->wpool_floats : be->arena_floats;
    cl_int rc;
    if (n == 0)
        return CD_OK;
    if (!buf)
        return cd_err_set(err, CD_EINVAL, "%s not allocated", what);
    if (!host)
        return cd_err_set(err, CD_EINVAL, "%s copy: no host buffer", what);
    if (off > cap || n > cap - off)
        return cd_err_set(err, CD_ERANGE,
                          "%s copy of %zu floats at %zu exceeds its %zu floats",
                          what, n, off, cap);
    if (to_device)
        rc = clEnqueueWriteBuffer(be->q, buf, CL_TRUE, off * sizeof(float),
                                  n * sizeof(float), host, 0, NULL, NULL);
    else
        rc = clEnqueueReadBuffer(be->q, buf, CL_TRUE, off * sizeof(float),
                                 n * sizeof(float), host, 0, NULL, NULL);
    return cd_cl_check(rc, to_device ? "clEnqueueWriteBuffer"
                                     : "clEnqueueReadBuffer", err);
}

static int cl_upload_weights(struct cd_backend *b, size_t off,
                             const float *src, size_t n, struct cd_err *err)
{
    if (!impl(b))
        return cd_err_set(err, CD_EINVAL, "upload: no backend");
    cd_conv_select_forget(impl(b), off, n); /* their packed copies are stale */
    return transfer(impl(b), 1, 1, off, (void *)src, n, err);
}

static int cl_write(struct cd_backend *b, size_t off, const float *src,
                    size_t n, struct cd_err *err)
{
    if (!impl(b))
        return cd_err_set(err, CD_EINVAL, "write: no backend");
    return transfer(impl(b), 1, 0, off, (void *)src, n, err);
}

static int cl_read(struct cd_backend *b, size_t off, float *dst, size_t n,
                   struct cd_err *err)
{
    if (!impl(b))
        return cd_err_set(err, CD_EINVAL, "read: no backend");
    return transfer(impl(b), 0, 0, off, dst, n, err);
}

static int cl_run(struct cd_backend *b, const struct cd_exec_node *e,
                  int batch, struct cd_err *err)
{
    struct cd_cl_backend *be = impl(b);
    if (!be || !e || (unsigned)e->op >= CD_OP_COUNT || batch < 1)
        return cd_err_set(err, CD_EINVAL, "run: bad node or batch %d", batch);
    const char *name = e->name ? e->name : "?";
    if (!be->arena || !be->wpool)
        return cd_err_set(err, CD_EINVAL, "node \"%s\": buffers not allocated",
                          name);
    if (!cd_ops[e->op].cl)
        return cd_err_set(err, CD_EUNSUPPORTED,
                          "node \"%s\": op %s has no OpenCL implementation",
                          name, cd_ops[e->op].name);
    int rc = cd_ops[e->op].cl(be, e, batch, err);
    if (rc != CD_OK)
        cd_err_wrap(err, "node \"%s\"", name);
    return rc;
}

static int cl_finish(struct cd_backend *b, struct cd_err *err)
{
    struct cd_cl_backend *be = impl(b);
    if (!be)
        return cd_err_set(err, CD_EINVAL, "finish: no backend");
    return cd_cl_check(clFinish(be->q), "clFinish", err);
}

static int cl_prepare(struct cd_backend *b, const struct cd_exec_node *e,
                      int max_batch, struct cd_err *err)
{
    struct cd_cl_backend *be = impl(b);
    if (!be || !e || (unsigned)e->op >= CD_OP_COUNT)
        return cd_err_set(err, CD_EINVAL, "prepare: bad node");
    const char *kname = cd_ops[e->op].kernel;
    if (!kname)
        return CD_OK;
    int rc = CD_OK;
    if (!cd_cl_kernel(be, kname, err))
        rc = err ? err->code : CD_EDEVICE;
    else /* per-layer conv kernel choice, packing and warm-up */
        rc = cd_conv_select_prepare(be, e, max_batch, err);
    if (rc != CD_OK)
        cd_err_wrap(err, "node \"%s\"", e->name ? e->name : "?");
    return rc;
}

static void cl_free(struct cd_backend *b)
{
    if (!b)
        return;
    struct cd_cl_backend *be = impl(b);
    if (be) {
        if (be->q)
            clFinish(be->q);
        cd_conv_select_free(be);
        cd_cl_program_release(be);
        release_buffers(be);
        if (be->scratch)
            clReleaseMemObject(be->scratch);
        if (be->q)
            clReleaseCommandQueue(be->q);
        if (be->ctx)
            clReleaseContext(be->ctx);
        free(be);
    }
    free(b);
}

static const struct cd_backend_i cl_iface = {
    .name = "opencl",
    .alloc = cl_alloc,
    .upload_weights = cl_upload_weights,
    .write = cl_write,
    .read = cl_read,
    .run = cl_run,
    .finish = cl_finish,
    .prepare = cl_prepare,
    .free = cl_free,
    .gram = cd_cl_gram,
};

int cd_backend_cl_init(struct cd_backend **out, const char *select,
                       const char *cache_dir, struct cd_err *err)
{
    struct cd_backend *b = NULL;
    struct cd_cl_backend *be = NULL;
    cl_int crc;
    int rc;
    if (!out)
        return cd_err_set(err, CD_EINVAL, "OpenCL backend: no output");
    *out = NULL;
    b = calloc(1, sizeof *b);
    be = calloc(1, sizeof *be);
    if (!b || !be) {
        free(b);
        free(be);
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    }
    b->i = &cl_iface;
    b->impl = be;
    if (cache_dir)
        snprintf(be->cache_dir, sizeof be->cache_dir, "%s", cache_dir);
    if ((rc = cd_cl_device_select(be, select, err)) != CD_OK)
        goto fail;
    cl_context_properties props[] = {
        CL_CONTEXT_PLATFORM, (cl_context_properties)be->platform, 0
    };
    be->ctx = clCreateContext(props, 1, &be->device, NULL, NULL, &crc);
    if ((rc = cd_cl_check(crc, "clCreateContext", err)) != CD_OK)
        goto fail;
    be->q = clCreateCommandQueue(be->ctx, be->device, 0, &crc);
    if ((rc = cd_cl_check(crc, "clCreateCommandQueue", err)) != CD_OK)
        goto fail;
    if ((rc = cd_cl_program_build(be, cache_dir, err)) != CD_OK)
        goto fail;
    snprintf(b->desc, sizeof b->desc, "OpenCL: %s (%s, %s)", be->device_name,
             be->platform_name, be->driver);
    *out = b;
    return CD_OK;
fail:
    cl_free(b);
    return rc;
}

void cd_backend_free(struct cd_backend *b)
{
    if (b && b->i && b->i->free)
        b->i->free(b);
}
