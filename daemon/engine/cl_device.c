/* cl_device.c — OpenCL error names, device enumeration and device selection
 * ("auto", "gpu", "cpu", "P:D"); fills the device facts of a cd_cl_backend.
 * It creates no context, queue or program (backend_cl.c and cl_program.c do)
 * and never aborts: every OpenCL failure becomes a CD_EDEVICE message. */
#include "cl_device.h"

#include "cl_backend.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64 /* per platform */
#define PLATFORM_NOT_FOUND_KHR (-1001)

const char *cd_cl_strerror(cl_int rc)
{
#define E(x) { x, #x }
    static const struct { cl_int rc; const char *name; } tab[] = {
        E(CL_SUCCESS), E(CL_DEVICE_NOT_FOUND), E(CL_DEVICE_NOT_AVAILABLE),
        E(CL_COMPILER_NOT_AVAILABLE), E(CL_MEM_OBJECT_ALLOCATION_FAILURE),
        E(CL_OUT_OF_RESOURCES), E(CL_OUT_OF_HOST_MEMORY),
        E(CL_PROFILING_INFO_NOT_AVAILABLE), E(CL_MEM_COPY_OVERLAP),
        E(CL_IMAGE_FORMAT_MISMATCH), E(CL_IMAGE_FORMAT_NOT_SUPPORTED),
        E(CL_BUILD_PROGRAM_FAILURE), E(CL_MAP_FAILURE),
        E(CL_MISALIGNED_SUB_BUFFER_OFFSET),
        E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST),
        E(CL_COMPILE_PROGRAM_FAILURE), E(CL_LINKER_NOT_AVAILABLE),
        E(CL_LINK_PROGRAM_FAILURE), E(CL_DEVICE_PARTITION_FAILED),
        E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE), E(CL_INVALID_VALUE),
        E(CL_INVALID_DEVICE_TYPE), E(CL_INVALID_PLATFORM),
        E(CL_INVALID_DEVICE), E(CL_INVALID_CONTEXT),
        E(CL_INVALID_QUEUE_PROPERTIES), E(CL_INVALID_COMMAND_QUEUE),
        E(CL_INVALID_HOST_PTR), E(CL_INVALID_MEM_OBJECT),
        E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR), E(CL_INVALID_IMAGE_SIZE),
        E(CL_INVALID_SAMPLER), E(CL_INVALID_BINARY),
        E(CL_INVALID_BUILD_OPTIONS), E(CL_INVALID_PROGRAM),
        E(CL_INVALID_PROGRAM_EXECUTABLE), E(CL_INVALID_KERNEL_NAME),
        E(CL_INVALID_KERNEL_DEFINITION), E(CL_INVALID_KERNEL),
        E(CL_INVALID_ARG_INDEX), E(CL_INVALID_ARG_VALUE),
        E(CL_INVALID_ARG_SIZE), E(CL_INVALID_KERNEL_ARGS),
        E(CL_INVALID_WORK_DIMENSION), E(CL_INVALID_WORK_GROUP_SIZE),
        E(CL_INVALID_WORK_ITEM_SIZE), E(CL_INVALID_GLOBAL_OFFSET),
        E(CL_INVALID_EVENT_WAIT_LIST), E(CL_INVALID_EVENT),
        E(CL_INVALID_OPERATION), E(CL_INVALID_GL_OBJECT),
        E(CL_INVALID_BUFFER_SIZE), E(CL_INVALID_MIP_LEVEL),
        E(CL_INVALID_GLOBAL_WORK_SIZE), E(CL_INVALID_PROPERTY),
        E(CL_INVALID_IMAGE_DESCRIPTOR), E(CL_INVALID_COMPILER_OPTIONS),
        E(CL_INVALID_LINKER_OPTIONS), E(CL_INVALID_DEVICE_PARTITION_COUNT),
        /* OpenCL 2.x/3.0 and the ICD loader, spelled out: the 1.2 headers
         * we target do not define them. */
        { -69, "CL_INVALID_PIPE_SIZE" },
        { -70, "CL_INVALID_DEVICE_QUEUE" },
        { -71, "CL_INVALID_SPEC_ID" },
        { -72, "CL_MAX_SIZE_RESTRICTION_EXCEEDED" },
        { -1000, "CL_INVALID_GL_SHAREGROUP_REFERENCE_KHR" },
        { PLATFORM_NOT_FOUND_KHR, "CL_PLATFORM_NOT_FOUND_KHR" },
    };
#undef E
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].rc == rc)
            return tab[i].name;
    return "CL_UNKNOWN_ERROR";
}

int cd_cl_check(cl_int rc, const char *call, struct cd_err *err)
{
    if (rc == CL_SUCCESS)
        return CD_OK;
    return cd_err_set(err, CD_EDEVICE, "%s failed: %s (%d)",
                      call ? call : "OpenCL call", cd_cl_strerror(rc), (int)rc);
}

/* Every (platform, device) pair the ICD loader reports. */
struct dev {
    cl_platform_id p;
    cl_device_id d;
    int pi, di;
    cl_device_type type;
    int usable; /* available and with a compiler */
};

struct devlist {
    int n, n_platforms;
    struct dev v[MAX_PLATFORMS * MAX_DEVICES];
    int n_dev[MAX_PLATFORMS]; /* devices per platform */
};

/* Copies the string info into out (truncated, trailing blanks removed). */
static void copy_info(const char *src, size_t n, char *out, size_t len)
{
    if (len == 0)
        return;
    size_t k = strnlen(src, n);
    if (k >= len)
        k = len - 1;
    memcpy(out, src, k);
    while (k > 0 && isspace((unsigned char)out[k - 1]))
        k--;
    out[k] = '\0';
}

static int dev_str(cl_device_id d, cl_device_info what, char *out, size_t len,
                   struct cd_err *err)
{
    size_t n = 0;
    char *tmp = NULL;
    cl_int rc = clGetDeviceInfo(d, what, 0, NULL, &n);
    if (rc == CL_SUCCESS && (n == 0 || n > 65536))
        rc = CL_INVALID_VALUE;
    if (rc == CL_SUCCESS && !(tmp = malloc(n)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    if (rc == CL_SUCCESS)
        rc = clGetDeviceInfo(d, what, n, tmp, NULL);
    if (rc == CL_SUCCESS)
        copy_info(tmp, n, out, len);
    free(tmp);
    return cd_cl_check(rc, "clGetDeviceInfo", err);
}

static int platform_str(cl_platform_id p, cl_platform_info what, char *out,
                        size_t len, struct cd_err *err)
{
    size_t n = 0;
    char *tmp = NULL;
    cl_int rc = clGetPlatformInfo(p, what, 0, NULL, &n);
    if (rc == CL_SUCCESS && (n == 0 || n > 65536))
        rc = CL_INVALID_VALUE;
    if (rc == CL_SUCCESS && !(tmp = malloc(n)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    if (rc == CL_SUCCESS)
        rc = clGetPlatformInfo(p, what, n, tmp, NULL);
    if (rc == CL_SUCCESS)
        copy_info(tmp, n, out, len);
    free(tmp);
    return cd_cl_check(rc, "clGetPlatformInfo", err);
}

static int enumerate(struct devlist *dl, struct cd_err *err)
{
    cl_platform_id ps[MAX_PLATFORMS];
    cl_uint np = 0;
    dl->n = 0;
    dl->n_platforms = 0;
    cl_int rc = clGetPlatformIDs(MAX_PLATFORMS, ps, &np);
    if (rc == PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && np == 0))
        return CD_OK; /* no ICD installed: an empty list, not a failure */
    if (rc != CL_SUCCESS)
        return cd_cl_check(rc, "clGetPlatformIDs", err);
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    dl->n_platforms = (int)np;
    for (cl_uint pi = 0; pi < np; pi++) {
        cl_device_id ds[MAX_DEVICES];
        cl_uint nd = 0;
        rc = clGetDeviceIDs(ps[pi], CL_DEVICE_TYPE_ALL, MAX_DEVICES, ds, &nd);
        if (rc == CL_DEVICE_NOT_FOUND)
            nd = 0;
        else if (rc != CL_SUCCESS)
            return cd_cl_check(rc, "clGetDeviceIDs", err);
        if (nd > MAX_DEVICES)
            nd = MAX_DEVICES;
        dl->n_dev[pi] = (int)nd;
        for (cl_uint di = 0; di < nd; di++) {
            struct dev *v = &dl->v[dl->n++];
            cl_bool avail = CL_FALSE, comp = CL_FALSE;
            v->p = ps[pi];
            v->d = ds[di];
            v->pi = (int)pi;
            v->di = (int)di;
            v->type = 0;
            rc = clGetDeviceInfo(ds[di], CL_DEVICE_TYPE, sizeof v->type,
                                 &v->type, NULL);
            if (rc == CL_SUCCESS)
                rc = clGetDeviceInfo(ds[di], CL_DEVICE_AVAILABLE,
                                     sizeof avail, &avail, NULL);
            if (rc == CL_SUCCESS)
                rc = clGetDeviceInfo(ds[di], CL_DEVICE_COMPILER_AVAILABLE,
                                     sizeof comp, &comp, NULL);
            if (rc != CL_SUCCESS)
                return cd_cl_check(rc, "clGetDeviceInfo", err);
            v->usable = avail && comp;
        }
    }
    return CD_OK;
}

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "ACC";
    return "OTHER";
}

/* Appends to buf at *pos; returns 0 once buf is full (output truncated). */
static int append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    if (*pos >= len)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return 0;
    if ((size_t)n >= len - *pos) {
        *pos = len;
        return 0;
    }
    *pos += (size_t)n;
    return 1;
}

/* One line per device (long form) or "P:D TYPE name; ..." (short form, for
 * error messages). Returns 0 when truncated. */
static int format_list(const struct devlist *dl, int brief, char *buf,
                       size_t len)
{
    size_t pos = 0;
    int ok = 1;
    if (len == 0)
        return 0;
    buf[0] = '\0';
    if (dl->n == 0)
        return append(buf, len, &pos, "%s",
                      dl->n_platforms == 0
                          ? "no OpenCL platform (install an ICD such as "
                            "pocl-opencl-icd)"
                          : "no OpenCL device on any platform");
    for (int i = 0; i < dl->n && ok; i++) {
        const struct dev *v = &dl->v[i];
        char name[128] = "?", plat[128] = "?", drv[64] = "?";
        cl_uint cu = 0;
        dev_str(v->d, CL_DEVICE_NAME, name, sizeof name, NULL);
        if (brief) {
            ok = append(buf, len, &pos, "%s%d:%d %s %s%s", i ? "; " : "",
                        v->pi, v->di, type_name(v->type), name,
                        v->usable ? "" : " (unusable)");
            continue;
        }
        platform_str(v->p, CL_PLATFORM_NAME, plat, sizeof plat, NULL);
        dev_str(v->d, CL_DRIVER_VERSION, drv, sizeof drv, NULL);
        clGetDeviceInfo(v->d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu,
                        NULL);
        ok = append(buf, len, &pos,
                    "%d:%d  %-5s %s  (%s, driver %s, %u compute units%s)\n",
                    v->pi, v->di, type_name(v->type), name, plat, drv,
                    (unsigned)cu,
                    v->usable ? "" : ", not available or no compiler");
    }
    return ok;
}

int cd_cl_list_devices(char *buf, size_t len, struct cd_err *err)
{
    if (!buf || len == 0)
        return cd_err_set(err, CD_EINVAL, "list devices: no buffer");
    buf[0] = '\0';
    struct devlist *dl = malloc(sizeof *dl);
    if (!dl)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    int rc = enumerate(dl, err);
    if (rc == CD_OK && !format_list(dl, 0, buf, len))
        rc = cd_err_set(err, CD_ERANGE, "device list truncated to %zu bytes",
                        len);
    free(dl);
    return rc;
}

/* "P:D" with two decimal indices; returns 0 when s is not of that form. */
static int parse_pd(const char *s, int *p, int *d)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return 0;
    long a = strtol(s, &end, 10);
    if (*end != ':' || !isdigit((unsigned char)end[1]))
        return 0;
    long b = strtol(end + 1, &end, 10);
    if (*end != '\0' || a > 9999 || b > 9999)
        return 0;
    *p = (int)a;
    *d = (int)b;
    return 1;
}

/* First usable device of the given type (0 = any), or NULL. */
static const struct dev *first_of(const struct devlist *dl, cl_device_type t)
{
    for (int i = 0; i < dl->n; i++)
        if (dl->v[i].usable && (t == 0 || (dl->v[i].type & t)))
            return &dl->v[i];
    return NULL;
}

static int fill_facts(struct cd_cl_backend *be, const struct dev *v,
                      struct cd_err *err)
{
    cl_ulong local = 0;
    size_t wg = 0;
    cl_uint cu = 0;
    be->platform = v->p;
    be->device = v->d;
    be->is_gpu = (v->type & CL_DEVICE_TYPE_GPU) != 0;
    int rc = dev_str(v->d, CL_DEVICE_NAME, be->device_name,
                     sizeof be->device_name, err);
    if (rc == CD_OK)
        rc = dev_str(v->d, CL_DRIVER_VERSION, be->driver, sizeof be->driver,
                     err);
    if (rc == CD_OK)
        rc = platform_str(v->p, CL_PLATFORM_NAME, be->platform_name,
                          sizeof be->platform_name, err);
    if (rc != CD_OK)
        return rc;
    cl_int crc = clGetDeviceInfo(v->d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu,
                                 &cu, NULL);
    if (crc == CL_SUCCESS)
        crc = clGetDeviceInfo(v->d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg,
                              &wg, NULL);
    if (crc == CL_SUCCESS)
        crc = clGetDeviceInfo(v->d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local,
                              &local, NULL);
    if (crc != CL_SUCCESS)
        return cd_cl_check(crc, "clGetDeviceInfo", err);
    be->compute_units = cu;
    be->max_wg = wg ? wg : 1;
    be->local_mem = (size_t)local;
    return CD_OK;
}

int cd_cl_device_select(struct cd_cl_backend *be, const char *select,
                        struct cd_err *err)
{
    char what[96];
    const char *sel = select;
    if (!be)
        return cd_err_set(err, CD_EINVAL, "device select: no backend");
    int from_env = 0;
    if (!sel) {
        sel = getenv(CD_CL_DEVICE_ENV);
        from_env = sel && *sel;
    }
    if (!sel || !*sel)
        sel = "auto";
    if (from_env)
        snprintf(what, sizeof what, "%s=\"%.40s\"", CD_CL_DEVICE_ENV, sel);
    else
        snprintf(what, sizeof what, "OpenCL device \"%.40s\"", sel);

    struct devlist *dl = malloc(sizeof *dl);
    if (!dl)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    char list[320];
    const struct dev *v = NULL;
    int p = 0, d = 0, rc = enumerate(dl, err);
    if (rc != CD_OK)
        goto fail;
    format_list(dl, 1, list, sizeof list);
    if (strcasecmp(sel, "auto") == 0) {
        if (!(v = first_of(dl, CL_DEVICE_TYPE_GPU)) &&
            !(v = first_of(dl, CL_DEVICE_TYPE_CPU)))
            v = first_of(dl, 0);
        if (!v)
            rc = cd_err_set(err, CD_EDEVICE, "%s: no usable device (%s)",
                            what, list);
    } else if (strcasecmp(sel, "gpu") == 0 || strcasecmp(sel, "cpu") == 0) {
        int gpu = strcasecmp(sel, "gpu") == 0;
        v = first_of(dl, gpu ? CL_DEVICE_TYPE_GPU : CL_DEVICE_TYPE_CPU);
        if (!v)
            rc = cd_err_set(err, CD_EDEVICE, "%s: no usable %s device (%s)",
                            what, gpu ? "GPU" : "CPU", list);
    } else if (parse_pd(sel, &p, &d)) {
        if (p >= dl->n_platforms)
            rc = cd_err_set(err, CD_EINVAL,
                            "%s: no platform %d (%d platform%s; devices: %s)",
                            what, p, dl->n_platforms,
                            dl->n_platforms == 1 ? "" : "s", list);
        else if (d >= dl->n_dev[p])
            rc = cd_err_set(err, CD_EINVAL,
                            "%s: platform %d has no device %d (%d device%s; "
                            "devices: %s)", what, p, d, dl->n_dev[p],
                            dl->n_dev[p] == 1 ? "" : "s", list);
        for (int i = 0; rc == CD_OK && i < dl->n; i++)
            if (dl->v[i].pi == p && dl->v[i].di == d)
                v = &dl->v[i];
        if (rc == CD_OK && v && !v->usable)
            rc = cd_err_set(err, CD_EDEVICE,
                            "%s: device not available or has no compiler",
                            what);
    } else {
        rc = cd_err_set(err, CD_EINVAL,
                        "%s: expected \"auto\", \"gpu\", \"cpu\" or "
                        "\"P:D\" (devices: %s)", what, list);
    }
    if (rc == CD_OK && v)
        rc = fill_facts(be, v, err);
fail:
    free(dl);
    return rc;
}
