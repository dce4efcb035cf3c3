/* tensor.h — shapes, dtypes and overflow-checked size arithmetic.
 * Shapes are row-major, outermost first. Activations are float32 on every
 * backend; F16/BF16 exist only as on-disk weight dtypes. No allocation here. */
#ifndef CD_TENSOR_H
#define CD_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_MAX_DIMS 6

enum cd_dtype {
    CD_DTYPE_F32,
    CD_DTYPE_F16,
    CD_DTYPE_BF16,
    CD_DTYPE_COUNT
};

struct cd_shape {
    int ndim;
    int64_t dim[CD_MAX_DIMS];
};

/* Element count; -1 if a dim is negative or the product overflows 2^40. */
int64_t cd_shape_numel(const struct cd_shape *s);
bool cd_shape_eq(const struct cd_shape *a, const struct cd_shape *b);
/* "[1, 3, 224, 224]" into buf (always NUL-terminated); returns buf. */
char *cd_shape_str(const struct cd_shape *s, char *buf, size_t len);
/* Builds a shape from a list; ndim <= CD_MAX_DIMS assumed by caller. */
struct cd_shape cd_shape_make(int ndim, const int64_t *dims);

/* Bytes per element; 0 for an invalid dtype. */
size_t cd_dtype_size(enum cd_dtype t);
/* "F32", "F16", "BF16" (safetensors spelling); returns -1 if unknown. */
int cd_dtype_parse(const char *s);
const char *cd_dtype_name(enum cd_dtype t);

/* Overflow-checked a*b and a+b for sizes; false on overflow. */
bool cd_size_mul(size_t a, size_t b, size_t *out);
bool cd_size_add(size_t a, size_t b, size_t *out);

/* Conversions of single values. */
float cd_f16_to_f32(uint16_t h);
float cd_bf16_to_f32(uint16_t h);
uint16_t cd_f32_to_f16(float f);

#endif
