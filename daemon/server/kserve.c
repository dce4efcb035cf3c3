/* kserve.c — parses KServe v2 infer requests (JSON tensors, the binary tensor
 * data extension, BYTES inputs of encoded images) into float tensors or byte
 * spans, checking every size, offset and count before allocating. It knows
 * nothing of HTTP, models or devices and must never trust a declared size.
 * The response builder lives in kserve_resp.c. */
#include "server/kserve.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor.h"

static const struct {
    const char *name;
    size_t size;
    double lo, hi;        /* integer range (exact in double up to 2^53) */
} dtypes[CD_KSERVE_DTYPE_COUNT] = {
    [CD_KSERVE_FP32] = {"FP32", 4, 0, 0},
    [CD_KSERVE_FP64] = {"FP64", 8, 0, 0},
    [CD_KSERVE_FP16] = {"FP16", 2, 0, 0},
    [CD_KSERVE_INT8] = {"INT8", 1, -128.0, 127.0},
    [CD_KSERVE_INT16] = {"INT16", 2, -32768.0, 32767.0},
    [CD_KSERVE_INT32] = {"INT32", 4, -2147483648.0, 2147483647.0},
    [CD_KSERVE_INT64] = {"INT64", 8, -9223372036854775808.0, 9223372036854775807.0},
    [CD_KSERVE_UINT8] = {"UINT8", 1, 0, 255.0},
    [CD_KSERVE_UINT16] = {"UINT16", 2, 0, 65535.0},
    [CD_KSERVE_UINT32] = {"UINT32", 4, 0, 4294967295.0},
    [CD_KSERVE_UINT64] = {"UINT64", 8, 0, 18446744073709551615.0},
    [CD_KSERVE_BYTES] = {"BYTES", 0, 0, 0},
};
_Static_assert(CD_KSERVE_DTYPE_COUNT == 12, "add the new datatype to dtypes[]");

int cd_kserve_dtype_parse(const char *s)
{
    for (int i = 0; s && i < CD_KSERVE_DTYPE_COUNT; i++)
        if (strcmp(s, dtypes[i].name) == 0)
            return i;
    return -1;
}

const char *cd_kserve_dtype_name(enum cd_kserve_dtype t)
{
    return (unsigned)t < CD_KSERVE_DTYPE_COUNT ? dtypes[t].name : "?";
}

size_t cd_kserve_dtype_size(enum cd_kserve_dtype t)
{
    return (unsigned)t < CD_KSERVE_DTYPE_COUNT ? dtypes[t].size : 0;
}

static bool is_float_type(enum cd_kserve_dtype t)
{
    return t == CD_KSERVE_FP32 || t == CD_KSERVE_FP64 || t == CD_KSERVE_FP16;
}

void cd_kserve_req_free(struct cd_kserve_req *req)
{
    if (!req)
        return;
    free(req->in.data);
    free(req->in.elem);
    free(req->in.elem_len);
    memset(req, 0, sizeof *req);
}

int cd_kserve_parse_header_len(const char *s, size_t *out, struct cd_err *err)
{
    size_t v = 0;
    if (!s || !*s)
        return cd_err_set(err, CD_EINVAL, "Inference-Header-Content-Length is empty");
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (SIZE_MAX - 9) / 10)
            return cd_err_set(err, CD_EINVAL,
                              "Inference-Header-Content-Length '%.32s' is not a byte count", s);
        v = v * 10 + (size_t)(*p - '0');
    }
    *out = v;
    return CD_OK;
}

/* ---- JSON "data" ------------------------------------------------------- */

/* Converts one JSON number to float per the datatype's rules. */
static int convert_number(const json_t *v, enum cd_kserve_dtype t,
                          const char *name, float *out, struct cd_err *err)
{
    double d;
    if (json_is_integer(v)) {
        d = (double)json_integer_value(v);
    } else if (json_is_real(v)) {
        if (!is_float_type(t))
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': %s data must be integers", name,
                              dtypes[t].name);
        d = json_real_value(v);
    } else if (json_is_boolean(v) || json_is_string(v) || json_is_null(v) ||
               json_is_object(v)) {
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': data holds a %s where a number was expected",
                          name, json_is_string(v) ? "string" :
                          json_is_object(v) ? "object" :
                          json_is_null(v) ? "null" : "boolean");
    } else {
        return cd_err_set(err, CD_EINVAL, "input '%s': bad data element", name);
    }
    if (!is_float_type(t) && (d < dtypes[t].lo || d > dtypes[t].hi))
        return cd_err_set(err, CD_EINVAL, "input '%s': value %.0f out of %s range",
                          name, d, dtypes[t].name);
    if (!isfinite(d) || fabs(d) > FLT_MAX)
        return cd_err_set(err, CD_EINVAL, "input '%s': value out of FP32 range", name);
    *out = (float)d;
    return CD_OK;
}

/* Walks nested arrays row-major. Counts every element into *count; stores
 * the first `cap` into dst when dst is non-NULL. */
static int walk_data(const json_t *a, int depth, enum cd_kserve_dtype t,
                     const char *name, float *dst, size_t cap, size_t *count,
                     struct cd_err *err)
{
    if (depth > CD_KSERVE_MAX_DEPTH)
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': data arrays nested deeper than %d", name,
                          CD_KSERVE_MAX_DEPTH);
    size_t n = json_array_size(a);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        if (json_is_array(v)) {
            int rc = walk_data(v, depth + 1, t, name, dst, cap, count, err);
            if (rc)
                return rc;
            continue;
        }
        float f = 0;
        int rc = convert_number(v, t, name, &f, err);
        if (rc)
            return rc;
        if (dst && *count < cap)
            dst[*count] = f;
        (*count)++;
    }
    return CD_OK;
}

/* ---- binary data ------------------------------------------------------- */

static float load_binary(const uint8_t *p, enum cd_kserve_dtype t)
{
    /* The extension is little-endian; so is every host convd targets. */
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32;
            int32_t i32; uint64_t u64; int64_t i64; float f; double d; } v;
    memcpy(&v, p, dtypes[t].size);
    switch (t) {
    case CD_KSERVE_FP32: return v.f;
    case CD_KSERVE_FP64: return (float)v.d;
    case CD_KSERVE_FP16: return cd_f16_to_f32(v.u16);
    case CD_KSERVE_INT8: return (float)v.i8;
    case CD_KSERVE_INT16: return (float)v.i16;
    case CD_KSERVE_INT32: return (float)v.i32;
    case CD_KSERVE_INT64: return (float)v.i64;
    case CD_KSERVE_UINT8: return (float)v.u8;
    case CD_KSERVE_UINT16: return (float)v.u16;
    case CD_KSERVE_UINT32: return (float)v.u32;
    case CD_KSERVE_UINT64: return (float)v.u64;
    default: return 0;
    }
}

static int convert_binary(struct cd_kserve_input *in, const uint8_t *p,
                          size_t size, struct cd_err *err)
{
    size_t es = dtypes[in->dtype].size, need = 0;
    if (!cd_size_mul(in->numel, es, &need))
        return cd_err_set(err, CD_EINVAL, "input '%s': data size overflows", in->name);
    if (need != size)
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': binary_data_size %zu does not match shape "
                          "(%zu %s elements need %zu bytes)", in->name, size,
                          in->numel, dtypes[in->dtype].name, need);
    in->data = malloc(in->numel ? in->numel * sizeof(float) : 1);
    if (!in->data)
        return cd_err_set(err, CD_ENOMEM, "input '%s': out of memory", in->name);
    for (size_t i = 0; i < in->numel; i++) {
        float f = load_binary(p + i * es, in->dtype);
        if (!isfinite(f))
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': element %zu is not a finite FP32 value",
                              in->name, i);
        in->data[i] = f;
    }
    return CD_OK;
}

/* BYTES: each element is a 4-byte little-endian length and that many bytes;
 * the elements exactly fill the span. */
static int split_bytes(struct cd_kserve_input *in, const uint8_t *p,
                       size_t size, struct cd_err *err)
{
    size_t count = 0, off = 0;
    while (off < size) {
        if (size - off < 4)
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': BYTES element %zu: truncated length prefix",
                              in->name, count);
        uint32_t l = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
                     (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
        off += 4;
        if (l > size - off)
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': BYTES element %zu: length %u runs past "
                              "binary_data_size", in->name, count, l);
        off += l;
        count++;
    }
    if (count != (size_t)in->batch)
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': shape says %lld BYTES elements, data holds %zu",
                          in->name, (long long)in->batch, count);
    in->elem = calloc(count, sizeof *in->elem);
    in->elem_len = calloc(count, sizeof *in->elem_len);
    if (!in->elem || !in->elem_len)
        return cd_err_set(err, CD_ENOMEM, "input '%s': out of memory", in->name);
    off = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t l = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
                     (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
        in->elem[i] = p + off + 4;
        in->elem_len[i] = l;
        off += 4 + (size_t)l;
    }
    in->n_elem = count;
    return CD_OK;
}

/* ---- request structure ------------------------------------------------- */

static int get_string(const json_t *obj, const char *key, const char *what,
                      const char **out, struct cd_err *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return cd_err_set(err, CD_EINVAL, "%s: missing \"%s\"", what, key);
    if (!json_is_string(v))
        return cd_err_set(err, CD_EINVAL, "%s: \"%s\" must be a string", what, key);
    *out = json_string_value(v);
    return CD_OK;
}

/* Reads shape, checks it against the spec, sets batch and numel. */
static int parse_shape(struct cd_kserve_input *in, const json_t *js,
                       const struct cd_kserve_spec *spec, struct cd_err *err)
{
    if (!json_is_array(js))
        return cd_err_set(err, CD_EINVAL, "input '%s': \"shape\" must be an array",
                          in->name);
    size_t nd = json_array_size(js);
    if (nd < 1 || nd > CD_KSERVE_MAX_DIMS)
        return cd_err_set(err, CD_EINVAL, "input '%s': shape must have 1 to %d dims",
                          in->name, CD_KSERVE_MAX_DIMS);
    in->ndim = (int)nd;
    size_t numel = 1;
    bool overflow = false;
    for (size_t i = 0; i < nd; i++) {
        const json_t *d = json_array_get(js, i);
        if (!json_is_integer(d))
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': shape[%zu] must be an integer", in->name, i);
        json_int_t v = json_integer_value(d);
        if (v < 0)
            return cd_err_set(err, CD_EINVAL, "input '%s': shape[%zu] is negative (%lld)",
                              in->name, i, (long long)v);
        in->shape[i] = v;
        if ((uint64_t)v > SIZE_MAX || !cd_size_mul(numel, (size_t)v, &numel))
            overflow = true;
    }
    if (overflow)
        return cd_err_set(err, CD_EINVAL, "input '%s': shape element count overflows",
                          in->name);
    in->batch = in->shape[0];
    if (in->batch < 1)
        return cd_err_set(err, CD_EINVAL, "input '%s': batch (shape[0]) must be >= 1",
                          in->name);
    if (in->batch > spec->max_batch)
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': batch %lld exceeds the limit of %lld per request",
                          in->name, (long long)in->batch, (long long)spec->max_batch);
    char want[160];
    int w = snprintf(want, sizeof want, "[B");
    for (int i = 0; i < spec->sample_ndim && w < (int)sizeof want; i++)
        w += snprintf(want + w, sizeof want - (size_t)w, ", %lld",
                      (long long)spec->sample_dims[i]);
    if (w < (int)sizeof want)
        snprintf(want + w, sizeof want - (size_t)w, "]");
    if (in->dtype == CD_KSERVE_BYTES) {
        if (nd > 2 || (nd == 2 && in->shape[1] != 1))
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': BYTES shape must be [B] or [B, 1] (one "
                              "encoded image per element)", in->name);
        in->numel = (size_t)in->batch;
        return CD_OK;
    }
    bool ok = (int)nd == spec->sample_ndim + 1;
    for (int i = 0; ok && i < spec->sample_ndim; i++)
        ok = in->shape[i + 1] == spec->sample_dims[i];
    if (!ok)
        return cd_err_set(err, CD_EINVAL, "input '%s': shape must be %s", in->name,
                          want);
    if (numel > spec->max_elements)
        return cd_err_set(err, CD_EINVAL, "input '%s': %zu elements exceed the limit %zu",
                          in->name, numel, spec->max_elements);
    in->numel = numel;
    return CD_OK;
}

static int parse_input(struct cd_kserve_input *in, const json_t *jin,
                       const struct cd_kserve_spec *spec, const uint8_t *bin,
                       size_t bin_len, bool have_bin, size_t *bin_off,
                       struct cd_err *err)
{
    const char *s;
    int rc;
    if (!json_is_object(jin))
        return cd_err_set(err, CD_EINVAL, "inputs[0] must be an object");
    if ((rc = get_string(jin, "name", "inputs[0]", &s, err)))
        return rc;
    if (strlen(s) >= sizeof in->name)
        return cd_err_set(err, CD_EINVAL, "inputs[0]: name too long");
    strcpy(in->name, s);
    if (spec->input_name && strcmp(s, spec->input_name) != 0)
        return cd_err_set(err, CD_EINVAL, "unknown input '%s': the model's input is '%s'",
                          s, spec->input_name);
    if ((rc = get_string(jin, "datatype", in->name, &s, err)))
        return rc;
    int t = cd_kserve_dtype_parse(s);
    if (t < 0)
        return cd_err_set(err, CD_EINVAL, "input '%s': unsupported datatype '%.32s'",
                          in->name, s);
    in->dtype = (enum cd_kserve_dtype)t;
    const json_t *js = json_object_get(jin, "shape");
    if (!js)
        return cd_err_set(err, CD_EINVAL, "input '%s': missing \"shape\"", in->name);
    if ((rc = parse_shape(in, js, spec, err)))
        return rc;

    const json_t *data = json_object_get(jin, "data");
    const json_t *params = json_object_get(jin, "parameters");
    const json_t *jsize = NULL;
    if (params && !json_is_object(params))
        return cd_err_set(err, CD_EINVAL, "input '%s': \"parameters\" must be an object",
                          in->name);
    if (params)
        jsize = json_object_get(params, "binary_data_size");
    if (data && jsize)
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': both \"data\" and binary_data_size given", in->name);
    if (jsize) {
        if (!json_is_integer(jsize) || json_integer_value(jsize) < 0)
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': binary_data_size must be a non-negative integer",
                              in->name);
        if (!have_bin)
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': binary_data_size given without an "
                              "Inference-Header-Content-Length header", in->name);
        uint64_t size = (uint64_t)json_integer_value(jsize);
        if (size > bin_len - *bin_off)
            return cd_err_set(err, CD_EINVAL,
                              "input '%s': binary_data_size %llu runs past the end of "
                              "the body (%zu binary bytes left)", in->name,
                              (unsigned long long)size, bin_len - *bin_off);
        const uint8_t *p = bin + *bin_off;
        *bin_off += (size_t)size;
        if (in->dtype == CD_KSERVE_BYTES)
            return split_bytes(in, p, (size_t)size, err);
        return convert_binary(in, p, (size_t)size, err);
    }
    if (!data)
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': missing \"data\" (or parameters.binary_data_size)",
                          in->name);
    if (in->dtype == CD_KSERVE_BYTES)
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': BYTES data in JSON is not supported; send the "
                          "encoded images with the binary tensor extension "
                          "(parameters.binary_data_size and the "
                          "Inference-Header-Content-Length header, 4-byte "
                          "little-endian length before each image)", in->name);
    if (!json_is_array(data))
        return cd_err_set(err, CD_EINVAL, "input '%s': \"data\" must be an array",
                          in->name);
    size_t count = 0;
    if ((rc = walk_data(data, 1, in->dtype, in->name, NULL, 0, &count, err)))
        return rc;
    if (count != in->numel)
        return cd_err_set(err, CD_EINVAL,
                          "input '%s': shape needs %zu elements, data holds %zu",
                          in->name, in->numel, count);
    in->data = malloc(in->numel ? in->numel * sizeof(float) : 1);
    if (!in->data)
        return cd_err_set(err, CD_ENOMEM, "input '%s': out of memory", in->name);
    count = 0;
    return walk_data(data, 1, in->dtype, in->name, in->data, in->numel, &count, err);
}

static int get_bool_param(const json_t *params, const char *key, const char *what,
                          bool *out, struct cd_err *err)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    if (!v)
        return CD_OK;
    if (!json_is_boolean(v))
        return cd_err_set(err, CD_EINVAL, "%s: parameters.%s must be true or false",
                          what, key);
    *out = json_is_true(v);
    return CD_OK;
}

static int parse_outputs(struct cd_kserve_req *req, const json_t *jouts,
                         bool bin_all, const struct cd_kserve_spec *spec,
                         struct cd_err *err)
{
    if (!jouts) {
        req->n_sel = spec->n_outputs;
        for (int i = 0; i < spec->n_outputs; i++) {
            req->sel[i] = i;
            req->sel_binary[i] = bin_all;
        }
        return CD_OK;
    }
    if (!json_is_array(jouts))
        return cd_err_set(err, CD_EINVAL, "\"outputs\" must be an array");
    size_t n = json_array_size(jouts);
    if (n == 0 || n > (size_t)spec->n_outputs)
        return cd_err_set(err, CD_EINVAL, "\"outputs\" must name 1 to %d outputs",
                          spec->n_outputs);
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(jouts, i);
        const char *name;
        char what[32];
        snprintf(what, sizeof what, "outputs[%zu]", i);
        if (!json_is_object(o))
            return cd_err_set(err, CD_EINVAL, "%s must be an object", what);
        int rc = get_string(o, "name", what, &name, err);
        if (rc)
            return rc;
        int k = -1;
        for (int j = 0; j < spec->n_outputs; j++)
            if (strcmp(spec->output_names[j], name) == 0)
                k = j;
        if (k < 0)
            return cd_err_set(err, CD_EINVAL, "unknown output '%.100s'", name);
        for (size_t j = 0; j < i; j++)
            if (req->sel[j] == k)
                return cd_err_set(err, CD_EINVAL, "output '%.100s' requested twice",
                                  name);
        const json_t *params = json_object_get(o, "parameters");
        if (params && !json_is_object(params))
            return cd_err_set(err, CD_EINVAL, "%s: \"parameters\" must be an object", what);
        if (params && json_object_get(params, "classification"))
            return cd_err_set(err, CD_EUNSUPPORTED,
                              "output '%.100s': the classification extension is not "
                              "supported (use POST /v1/models/{m}/classify)", name);
        bool b = bin_all;
        if ((rc = get_bool_param(params, "binary_data", what, &b, err)))
            return rc;
        req->sel[i] = k;
        req->sel_binary[i] = b;
    }
    req->n_sel = (int)n;
    return CD_OK;
}

int cd_kserve_parse(struct cd_kserve_req *req, const void *body, size_t len,
                    size_t header_len, const struct cd_kserve_spec *spec,
                    struct cd_err *err)
{
    json_t *root = NULL;
    int rc = CD_EINVAL;
    memset(req, 0, sizeof *req);
    if (spec->n_outputs < 0 || spec->n_outputs > CD_KSERVE_MAX_OUTPUTS) {
        rc = cd_err_set(err, CD_EINVAL, "model has too many outputs for the codec");
        goto fail;
    }
    if (header_len > len) {
        rc = cd_err_set(err, CD_EINVAL,
                        "Inference-Header-Content-Length %zu exceeds the body (%zu bytes)",
                        header_len, len);
        goto fail;
    }
    size_t json_len = header_len ? header_len : len;
    if (!body || json_len == 0) {
        rc = cd_err_set(err, CD_EINVAL, "empty request body");
        goto fail;
    }
    json_error_t jerr;
    root = json_loadb(body, json_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = cd_err_set(err, CD_EINVAL, "malformed JSON: %s (line %d, column %d)",
                        jerr.text, jerr.line, jerr.column);
        goto fail;
    }
    if (!json_is_object(root)) {
        rc = cd_err_set(err, CD_EINVAL, "request must be a JSON object");
        goto fail;
    }
    const json_t *id = json_object_get(root, "id");
    if (id) {
        if (!json_is_string(id)) {
            rc = cd_err_set(err, CD_EINVAL, "\"id\" must be a string");
            goto fail;
        }
        if (json_string_length(id) >= sizeof req->id ||
            strlen(json_string_value(id)) != json_string_length(id)) {
            rc = cd_err_set(err, CD_EINVAL, "\"id\" must be under %d bytes, without NUL",
                            CD_KSERVE_MAX_ID);
            goto fail;
        }
        strcpy(req->id, json_string_value(id));
        req->has_id = true;
    }
    const json_t *params = json_object_get(root, "parameters");
    bool bin_all = false;
    if (params && !json_is_object(params)) {
        rc = cd_err_set(err, CD_EINVAL, "\"parameters\" must be an object");
        goto fail;
    }
    if ((rc = get_bool_param(params, "binary_data_output", "request", &bin_all, err)))
        goto fail;
    const json_t *inputs = json_object_get(root, "inputs");
    if (!inputs || !json_is_array(inputs)) {
        rc = cd_err_set(err, CD_EINVAL, "\"inputs\" must be an array");
        goto fail;
    }
    if (json_array_size(inputs) != 1) {
        rc = cd_err_set(err, CD_EINVAL, "the model takes exactly one input, got %zu",
                        json_array_size(inputs));
        goto fail;
    }
    const uint8_t *bin = (const uint8_t *)body + header_len;
    size_t bin_len = len - header_len, bin_off = 0;
    if ((rc = parse_input(&req->in, json_array_get(inputs, 0), spec, bin, bin_len,
                          header_len > 0, &bin_off, err)))
        goto fail;
    if (header_len > 0 && bin_off != bin_len) {
        rc = cd_err_set(err, CD_EINVAL,
                        "the body holds %zu binary bytes but the inputs declare %zu",
                        bin_len, bin_off);
        goto fail;
    }
    if ((rc = parse_outputs(req, json_object_get(root, "outputs"), bin_all, spec, err)))
        goto fail;
    json_decref(root);
    return CD_OK;
fail:
    json_decref(root);
    cd_kserve_req_free(req);
    return rc ? rc : CD_EINVAL;
}
