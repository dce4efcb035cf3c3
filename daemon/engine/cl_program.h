/* cl_program.h — building the one OpenCL program from the embedded kernel
 * sources, with an on-disk program-binary cache (cl_program.c). Kernel lookup
 * and enqueue (cd_cl_kernel, cd_cl_enqueue) are declared in cl_backend.h.
 * This header does not include <CL/cl.h>. */
#ifndef CD_CL_PROGRAM_H
#define CD_CL_PROGRAM_H

#include "err.h"

#include <stddef.h>

/* No -cl-fast-relaxed-math: results must match PyTorch to 1e-4 relative. */
#define CD_CL_BUILD_OPTIONS "-cl-std=CL1.2 -cl-mad-enable"

struct cd_cl_backend;

/* Process-wide counters, for tests and metrics. */
struct cd_cl_program_stats {
    unsigned long source_builds; /* programs compiled from source */
    unsigned long cache_hits;    /* programs built from a cached binary */
    unsigned long cache_misses;  /* no cache file for the key */
    unsigned long cache_rejects; /* cache file corrupt or refused by driver */
    unsigned long cache_writes;  /* cache files written */
    unsigned long cache_write_failures; /* writes that failed (disk full, ...) */
};

/* Builds be->prog for be->device in be->ctx from every embedded source
 * (common.cl first), options CD_CL_BUILD_OPTIONS. With cache_dir != NULL the
 * binary is looked up in and saved to <cache_dir>/convd-<key>.bin (key: hash
 * of sources, options, device, driver and platform); a bad or unwritable
 * cache never fails the build. On a compile error: CD_EDEVICE with the first
 * error lines of the build log. */
int cd_cl_program_build(struct cd_cl_backend *be, const char *cache_dir,
                        struct cd_err *err);

/* Path of the cache file be's program uses under cache_dir. */
int cd_cl_program_cache_path(const struct cd_cl_backend *be,
                             const char *cache_dir, char *buf, size_t len,
                             struct cd_err *err);

void cd_cl_program_stats(struct cd_cl_program_stats *out);

/* The first failed cache write ("write DIR/...: No space left on device")
 * into buf; returns 1 if there was one, else 0 (buf ""). The build goes on
 * without caching: the daemon logs this once. */
int cd_cl_program_cache_error(char *buf, size_t len);

/* Releases every kernel cached in be->kernels, then be->prog. */
void cd_cl_program_release(struct cd_cl_backend *be);

#endif
