/* npy.h — NumPy .npy arrays of float32 (read and write), for raw tensor
 * inputs and test fixtures. Reading accepts format versions 1.0, 2.0 and
 * 3.0, dtype '<f4' or '<f8' (converted to float32), C order only, and
 * refuses anything malformed with a message; nothing here aborts. */
#ifndef CD_MEDIA_NPY_H
#define CD_MEDIA_NPY_H

#include <stddef.h>

#include "engine/err.h"
#include "engine/tensor.h"

/* cd_npy_load refuses larger files. */
#define CD_NPY_MAX_FILE_BYTES ((size_t)1 << 30)

/* Parses a whole .npy image held in buf. On success *shape is the array's
 * shape (ndim 0 for a scalar) and *data an owned float32 buffer of
 * numel(shape) elements (never NULL, even when numel is 0). The data must
 * be exactly as long as the header says. On failure *data is NULL. */
int cd_npy_parse(const void *buf, size_t len, struct cd_shape *shape,
                 float **data, struct cd_err *err);

/* Reads path (at most CD_NPY_MAX_FILE_BYTES) and parses it as above. */
int cd_npy_load(const char *path, struct cd_shape *shape, float **data,
                struct cd_err *err);

/* Writes data, (shape) in C order, as a version 1.0 '<f4' .npy file. */
int cd_npy_save(const char *path, const struct cd_shape *shape,
                const float *data, struct cd_err *err);

#endif
