/* cl_backend.h — the OpenCL backend's state, shared by the device layer
 * (cl_device.c, cl_program.c, backend_cl.c) and the op dispatchers (ops_cl*.c).
 * Only files of the OpenCL layer include this header (it pulls <CL/cl.h>).
 *
 * Kernel argument convention: every tensor is passed as two arguments, the
 * buffer (be->arena or be->wpool) and a ulong offset in floats; shapes are
 * passed as int scalars or int8 vectors. */
#ifndef CD_CL_BACKEND_H
#define CD_CL_BACKEND_H

#include "err.h"

#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>

#define CD_CL_MAX_KERNELS 128

struct cd_cl_kernel {
    const char *name;        /* borrowed from the op table / callers (static) */
    cl_kernel k;
};

struct cd_cl_backend {
    cl_platform_id platform;
    cl_device_id device;
    cl_context ctx;
    cl_command_queue q;
    cl_program prog;
    cl_mem arena;            /* activations, arena_floats floats */
    cl_mem wpool;            /* weights, wpool_floats floats */
    size_t arena_floats, wpool_floats;
    cl_mem scratch;          /* Eigen-CAM Gram scratch, grown once, reused */
    size_t scratch_floats;
    int n_kernels;
    struct cd_cl_kernel kernels[CD_CL_MAX_KERNELS];
    bool is_gpu;
    cl_uint compute_units;
    size_t max_wg;           /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t local_mem;        /* CL_DEVICE_LOCAL_MEM_SIZE */
    char device_name[128], driver[64], platform_name[128];
    struct cd_conv_plans *conv_plans; /* conv_select.c: per-layer kernels */
    int dw_force;            /* ops_cl_conv_dw.c: forced depthwise kernel
                              * (enum cd_dw_variant), 0 = per shape */
    char cache_dir[512];     /* program binary and tuning cache; "" = none */
};

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"); never NULL. */
const char *cd_cl_strerror(cl_int rc);
/* If rc != CL_SUCCESS, fills err with "CALL failed: CL_NAME (rc)" and returns
 * CD_EDEVICE; otherwise CD_OK. */
int cd_cl_check(cl_int rc, const char *call, struct cd_err *err);
/* The kernel `name` from the built program, created on first use and cached
 * in be->kernels. NULL on failure (err filled). */
cl_kernel cd_cl_kernel(struct cd_cl_backend *be, const char *name,
                       struct cd_err *err);
/* clEnqueueNDRangeKernel with error reporting; lws may be NULL. Global sizes
 * are rounded up to a multiple of lws by the caller. */
int cd_cl_enqueue(struct cd_cl_backend *be, cl_kernel k, cl_uint dims,
                  const size_t *gws, const size_t *lws, const char *what,
                  struct cd_err *err);

#endif
