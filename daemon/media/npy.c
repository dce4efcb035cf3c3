/* npy.c — reads and writes NumPy .npy float arrays: magic, version, the
 * Python-literal header dict (descr, fortran_order, shape), exact data
 * length. Must not trust any length or dimension before checking it, and
 * must not abort on any input. Assumes a little-endian host. */
#include "npy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "npy.c assumes a little-endian host");

#define NPY_DIM_MAX ((int64_t)1 << 40)

static const char MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

struct cursor {
    const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
                             *c->p == '\r'))
        c->p++;
}

static int eat(struct cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string without escapes into out (NUL-terminated). */
static int parse_str(struct cursor *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return 0;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap)
            return 0;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return 0;
    c->p++;
    out[n] = '\0';
    return 1;
}

static int parse_bool(struct cursor *c, int *v)
{
    skip_ws(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && !memcmp(c->p, "True", 4)) {
        c->p += 4;
        *v = 1;
        return 1;
    }
    if (left >= 5 && !memcmp(c->p, "False", 5)) {
        c->p += 5;
        *v = 0;
        return 1;
    }
    return 0;
}

/* "(2, 3)", "(5,)", "()"; dims in [0, 2^40]. Returns a CD status. */
static int parse_shape(struct cursor *c, struct cd_shape *s, struct cd_err *err)
{
    s->ndim = 0;
    if (!eat(c, '('))
        return cd_err_set(err, CD_EFORMAT, "npy: shape is not a tuple");
    for (;;) {
        if (eat(c, ')'))
            return CD_OK;
        skip_ws(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return cd_err_set(err, CD_EFORMAT, "npy: bad shape entry");
        int64_t d = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            d = d * 10 + (*c->p++ - '0');
            if (d > NPY_DIM_MAX)
                return cd_err_set(err, CD_ERANGE, "npy: dimension too large");
        }
        if (c->p < c->end && *c->p == 'L') /* Python 2 long */
            c->p++;
        if (s->ndim >= CD_MAX_DIMS)
            return cd_err_set(err, CD_EUNSUPPORTED,
                              "npy: more than %d dimensions", CD_MAX_DIMS);
        s->dim[s->ndim++] = d;
        if (!eat(c, ',')) {
            if (eat(c, ')'))
                return CD_OK;
            return cd_err_set(err, CD_EFORMAT, "npy: bad shape tuple");
        }
    }
}

/* Parses the header dict; *esize is 4 or 8. */
static int parse_header(const char *h, size_t n, struct cd_shape *shape,
                        int *esize, struct cd_err *err)
{
    struct cursor c = {h, h + n};
    int seen_descr = 0, seen_order = 0, seen_shape = 0, rc;
    char key[32], descr[32];

    if (!eat(&c, '{'))
        return cd_err_set(err, CD_EFORMAT, "npy: header is not a dict");
    for (;;) {
        if (eat(&c, '}'))
            break;
        if (!parse_str(&c, key, sizeof key) || !eat(&c, ':'))
            return cd_err_set(err, CD_EFORMAT, "npy: bad header key");
        if (!strcmp(key, "descr") && !seen_descr) {
            seen_descr = 1;
            if (!parse_str(&c, descr, sizeof descr))
                return cd_err_set(err, CD_EFORMAT, "npy: bad descr");
            if (!strcmp(descr, "<f4"))
                *esize = 4;
            else if (!strcmp(descr, "<f8"))
                *esize = 8;
            else
                return cd_err_set(err, CD_EUNSUPPORTED,
                                  "npy: dtype '%s' not supported (need <f4 or <f8)",
                                  descr);
        } else if (!strcmp(key, "fortran_order") && !seen_order) {
            int fo;
            seen_order = 1;
            if (!parse_bool(&c, &fo))
                return cd_err_set(err, CD_EFORMAT, "npy: bad fortran_order");
            if (fo)
                return cd_err_set(err, CD_EUNSUPPORTED,
                                  "npy: fortran_order arrays not supported");
        } else if (!strcmp(key, "shape") && !seen_shape) {
            seen_shape = 1;
            if ((rc = parse_shape(&c, shape, err)) != CD_OK)
                return rc;
        } else {
            return cd_err_set(err, CD_EFORMAT,
                              "npy: unknown or duplicate header key '%s'", key);
        }
        if (!eat(&c, ',')) {
            if (eat(&c, '}'))
                break;
            return cd_err_set(err, CD_EFORMAT, "npy: bad header dict");
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        return cd_err_set(err, CD_EFORMAT, "npy: trailing bytes after header");
    if (!seen_descr || !seen_order || !seen_shape)
        return cd_err_set(err, CD_EFORMAT,
                          "npy: header lacks descr, fortran_order or shape");
    return CD_OK;
}

int cd_npy_parse(const void *buf, size_t len, struct cd_shape *shape,
                 float **data, struct cd_err *err)
{
    const uint8_t *b = buf;
    struct cd_shape s = {0};
    int esize = 0, rc;
    size_t hlen, hoff;

    if (data)
        *data = NULL;
    if (!shape || !data || (!buf && len))
        return cd_err_set(err, CD_EINVAL, "npy: bad arguments");
    if (len < 10 || memcmp(b, MAGIC, sizeof MAGIC))
        return cd_err_set(err, CD_EFORMAT, "npy: bad magic");
    if (b[6] == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        hoff = 10;
    } else if (b[6] == 2 || b[6] == 3) {
        if (len < 12)
            return cd_err_set(err, CD_EFORMAT, "npy: truncated header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
               (size_t)b[11] << 24;
        hoff = 12;
    } else {
        return cd_err_set(err, CD_EUNSUPPORTED, "npy: format version %d.%d",
                          b[6], b[7]);
    }
    if (hlen > len - hoff)
        return cd_err_set(err, CD_EFORMAT, "npy: header of %zu bytes exceeds file",
                          hlen);
    rc = parse_header((const char *)b + hoff, hlen, &s, &esize, err);
    if (rc != CD_OK)
        return rc;

    int64_t numel = cd_shape_numel(&s);
    size_t want, out_bytes, have = len - hoff - hlen;
    if (numel < 0 || !cd_size_mul((size_t)numel, (size_t)esize, &want) ||
        !cd_size_mul((size_t)numel, sizeof(float), &out_bytes))
        return cd_err_set(err, CD_ERANGE, "npy: shape too large");
    if (have != want)
        return cd_err_set(err, CD_EFORMAT,
                          "npy: data is %zu bytes, header says %zu", have, want);
    float *out = malloc(out_bytes ? out_bytes : sizeof(float));
    if (!out)
        return cd_err_set(err, CD_ENOMEM, "npy: out of memory (%zu bytes)",
                          out_bytes);
    const uint8_t *src = b + hoff + hlen;
    if (esize == 4) {
        memcpy(out, src, out_bytes);
    } else {
        for (size_t i = 0; i < (size_t)numel; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            out[i] = (float)d;
        }
    }
    *shape = s;
    *data = out;
    return CD_OK;
}

int cd_npy_load(const char *path, struct cd_shape *shape, float **data,
                struct cd_err *err)
{
    int rc;
    struct stat st;
    uint8_t *buf = NULL;
    FILE *f = NULL;

    if (data)
        *data = NULL;
    if (!path)
        return cd_err_set(err, CD_EINVAL, "npy: no path");
    if (!(f = fopen(path, "rb"))) {
        rc = cd_err_set(err, CD_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = cd_err_set(err, CD_EIO, "%s: not a regular file", path);
        goto fail;
    }
    if ((uint64_t)st.st_size > CD_NPY_MAX_FILE_BYTES) {
        rc = cd_err_set(err, CD_ERANGE, "%s: file too large", path);
        goto fail;
    }
    size_t len = (size_t)st.st_size;
    if (!(buf = malloc(len ? len : 1))) {
        rc = cd_err_set(err, CD_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    if (len && fread(buf, 1, len, f) != len) {
        rc = cd_err_set(err, CD_EIO, "%s: short read", path);
        goto fail;
    }
    rc = cd_npy_parse(buf, len, shape, data, err);
    if (rc != CD_OK)
        cd_err_wrap(err, "%s", path);
fail:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

int cd_npy_save(const char *path, const struct cd_shape *shape,
                const float *data, struct cd_err *err)
{
    char hdr[256];
    int n, rc = CD_OK;
    FILE *f = NULL;

    if (!path || !shape || shape->ndim < 0 || shape->ndim > CD_MAX_DIMS)
        return cd_err_set(err, CD_EINVAL, "npy save: bad arguments");
    int64_t numel = cd_shape_numel(shape);
    size_t bytes;
    if (numel < 0 || !cd_size_mul((size_t)numel, sizeof(float), &bytes))
        return cd_err_set(err, CD_EINVAL, "npy save: bad shape");
    if (numel > 0 && !data)
        return cd_err_set(err, CD_EINVAL, "npy save: no data");

    n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape->ndim; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%lld,%s",
                      (long long)shape->dim[i],
                      i + 1 < shape->ndim ? " " : "");
    if (shape->ndim > 1) /* Python writes "(2, 3)" but "(5,)" */
        n--;
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    /* pad with spaces so that magic + len + header is a multiple of 64 */
    size_t total = ((size_t)n + 10 + 1 + 63) / 64 * 64;
    size_t hlen = total - 10;
    if (hlen >= sizeof hdr)
        return cd_err_set(err, CD_EINVAL, "npy save: header too long");
    memset(hdr + n, ' ', hlen - (size_t)n - 1);
    hdr[hlen - 1] = '\n';

    uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                       (uint8_t)(hlen & 0xFF), (uint8_t)(hlen >> 8)};
    if (!(f = fopen(path, "wb")))
        return cd_err_set(err, CD_EIO, "%s: %s", path, strerror(errno));
    if (fwrite(pre, 1, sizeof pre, f) != sizeof pre ||
        fwrite(hdr, 1, hlen, f) != hlen ||
        (bytes && fwrite(data, 1, bytes, f) != bytes))
        rc = cd_err_set(err, CD_EIO, "%s: write failed", path);
    if (fclose(f) != 0 && rc == CD_OK)
        rc = cd_err_set(err, CD_EIO, "%s: close failed", path);
    return rc;
}
