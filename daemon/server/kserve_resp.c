/* kserve_resp.c — builds KServe v2 infer responses: the JSON document with
 * each output's data written as the shortest decimal that reads back as the
 * same float, or the JSON header followed by raw little-endian FP32 for
 * binary outputs. Pure formatting: no HTTP, and it never reads past the
 * buffers it is given. */
#include "server/kserve.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor.h"

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static bool reserve(struct buf *b, size_t extra)
{
    size_t need;
    if (b->oom || !cd_size_add(b->len, extra, &need) || !cd_size_add(need, 1, &need)) {
        b->oom = true;
        return false;
    }
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void put(struct buf *b, const void *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string literal; s is UTF-8 (names and ids were validated). */
static void put_str(struct buf *b, const char *s)
{
    puts_(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            put(b, e, 2);
        } else if (*p < 0x20) {
            putf(b, "\\u%04x", *p);
        } else {
            put(b, p, 1);
        }
    }
    puts_(b, "\"");
}

/* Shortest "%.Ng" that reads back as the same float; null if not finite. */
static void put_float(struct buf *b, float f)
{
    if (!isfinite(f)) {
        puts_(b, "null");
        return;
    }
    char tmp[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
        if (strtof(tmp, NULL) == f)
            break;
    }
    puts_(b, tmp);
}

static void put_output(struct buf *b, const struct cd_kserve_out *o)
{
    puts_(b, "{\"name\":");
    put_str(b, o->name ? o->name : "");
    puts_(b, ",\"datatype\":\"FP32\",\"shape\":[");
    for (int d = 0; d < o->ndim; d++)
        putf(b, "%s%lld", d ? "," : "", (long long)o->shape[d]);
    puts_(b, "]");
    if (o->binary) {
        putf(b, ",\"parameters\":{\"binary_data_size\":%zu}}", o->numel * sizeof(float));
        return;
    }
    puts_(b, ",\"data\":[");
    for (size_t i = 0; i < o->numel && !b->oom; i++) {
        if (i)
            puts_(b, ",");
        put_float(b, o->data[i]);
    }
    puts_(b, "]}");
}

int cd_kserve_response(const char *model, const char *version, const char *id,
                       const struct cd_kserve_out *outs, int n_outs,
                       char **body, size_t *len, size_t *json_len,
                       struct cd_err *err)
{
    struct buf b = {0};
    bool any_binary = false;
    *body = NULL;
    *len = 0;
    *json_len = 0;
    for (int i = 0; i < n_outs; i++) {
        if (outs[i].ndim < 0 || outs[i].ndim > CD_KSERVE_MAX_DIMS ||
            outs[i].numel > SIZE_MAX / sizeof(float) / 16)
            return cd_err_set(err, CD_EINVAL, "output %d: bad shape", i);
        any_binary |= outs[i].binary;
    }
    puts_(&b, "{\"model_name\":");
    put_str(&b, model ? model : "");
    puts_(&b, ",\"model_version\":");
    put_str(&b, version ? version : "1");
    if (id) {
        puts_(&b, ",\"id\":");
        put_str(&b, id);
    }
    puts_(&b, ",\"outputs\":[");
    for (int i = 0; i < n_outs; i++) {
        if (i)
            puts_(&b, ",");
        put_output(&b, &outs[i]);
    }
    puts_(&b, "]}");
    size_t hdr = b.len;
    if (any_binary) {
        for (int i = 0; i < n_outs; i++)
            if (outs[i].binary && outs[i].numel)
                put(&b, outs[i].data, outs[i].numel * sizeof(float));
    }
    if (b.oom) {
        free(b.p);
        return cd_err_set(err, CD_ENOMEM, "out of memory building the response");
    }
    *body = b.p;
    *len = b.len;
    *json_len = any_binary ? hdr : 0;
    return CD_OK;
}
