/* cl_device.h — OpenCL device enumeration and selection (cl_device.c).
 * This header must not include <CL/cl.h>: the CLI lists devices through it
 * without knowing OpenCL types. */
#ifndef CD_CL_DEVICE_H
#define CD_CL_DEVICE_H

#include "err.h"

#include <stddef.h>

/* Environment variable that picks the device when `select` is NULL. */
#define CD_CL_DEVICE_ENV "CONVD_OPENCL_DEVICE"

struct cd_cl_backend;

/* Writes one line per OpenCL device into buf (borrowed, NUL-terminated):
 * "P:D  GPU|CPU|ACC  name  (platform, driver DRV, N compute units)".
 * "no OpenCL platform" is not an error: buf then says so. Returns CD_ERANGE
 * (buf holds what fits) when buf is too small, CD_EDEVICE on OpenCL failure. */
int cd_cl_list_devices(char *buf, size_t len, struct cd_err *err);

/* Picks the device named by `select` ("auto", "gpu", "cpu" or "P:D"; NULL
 * means $CONVD_OPENCL_DEVICE, else "auto") and fills be->platform, device,
 * is_gpu, compute_units, max_wg, local_mem, device_name, driver and
 * platform_name. Creates nothing. The error message lists the devices that
 * exist when the choice is invalid. */
int cd_cl_device_select(struct cd_cl_backend *be, const char *select,
                        struct cd_err *err);

#endif
