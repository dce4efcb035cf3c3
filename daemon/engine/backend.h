/* backend.h — the device interface: a small table of function pointers, so a
 * second device type is a new file, not a rewrite (cf. ggml_backend_i).
 * Two implementations: "ref" (plain C, the reference every kernel is tested
 * against) and "opencl" (GPU or CPU through POCL). A backend owns one arena
 * buffer for activations and one weight pool, both addressed in floats. */
#ifndef CD_BACKEND_H
#define CD_BACKEND_H

#include "err.h"
#include "ops.h"

#include <stddef.h>

struct cd_backend;

struct cd_backend_i {
    const char *name;
    /* Allocates the arena and weight pool (sizes in floats). */
    int (*alloc)(struct cd_backend *b, size_t arena_floats, size_t wpool_floats,
                 struct cd_err *err);
    /* Copies n floats from host into the weight pool at off. */
    int (*upload_weights)(struct cd_backend *b, size_t off, const float *src,
                          size_t n, struct cd_err *err);
    /* Copies n floats between host and the arena at off. */
    int (*write)(struct cd_backend *b, size_t off, const float *src, size_t n,
                 struct cd_err *err);
    int (*read)(struct cd_backend *b, size_t off, float *dst, size_t n,
                struct cd_err *err);
    /* Runs (or enqueues) one node for `batch` samples. */
    int (*run)(struct cd_backend *b, const struct cd_exec_node *e, int batch,
               struct cd_err *err);
    /* Waits until everything enqueued has completed. */
    int (*finish)(struct cd_backend *b, struct cd_err *err);
    /* Compiles/warms whatever is needed for the node ahead of time; may be NULL. */
    int (*prepare)(struct cd_backend *b, const struct cd_exec_node *e,
                   int max_batch, struct cd_err *err);
    void (*free)(struct cd_backend *b);
    /* Optional (NULL: not offered). Eigen-CAM's device half: the value at
     * arena offset off is one sample X of shape (C, hw). Writes the channel
     * means mean_out[c] (C floats) and the Gram matrix of the centred rows,
     * gram_out[i*C + j] = sum_p (X[i,p] - mean[i]) (X[j,p] - mean[j])
     * (C*C floats, symmetric). Waits for completion; host buffers borrowed. */
    int (*gram)(struct cd_backend *b, size_t off, int C, int hw,
                float *gram_out, float *mean_out, struct cd_err *err);
};

struct cd_backend {
    const struct cd_backend_i *i;
    char desc[256];          /* human description: device name, driver */
    void *impl;
};

/* Plain-C backend: always available. *out owned. */
int cd_backend_ref_init(struct cd_backend **out, struct cd_err *err);

/* OpenCL backend. `select` is "gpu", "cpu", "auto" (prefer GPU, fall back to
 * CPU) or "P:D" (platform and device index). cache_dir may be NULL (no
 * program-binary cache). *out owned. */
int cd_backend_cl_init(struct cd_backend **out, const char *select,
                       const char *cache_dir, struct cd_err *err);

void cd_backend_free(struct cd_backend *b); /* NULL ok */

#endif
