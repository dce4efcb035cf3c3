/* kserve.h — the KServe v2 / Open Inference Protocol codec: parses an infer
 * request (JSON tensors or the binary tensor data extension, BYTES inputs
 * holding encoded images) against a model's input spec, and builds the infer
 * response (JSON data or binary outputs). Pure: no HTTP, no model, no device,
 * so it can be fuzzed. Every malformed request fails with CD_EINVAL (or
 * CD_EUNSUPPORTED) and a message fit for a 400 answer. */
#ifndef CD_KSERVE_H
#define CD_KSERVE_H

#include "engine/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_KSERVE_MAX_DIMS 8
#define CD_KSERVE_MAX_OUTPUTS 8
#define CD_KSERVE_MAX_DEPTH 32     /* nesting of "data" arrays */
#define CD_KSERVE_MAX_ID 256       /* request id length, NUL included */

enum cd_kserve_dtype {
    CD_KSERVE_FP32,
    CD_KSERVE_FP64,
    CD_KSERVE_FP16,
    CD_KSERVE_INT8,
    CD_KSERVE_INT16,
    CD_KSERVE_INT32,
    CD_KSERVE_INT64,
    CD_KSERVE_UINT8,
    CD_KSERVE_UINT16,
    CD_KSERVE_UINT32,
    CD_KSERVE_UINT64,
    CD_KSERVE_BYTES,
    CD_KSERVE_DTYPE_COUNT
};

/* What the model accepts; all borrowed. */
struct cd_kserve_spec {
    const char *input_name;        /* NULL: any name accepted */
    int sample_ndim;               /* per-sample input shape, batch excluded */
    const int64_t *sample_dims;
    int n_outputs;                 /* <= CD_KSERVE_MAX_OUTPUTS */
    const char *const *output_names;
    int64_t max_batch;             /* largest B accepted in one request */
    size_t max_elements;           /* largest element count of the input */
};

struct cd_kserve_input {
    char name[128];
    enum cd_kserve_dtype dtype;
    int ndim;
    int64_t shape[CD_KSERVE_MAX_DIMS];
    int64_t batch;                 /* shape[0], >= 1 */
    /* tensor datatypes: batch * per-sample numel floats, converted */
    float *data;                   /* owned */
    size_t numel;
    /* BYTES: batch elements, each a span of the request body (borrowed) */
    const uint8_t **elem;          /* owned array */
    size_t *elem_len;              /* owned array */
    size_t n_elem;
};

struct cd_kserve_req {
    char id[CD_KSERVE_MAX_ID];
    bool has_id;
    struct cd_kserve_input in;     /* the model has exactly one input */
    /* Selected outputs in answer order (indexes into spec->output_names);
     * all outputs in model order when the request names none. */
    int n_sel;
    int sel[CD_KSERVE_MAX_OUTPUTS];
    bool sel_binary[CD_KSERVE_MAX_OUTPUTS];
};

/* "FP32" ... -> dtype, or -1. */
int cd_kserve_dtype_parse(const char *s);
const char *cd_kserve_dtype_name(enum cd_kserve_dtype t);
/* Bytes per element; 0 for BYTES. */
size_t cd_kserve_dtype_size(enum cd_kserve_dtype t);

/* Parses body (len bytes). header_len is the Inference-Header-Content-Length
 * value (0 when absent): the JSON is body[0, header_len) and the binary
 * input data follows in input order. Element counts and sizes are checked
 * before anything is allocated. On failure req is left freed (zeroed). */
int cd_kserve_parse(struct cd_kserve_req *req, const void *body, size_t len,
                    size_t header_len, const struct cd_kserve_spec *spec,
                    struct cd_err *err);
void cd_kserve_req_free(struct cd_kserve_req *req); /* NULL ok; zeroes */

/* Parses an Inference-Header-Content-Length value (decimal, no sign). */
int cd_kserve_parse_header_len(const char *s, size_t *out, struct cd_err *err);

/* One output of the response; all borrowed. shape includes the batch. */
struct cd_kserve_out {
    const char *name;
    int ndim;
    int64_t shape[CD_KSERVE_MAX_DIMS];
    const float *data;             /* numel floats */
    size_t numel;
    bool binary;                   /* raw little-endian FP32 after the JSON */
};

/* Builds the response body: {"model_name","model_version","id"?,"outputs":
 * [{"name","datatype":"FP32","shape","data"|"parameters":{
 * "binary_data_size"}}]}. When an output is binary, *json_len is the JSON
 * header's length and the raw data follows (answer with
 * Inference-Header-Content-Length: *json_len); otherwise *json_len is 0.
 * *body is owned (malloc'd). Non-finite values are written as null. */
int cd_kserve_response(const char *model, const char *version, const char *id,
                       const struct cd_kserve_out *outs, int n_outs,
                       char **body, size_t *len, size_t *json_len,
                       struct cd_err *err);

#endif
