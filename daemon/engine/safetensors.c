/* safetensors.c — maps a .safetensors file and validates its JSON header:
 * lengths, dtypes, shapes, offsets, overlaps, duplicates. It exposes tensors
 * as borrowed pointers into the mapping; it must not convert dtypes, know any
 * model, or trust a single number from the file before checking it. */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_FMT "tensor \"%.80s\""

static int cmp_name(const void *pa, const void *pb)
{
    const struct cd_st_tensor *a = pa, *b = pb;
    return strcmp(a->name, b->name);
}

/* A tensor's byte range, sorted by begin for the overlap check. */
struct span {
    const char *begin, *end;
    int idx;
};

static int cmp_begin(const void *pa, const void *pb)
{
    const struct span *a = pa, *b = pb;
    return a->begin < b->begin ? -1 : a->begin > b->begin;
}

/* Reads a JSON integer in [0, max]; false if absent, mistyped or out of it. */
static bool get_index(const json_t *j, json_int_t max, json_int_t *out)
{
    if (!json_is_integer(j))
        return false;
    json_int_t v = json_integer_value(j);
    if (v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_entry(const char *name, json_t *e, const char *data,
                       size_t data_len, struct cd_st_tensor *t,
                       struct cd_err *err)
{
    if (!json_is_object(e))
        return cd_err_set(err, CD_EFORMAT, NAME_FMT ": entry is not an object",
                          name);
    json_t *jd = json_object_get(e, "dtype");
    json_t *js = json_object_get(e, "shape");
    json_t *jo = json_object_get(e, "data_offsets");
    if (!json_is_string(jd))
        return cd_err_set(err, CD_EFORMAT, NAME_FMT ": %s \"dtype\"", name,
                          jd ? "non-string" : "missing");
    if (!json_is_array(js))
        return cd_err_set(err, CD_EFORMAT, NAME_FMT ": %s \"shape\"", name,
                          js ? "non-array" : "missing");
    if (!json_is_array(jo) || json_array_size(jo) != 2)
        return cd_err_set(err, CD_EFORMAT,
                          NAME_FMT ": %s \"data_offsets\" (need [begin, end])",
                          name, jo ? "malformed" : "missing");
    int dt = cd_dtype_parse(json_string_value(jd));
    if (dt < 0)
        return cd_err_set(err, CD_EUNSUPPORTED,
                          NAME_FMT ": dtype \"%.16s\" is not supported "
                          "(F32, F16, BF16 only)", name,
                          json_string_value(jd));
    size_t rank = json_array_size(js);
    if (rank > CD_MAX_DIMS)
        return cd_err_set(err, CD_EFORMAT, NAME_FMT ": rank %zu exceeds %d",
                          name, rank, CD_MAX_DIMS);
    t->dtype = (enum cd_dtype)dt;
    t->shape.ndim = (int)rank;
    for (size_t i = 0; i < rank; i++) {
        json_int_t d;
        if (!get_index(json_array_get(js, i), INT64_MAX, &d))
            return cd_err_set(err, CD_EFORMAT,
                              NAME_FMT ": shape[%zu] is not a non-negative "
                              "integer", name, i);
        t->shape.dim[i] = d;
    }
    int64_t numel = cd_shape_numel(&t->shape);
    if (numel < 0 || !cd_size_mul((size_t)numel, cd_dtype_size(t->dtype),
                                  &t->nbytes))
        return cd_err_set(err, CD_EFORMAT, NAME_FMT ": shape overflows", name);
    json_int_t begin, end;
    if (!get_index(json_array_get(jo, 0), INT64_MAX, &begin) ||
        !get_index(json_array_get(jo, 1), INT64_MAX, &end))
        return cd_err_set(err, CD_EFORMAT,
                          NAME_FMT ": data_offsets are not non-negative "
                          "integers", name);
    if (begin > end)
        return cd_err_set(err, CD_EFORMAT,
                          NAME_FMT ": data_offsets reversed (%lld > %lld)",
                          name, (long long)begin, (long long)end);
    if ((uint64_t)end > data_len)
        return cd_err_set(err, CD_EFORMAT,
                          NAME_FMT ": data_offsets end %lld beyond the data "
                          "area (%zu bytes)", name, (long long)end, data_len);
    if ((uint64_t)(end - begin) != t->nbytes)
        return cd_err_set(err, CD_EFORMAT,
                          NAME_FMT ": %s shape needs %zu bytes but "
                          "data_offsets span %lld", name,
                          cd_dtype_name(t->dtype), t->nbytes,
                          (long long)(end - begin));
    t->data = data + begin;
    return CD_OK;
}

static int check_overlaps(const struct cd_safetensors *st, struct cd_err *err)
{
    if (st->n < 2)
        return CD_OK;
    struct span *sp = malloc((size_t)st->n * sizeof *sp);
    if (!sp)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    int m = 0;
    for (int i = 0; i < st->n; i++) {
        const struct cd_st_tensor *t = &st->t[i];
        if (t->nbytes) /* empty tensors occupy nothing */
            sp[m++] = (struct span){ t->data, (const char *)t->data + t->nbytes,
                                     i };
    }
    qsort(sp, (size_t)m, sizeof *sp, cmp_begin);
    int rc = CD_OK, far = 0; /* span reaching furthest so far */
    for (int k = 1; k < m; k++) {
        if (sp[k].begin < sp[far].end) {
            rc = cd_err_set(err, CD_EFORMAT,
                            NAME_FMT ": data overlaps tensor \"%.80s\"",
                            st->t[sp[k].idx].name, st->t[sp[far].idx].name);
            break;
        }
        if (sp[k].end > sp[far].end)
            far = k;
    }
    free(sp);
    return rc;
}

int cd_safetensors_parse_buffer(const void *buf, size_t len,
                                struct cd_safetensors **out,
                                struct cd_err *err)
{
    *out = NULL;
    const unsigned char *p = buf;
    if (len < 8)
        return cd_err_set(err, CD_EFORMAT,
                          "file is %zu bytes, too short for the 8-byte "
                          "header length", len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | p[i];
    if (hlen == 0)
        return cd_err_set(err, CD_EFORMAT, "header length is 0");
    if (hlen > CD_ST_HEADER_MAX)
        return cd_err_set(err, CD_EFORMAT,
                          "header length %llu exceeds the 100 MB limit",
                          (unsigned long long)hlen);
    if (hlen > len - 8)
        return cd_err_set(err, CD_EFORMAT,
                          "header length %llu is larger than the file "
                          "(%zu bytes)", (unsigned long long)hlen, len);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p + 8, (size_t)hlen,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cd_err_set(err, CD_EFORMAT, "header is not valid JSON: %s "
                          "(offset %d)", jerr.text, jerr.position);
    struct cd_safetensors *st = calloc(1, sizeof *st);
    int rc = CD_ENOMEM;
    if (!st) {
        cd_err_set(err, rc, "out of memory");
        goto fail;
    }
    if (!json_is_object(root)) {
        rc = cd_err_set(err, CD_EFORMAT, "header is not a JSON object");
        goto fail;
    }
    size_t cap = json_object_size(root);
    st->t = calloc(cap ? cap : 1, sizeof *st->t);
    if (!st->t) {
        cd_err_set(err, rc, "out of memory");
        goto fail;
    }
    const char *data = (const char *)p + 8 + hlen;
    size_t data_len = len - 8 - (size_t)hlen;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__"))
            continue;
        struct cd_st_tensor *t = &st->t[st->n];
        rc = parse_entry(key, val, data, data_len, t, err);
        if (rc)
            goto fail;
        t->name = strdup(key);
        if (!t->name) {
            rc = cd_err_set(err, CD_ENOMEM, "out of memory");
            goto fail;
        }
        st->n++;
    }
    qsort(st->t, (size_t)st->n, sizeof *st->t, cmp_name);
    for (int i = 1; i < st->n; i++) /* cannot happen with REJECT_DUPLICATES */
        if (!strcmp(st->t[i - 1].name, st->t[i].name)) {
            rc = cd_err_set(err, CD_EFORMAT, NAME_FMT ": duplicate name",
                            st->t[i].name);
            goto fail;
        }
    rc = check_overlaps(st, err);
    if (rc)
        goto fail;
    json_decref(root);
    *out = st;
    return CD_OK;
fail:
    json_decref(root);
    cd_safetensors_free(st);
    return rc;
}

int cd_safetensors_open(const char *path, struct cd_safetensors **out,
                        struct cd_err *err)
{
    *out = NULL;
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = cd_err_set(err, CD_EIO, "%s: cannot open: %s", path,
                        strerror(errno));
        return rc;
    }
    struct stat sb;
    void *map = MAP_FAILED;
    size_t len = 0;
    if (fstat(fd, &sb) < 0) {
        rc = cd_err_set(err, CD_EIO, "fstat: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = cd_err_set(err, CD_EIO, "not a regular file");
        goto fail;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        rc = cd_err_set(err, CD_EFORMAT, "file too large");
        goto fail;
    }
    len = (size_t)sb.st_size;
    if (len < 8) { /* mmap of 0 bytes fails: report like the parser */
        unsigned char small[8] = { 0 };
        rc = cd_safetensors_parse_buffer(small, len, out, err);
        goto fail;
    }
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = cd_err_set(err, CD_EIO, "mmap: %s", strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    rc = cd_safetensors_parse_buffer(map, len, out, err);
    if (rc)
        goto fail;
    (*out)->map = map;
    (*out)->map_len = len;
    return CD_OK;
fail:
    if (map != MAP_FAILED)
        munmap(map, len);
    if (fd >= 0)
        close(fd);
    cd_err_wrap(err, "%s", path);
    return rc;
}

const struct cd_st_tensor *cd_safetensors_find(const struct cd_safetensors *st,
                                               const char *name)
{
    if (!st || !name)
        return NULL;
    int lo = 0, hi = st->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->t[mid].name);
        if (!c)
            return &st->t[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

void cd_safetensors_free(struct cd_safetensors *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->n; i++)
        free(st->t[i].name);
    free(st->t);
    if (st->map)
        munmap(st->map, st->map_len);
    free(st);
}
