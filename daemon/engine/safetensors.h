/* safetensors.h — a validated, read-only view of a .safetensors file: the
 * file is mmap'ed once and every tensor points into the mapping. Parsing
 * checks every offset, shape and dtype before anything is exposed; a hostile
 * file yields a message naming the tensor, never a crash. */
#ifndef CD_SAFETENSORS_H
#define CD_SAFETENSORS_H

#include "err.h"
#include "tensor.h"

#include <stddef.h>

#define CD_ST_HEADER_MAX ((size_t)100 * 1024 * 1024) /* bytes of JSON header */

struct cd_st_tensor {
    char *name;            /* owned */
    enum cd_dtype dtype;   /* F32, F16 or BF16 */
    struct cd_shape shape; /* as stored; ndim may be 0 (scalar) */
    const void *data;      /* borrowed: points into the mapping or buffer */
    size_t nbytes;         /* numel(shape) * dtype size == end - begin */
};

struct cd_safetensors {
    void *map;             /* owned mapping, NULL when parsed from a buffer */
    size_t map_len;
    int n;                 /* tensors, sorted by name (__metadata__ skipped) */
    struct cd_st_tensor *t;
};

/* Maps path read-only and parses it. *out is owned: cd_safetensors_free.
 * Messages are prefixed with the path. */
int cd_safetensors_open(const char *path, struct cd_safetensors **out,
                        struct cd_err *err);
/* Same validation on a memory buffer, which is borrowed: it must outlive
 * *out (tensor data points into it). */
int cd_safetensors_parse_buffer(const void *buf, size_t len,
                                struct cd_safetensors **out,
                                struct cd_err *err);
/* Tensor named name, or NULL. Binary search. */
const struct cd_st_tensor *cd_safetensors_find(const struct cd_safetensors *st,
                                               const char *name);
/* Frees names and table, unmaps if mapped; NULL ok. */
void cd_safetensors_free(struct cd_safetensors *st);

#endif
