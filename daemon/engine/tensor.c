/* tensor.c — shape helpers, dtype tables and half-precision conversion.
 * Pure functions only: no allocation, no I/O. */
#include "tensor.h"

#include <stdio.h>
#include <string.h>

#define NUMEL_MAX ((int64_t)1 << 40)

int64_t cd_shape_numel(const struct cd_shape *s)
{
    if (s->ndim < 0 || s->ndim > CD_MAX_DIMS)
        return -1;
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        int64_t d = s->dim[i];
        if (d < 0 || (d > 0 && n > NUMEL_MAX / d))
            return -1;
        n *= d;
    }
    return n;
}

bool cd_shape_eq(const struct cd_shape *a, const struct cd_shape *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->dim[i] != b->dim[i])
            return false;
    return true;
}

char *cd_shape_str(const struct cd_shape *s, char *buf, size_t len)
{
    size_t used = 0;
    if (!len)
        return buf;
    buf[0] = 0;
    used += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < s->ndim && i < CD_MAX_DIMS && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld",
                                 i ? ", " : "", (long long)s->dim[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

struct cd_shape cd_shape_make(int ndim, const int64_t *dims)
{
    struct cd_shape s = { .ndim = ndim };
    for (int i = 0; i < ndim && i < CD_MAX_DIMS; i++)
        s.dim[i] = dims[i];
    return s;
}

static const struct {
    const char *name;
    size_t size;
} dtypes[CD_DTYPE_COUNT] = {
    [CD_DTYPE_F32] = { "F32", 4 },
    [CD_DTYPE_F16] = { "F16", 2 },
    [CD_DTYPE_BF16] = { "BF16", 2 },
};

size_t cd_dtype_size(enum cd_dtype t)
{
    return (unsigned)t < CD_DTYPE_COUNT ? dtypes[t].size : 0;
}

const char *cd_dtype_name(enum cd_dtype t)
{
    return (unsigned)t < CD_DTYPE_COUNT ? dtypes[t].name : "?";
}

int cd_dtype_parse(const char *s)
{
    for (int i = 0; i < CD_DTYPE_COUNT; i++)
        if (!strcmp(s, dtypes[i].name))
            return i;
    return -1;
}

bool cd_size_mul(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

bool cd_size_add(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

static float bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float cd_bf16_to_f32(uint16_t h)
{
    return bits_to_f32((uint32_t)h << 16);
}

float cd_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0) {
        if (man == 0)
            return bits_to_f32(sign);
        /* subnormal: renormalise */
        exp = 127 - 15 + 1;
        while (!(man & 0x400)) {
            man <<= 1;
            exp--;
        }
        man &= 0x3ff;
        return bits_to_f32(sign | (exp << 23) | (man << 13));
    }
    if (exp == 31)
        return bits_to_f32(sign | 0x7f800000u | (man << 13));
    return bits_to_f32(sign | ((exp + 127 - 15) << 23) | (man << 13));
}

uint16_t cd_f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    int32_t exp = (int32_t)((u >> 23) & 0xff) - 127 + 15;
    uint32_t man = u & 0x7fffff;
    if (((u >> 23) & 0xff) == 0xff)
        return sign | 0x7c00 | (man ? 0x200 : 0);
    if (exp >= 31)
        return sign | 0x7c00;
    if (exp <= 0) {
        if (exp < -10)
            return sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return sign | (uint16_t)half;
    }
    uint32_t half = ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
        half++;
    return sign | (uint16_t)half;
}
