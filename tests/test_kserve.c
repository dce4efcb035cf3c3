/* test_kserve.c — the KServe v2 codec: valid JSON, binary and BYTES requests,
 * hostile requests (each must fail with a message, never crash or leak), and
 * the JSON and binary response formats. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/kserve.h"

static const int64_t sample_dims[] = {3, 2, 2};
static const char *const out_names[] = {"fc", "feat"};
static const struct cd_kserve_spec spec = {
    .input_name = "input",
    .sample_ndim = 3,
    .sample_dims = sample_dims,
    .n_outputs = 2,
    .output_names = out_names,
    .max_batch = 4,
    .max_elements = 4 * 12,
};

static int parse_str(struct cd_kserve_req *req, const char *json, struct cd_err *err)
{
    return cd_kserve_parse(req, json, strlen(json), 0, &spec, err);
}

/* JSON header + binary tail in one buffer. */
static int parse_bin(struct cd_kserve_req *req, const char *json, const void *bin,
                     size_t bin_len, struct cd_err *err)
{
    size_t hl = strlen(json);
    char *body = malloc(hl + bin_len + 1);
    memcpy(body, json, hl);
    if (bin_len)
        memcpy(body + hl, bin, bin_len);
    int rc = cd_kserve_parse(req, body, hl + bin_len, hl, &spec, err);
    /* BYTES spans point into the body: tests copy what they need first. */
    if (rc == CD_OK && req->in.dtype == CD_KSERVE_BYTES) {
        for (size_t i = 0; i < req->in.n_elem; i++)
            ck_assert((const char *)req->in.elem[i] >= body + hl);
    }
    free(body);
    return rc;
}

#define TWELVE "[0,1,2,3,4,5,6,7,8,9,10,11]"

START_TEST(json_fp32_flat)
{
    struct cd_kserve_req req;
    struct cd_err err = {0};
    ck_assert_int_eq(parse_str(&req, "{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\","
                               "\"datatype\":\"FP32\",\"shape\":[1,3,2,2],\"data\":"
                               "[0.5,1,2,3,4,5,6,7,8,9,10,-11.25]}]}", &err), CD_OK);
    ck_assert(req.has_id);
    ck_assert_str_eq(req.id, "r1");
    ck_assert_int_eq(req.in.batch, 1);
    ck_assert_uint_eq(req.in.numel, 12);
    ck_assert(req.in.data[0] == 0.5f && req.in.data[11] == -11.25f);
    ck_assert_int_eq(req.n_sel, 2);
    ck_assert(req.sel[0] == 0 && req.sel[1] == 1 && !req.sel_binary[0]);
    cd_kserve_req_free(&req);
}
END_TEST

START_TEST(json_nested_int_batch)
{
    struct cd_kserve_req req;
    struct cd_err err = {0};
    ck_assert_int_eq(parse_str(&req, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                               "\"UINT8\",\"shape\":[2,3,2,2],\"data\":[[[[0,1],[2,3]],"
                               "[[4,5],[6,7]],[[8,9],[10,11]]],[[[255,1],[2,3]],"
                               "[[4,5],[6,7]],[[8,9],[10,11]]]]}],\"outputs\":[{\"name\":"
                               "\"feat\",\"parameters\":{\"binary_data\":true}}]}", &err),
                     CD_OK);
    ck_assert(!req.has_id);
    ck_assert_int_eq(req.in.batch, 2);
    ck_assert_uint_eq(req.in.numel, 24);
    ck_assert(req.in.data[11] == 11.0f && req.in.data[12] == 255.0f);
    ck_assert_int_eq(req.n_sel, 1);
    ck_assert_int_eq(req.sel[0], 1);
    ck_assert(req.sel_binary[0]);
    cd_kserve_req_free(&req);
}
END_TEST

START_TEST(json_int_types)
{
    const char *types[] = {"INT8", "INT16", "INT32", "INT64", "UINT16", "UINT32",
                           "UINT64", "FP64", "FP16"};
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        char json[512];
        snprintf(json, sizeof json, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                 "\"%s\",\"shape\":[1,3,2,2],\"data\":" TWELVE "}]}", types[t]);
        struct cd_kserve_req req;
        struct cd_err err = {0};
        ck_assert_msg(parse_str(&req, json, &err) == CD_OK, "%s: %s", types[t], err.msg);
        ck_assert(req.in.data[7] == 7.0f);
        cd_kserve_req_free(&req);
    }
}
END_TEST

START_TEST(binary_fp32_and_others)
{
    float f[24];
    for (int i = 0; i < 24; i++)
        f[i] = (float)i * 0.25f - 1.0f;
    struct cd_kserve_req req;
    struct cd_err err = {0};
    ck_assert_int_eq(parse_bin(&req, "{\"id\":\"b\",\"inputs\":[{\"name\":\"input\","
                               "\"datatype\":\"FP32\",\"shape\":[2,3,2,2],\"parameters\":"
                               "{\"binary_data_size\":96}}],\"parameters\":"
                               "{\"binary_data_output\":true}}", f, sizeof f, &err), CD_OK);
    ck_assert_uint_eq(req.in.numel, 24);
    ck_assert(memcmp(req.in.data, f, sizeof f) == 0);
    ck_assert(req.sel_binary[0] && req.sel_binary[1]);
    cd_kserve_req_free(&req);

    uint16_t h[12];
    for (int i = 0; i < 12; i++)
        h[i] = 0x3c00; /* 1.0 */
    ck_assert_int_eq(parse_bin(&req, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                               "\"FP16\",\"shape\":[1,3,2,2],\"parameters\":"
                               "{\"binary_data_size\":24}}]}", h, sizeof h, &err), CD_OK);
    ck_assert(req.in.data[5] == 1.0f);
    cd_kserve_req_free(&req);

    int64_t q[12];
    for (int i = 0; i < 12; i++)
        q[i] = -i;
    ck_assert_int_eq(parse_bin(&req, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                               "\"INT64\",\"shape\":[1,3,2,2],\"parameters\":"
                               "{\"binary_data_size\":96}}]}", q, sizeof q, &err), CD_OK);
    ck_assert(req.in.data[11] == -11.0f);
    cd_kserve_req_free(&req);

    uint8_t u[12] = {0, 200, 255};
    ck_assert_int_eq(parse_bin(&req, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                               "\"UINT8\",\"shape\":[1,3,2,2],\"parameters\":"
                               "{\"binary_data_size\":12}}],\"outputs\":[{\"name\":\"fc\"}]}",
                               u, sizeof u, &err), CD_OK);
    ck_assert(req.in.data[1] == 200.0f && req.in.data[2] == 255.0f);
    ck_assert(req.n_sel == 1 && req.sel[0] == 0 && !req.sel_binary[0]);
    cd_kserve_req_free(&req);
}
END_TEST

START_TEST(binary_bytes)
{
    uint8_t bin[4 + 3 + 4 + 5] = {3, 0, 0, 0, 'a', 'b', 'c', 5, 0, 0, 0, 1, 2, 3, 4, 5};
    const char *shapes[] = {"[2]", "[2,1]"};
    for (int s = 0; s < 2; s++) {
        char json[256];
        snprintf(json, sizeof json, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                 "\"BYTES\",\"shape\":%s,\"parameters\":{\"binary_data_size\":16}}]}",
                 shapes[s]);
        size_t hl = strlen(json);
        char body[512];
        memcpy(body, json, hl);
        memcpy(body + hl, bin, sizeof bin);
        struct cd_kserve_req req;
        struct cd_err err = {0};
        ck_assert_msg(cd_kserve_parse(&req, body, hl + sizeof bin, hl, &spec, &err) == CD_OK,
                      "%s", err.msg);
        ck_assert_uint_eq(req.in.n_elem, 2);
        ck_assert_uint_eq(req.in.elem_len[0], 3);
        ck_assert_uint_eq(req.in.elem_len[1], 5);
        ck_assert(memcmp(req.in.elem[0], "abc", 3) == 0);
        ck_assert_int_eq(req.in.elem[1][4], 5);
        ck_assert_ptr_eq(req.in.data, NULL);
        cd_kserve_req_free(&req);
    }
}
END_TEST

/* Hostile requests: each fails with CD_EINVAL/CD_EUNSUPPORTED and a message
 * containing the expected fragment. */
struct bad {
    const char *json;
    const char *want;
};

static const struct bad bad_json[] = {
    {"{\"inputs\":[", "malformed JSON"},
    {"[1,2,3]", "JSON object"},
    {"{\"inputs\":[],\"x\":1,\"x\":2}", "malformed JSON"},
    {"{}", "\"inputs\" must be an array"},
    {"{\"inputs\":{}}", "\"inputs\" must be an array"},
    {"{\"inputs\":[]}", "exactly one input"},
    {"{\"inputs\":[1,2]}", "exactly one input"},
    {"{\"inputs\":[7]}", "must be an object"},
    {"{\"inputs\":[{\"datatype\":\"FP32\"}]}", "missing \"name\""},
    {"{\"inputs\":[{\"name\":5}]}", "\"name\" must be a string"},
    {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":" TWELVE "}]}", "unknown input 'x'"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP8\",\"shape\":[1,3,2,2],"
     "\"data\":" TWELVE "}]}", "unsupported datatype 'FP8'"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"data\":" TWELVE "}]}",
     "missing \"shape\""},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,-3,2,2],"
     "\"data\":" TWELVE "}]}", "negative"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":"
     "[4294967296,4294967296,4294967296,3],\"data\":" TWELVE "}]}", "overflows"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":"
     "[9223372036854775807,3,2,2],\"data\":" TWELVE "}]}", "overflows"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,4],"
     "\"data\":" TWELVE "}]}", "shape must be [B, 3, 2, 2]"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,2,3,2],"
     "\"data\":" TWELVE "}]}", "shape must be [B, 3, 2, 2]"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[0,3,2,2],"
     "\"data\":[]}]}", "must be >= 1"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[5,3,2,2],"
     "\"data\":" TWELVE "}]}", "exceeds the limit"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2.0,2],"
     "\"data\":" TWELVE "}]}", "must be an integer"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":\"1x3\","
     "\"data\":" TWELVE "}]}", "must be an array"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10]}]}", "needs 12 elements, data holds 11"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12]}]}", "data holds 13"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,\"11\"]}]}", "string"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,null]}]}", "null"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,{}]}]}", "object"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,true]}]}", "boolean"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,1e39]}]}", "FP32 range"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"INT32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,1.5]}]}", "must be integers"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"UINT8\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,256]}]}", "out of UINT8 range"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"INT8\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,-129]}]}", "out of INT8 range"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"UINT32\",\"shape\":[1,3,2,2],"
     "\"data\":[0,1,2,3,4,5,6,7,8,9,10,-1]}]}", "out of UINT32 range"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":7}]}", "\"data\" must be an array"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2]}]}",
     "missing \"data\""},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"parameters\":{\"binary_data_size\":48}}]}", "without an Inference-Header"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"parameters\":{\"binary_data_size\":-4}}]}", "non-negative"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"parameters\":[]}]}", "\"parameters\" must be an object"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":" TWELVE ",\"parameters\":{\"binary_data_size\":48}}]}", "both"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"BYTES\",\"shape\":[1],"
     "\"data\":[\"/9j/4AAQ\"]}]}", "binary tensor extension"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"BYTES\",\"shape\":[2,2],"
     "\"data\":[]}]}", "[B] or [B, 1]"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":" TWELVE "}],\"outputs\":[{\"name\":\"logits\"}]}", "unknown output 'logits'"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":" TWELVE "}],\"outputs\":[{\"name\":\"fc\"},{\"name\":\"fc\"}]}",
     "requested twice"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":" TWELVE "}],\"outputs\":{\"name\":\"fc\"}}", "\"outputs\" must be an array"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":" TWELVE "}],\"outputs\":[{\"name\":\"fc\",\"parameters\":"
     "{\"binary_data\":1}}]}", "true or false"},
    {"{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],"
     "\"data\":" TWELVE "}],\"outputs\":[{\"name\":\"fc\",\"parameters\":"
     "{\"classification\":3}}]}", "classification extension"},
    {"{\"id\":42,\"inputs\":[]}", "\"id\" must be a string"},
    {"{\"parameters\":3,\"inputs\":[]}", "\"parameters\" must be an object"},
    {"{\"parameters\":{\"binary_data_output\":\"yes\"},\"inputs\":[]}", "true or false"},
};

START_TEST(hostile_json)
{
    for (size_t i = 0; i < sizeof bad_json / sizeof *bad_json; i++) {
        struct cd_kserve_req req;
        struct cd_err err = {0};
        int rc = parse_str(&req, bad_json[i].json, &err);
        ck_assert_msg(rc == CD_EINVAL || rc == CD_EUNSUPPORTED, "case %zu: rc %d", i, rc);
        ck_assert_msg(strstr(err.msg, bad_json[i].want), "case %zu: '%s' lacks '%s'", i,
                      err.msg, bad_json[i].want);
        ck_assert_ptr_eq(req.in.data, NULL);
    }
}
END_TEST

START_TEST(hostile_deep_nesting)
{
    char json[1024];
    int n = snprintf(json, sizeof json, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                     "\"FP32\",\"shape\":[1,3,2,2],\"data\":");
    for (int i = 0; i < 40; i++)
        json[n++] = '[';
    json[n++] = '1';
    for (int i = 0; i < 40; i++)
        json[n++] = ']';
    snprintf(json + n, sizeof json - (size_t)n, "}]}");
    struct cd_kserve_req req;
    struct cd_err err = {0};
    ck_assert_int_eq(parse_str(&req, json, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "nested deeper"), "%s", err.msg);
}
END_TEST

START_TEST(hostile_empty)
{
    struct cd_kserve_req req;
    struct cd_err err = {0};
    ck_assert_int_eq(cd_kserve_parse(&req, "", 0, 0, &spec, &err), CD_EINVAL);
    ck_assert_int_eq(cd_kserve_parse(&req, NULL, 0, 0, &spec, &err), CD_EINVAL);
    ck_assert_int_eq(cd_kserve_parse(&req, "{}", 2, 3, &spec, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "exceeds the body"), "%s", err.msg);
}
END_TEST

START_TEST(hostile_binary)
{
    float f[13] = {0};
    struct cd_kserve_req req;
    struct cd_err err = {0};
    const char *hdr48 = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":"
                        "[1,3,2,2],\"parameters\":{\"binary_data_size\":48}}]}";
    /* declared beyond the body */
    ck_assert_int_eq(parse_bin(&req, hdr48, f, 40, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "runs past the end"), "%s", err.msg);
    /* trailing bytes no input declares */
    ck_assert_int_eq(parse_bin(&req, hdr48, f, 52, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "declare 48"), "%s", err.msg);
    /* size does not match the shape */
    ck_assert_int_eq(parse_bin(&req, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                               "\"FP32\",\"shape\":[1,3,2,2],\"parameters\":"
                               "{\"binary_data_size\":44}}]}", f, 44, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "does not match shape"), "%s", err.msg);
    /* NaN input */
    f[3] = NAN;
    ck_assert_int_eq(parse_bin(&req, hdr48, f, 48, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "not a finite"), "%s", err.msg);
    /* huge binary_data_size */
    ck_assert_int_eq(parse_bin(&req, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
                               "\"FP32\",\"shape\":[1,3,2,2],\"parameters\":"
                               "{\"binary_data_size\":9223372036854775807}}]}", f, 48,
                               &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "runs past the end"), "%s", err.msg);
}
END_TEST

START_TEST(hostile_bytes)
{
    struct cd_kserve_req req;
    struct cd_err err = {0};
    const char *two = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"BYTES\",\"shape\":"
                      "[2],\"parameters\":{\"binary_data_size\":%d}}]}";
    char json[256];
    /* truncated length prefix */
    uint8_t a[6] = {1, 0, 0, 0, 'x', 9};
    snprintf(json, sizeof json, two, 6);
    ck_assert_int_eq(parse_bin(&req, json, a, 6, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "truncated length prefix"), "%s", err.msg);
    /* element length past the span */
    uint8_t b[8] = {1, 0, 0, 0, 'x', 0xff, 0xff, 0xff};
    uint8_t b2[12] = {1, 0, 0, 0, 'x', 0xff, 0xff, 0xff, 0xff, 0, 0, 0};
    snprintf(json, sizeof json, two, 8);
    ck_assert_int_eq(parse_bin(&req, json, b, 8, &err), CD_EINVAL);
    snprintf(json, sizeof json, two, 12);
    ck_assert_int_eq(parse_bin(&req, json, b2, 12, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "runs past"), "%s", err.msg);
    /* count mismatch */
    uint8_t c[5] = {1, 0, 0, 0, 'x'};
    snprintf(json, sizeof json, two, 5);
    ck_assert_int_eq(parse_bin(&req, json, c, 5, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "2 BYTES elements, data holds 1"), "%s", err.msg);
}
END_TEST

START_TEST(header_len_values)
{
    size_t v = 0;
    struct cd_err err = {0};
    ck_assert_int_eq(cd_kserve_parse_header_len("123", &v, &err), CD_OK);
    ck_assert_uint_eq(v, 123);
    ck_assert_int_eq(cd_kserve_parse_header_len("", &v, &err), CD_EINVAL);
    ck_assert_int_eq(cd_kserve_parse_header_len("-1", &v, &err), CD_EINVAL);
    ck_assert_int_eq(cd_kserve_parse_header_len("12a", &v, &err), CD_EINVAL);
    ck_assert_int_eq(cd_kserve_parse_header_len(" 12", &v, &err), CD_EINVAL);
    ck_assert_int_eq(cd_kserve_parse_header_len("99999999999999999999999", &v, &err),
                     CD_EINVAL);
}
END_TEST

START_TEST(response_json)
{
    float a[4] = {0.1f, -2.5f, 1e-8f, 3.4028235e38f};
    float b[2] = {INFINITY, 7.0f};
    struct cd_kserve_out o[2] = {
        {.name = "fc", .ndim = 2, .shape = {2, 2}, .data = a, .numel = 4},
        {.name = "fe\"at", .ndim = 1, .shape = {2}, .data = b, .numel = 2},
    };
    char *body;
    size_t len, jl;
    struct cd_err err = {0};
    ck_assert_int_eq(cd_kserve_response("m", "1", "id\"1", o, 2, &body, &len, &jl, &err),
                     CD_OK);
    ck_assert_uint_eq(jl, 0);
    ck_assert_uint_eq(strlen(body), len);
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    ck_assert_msg(root != NULL, "%s: %s", body, je.text);
    ck_assert_str_eq(json_string_value(json_object_get(root, "model_name")), "m");
    ck_assert_str_eq(json_string_value(json_object_get(root, "model_version")), "1");
    ck_assert_str_eq(json_string_value(json_object_get(root, "id")), "id\"1");
    json_t *outs = json_object_get(root, "outputs");
    ck_assert_uint_eq(json_array_size(outs), 2);
    json_t *o0 = json_array_get(outs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(o0, "datatype")), "FP32");
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(o0, "shape"), 0)), 2);
    json_t *d = json_object_get(o0, "data");
    for (int i = 0; i < 4; i++)
        ck_assert((float)json_number_value(json_array_get(d, (size_t)i)) == a[i]);
    ck_assert(strstr(body, "0.1,") != NULL); /* shortest form */
    json_t *d1 = json_object_get(json_array_get(outs, 1), "data");
    ck_assert(json_is_null(json_array_get(d1, 0)));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(outs, 1), "name")),
                     "fe\"at");
    json_decref(root);
    free(body);

    ck_assert_int_eq(cd_kserve_response("m", "1", NULL, o, 1, &body, &len, &jl, &err), CD_OK);
    ck_assert(strstr(body, "\"id\"") == NULL);
    free(body);
}
END_TEST

START_TEST(response_binary)
{
    float a[6] = {1, 2, 3, 4, 5, 6};
    float b[3] = {-1, -2, -3};
    struct cd_kserve_out o[2] = {
        {.name = "fc", .ndim = 2, .shape = {2, 3}, .data = a, .numel = 6, .binary = true},
        {.name = "feat", .ndim = 2, .shape = {1, 3}, .data = b, .numel = 3},
    };
    char *body;
    size_t len, jl;
    struct cd_err err = {0};
    ck_assert_int_eq(cd_kserve_response("m", "1", "x", o, 2, &body, &len, &jl, &err), CD_OK);
    ck_assert_uint_gt(jl, 0);
    ck_assert_uint_eq(len, jl + sizeof a);
    ck_assert(memcmp(body + jl, a, sizeof a) == 0);
    json_error_t je;
    json_t *root = json_loadb(body, jl, 0, &je);
    ck_assert_msg(root != NULL, "%s", je.text);
    json_t *o0 = json_array_get(json_object_get(root, "outputs"), 0);
    ck_assert_ptr_eq(json_object_get(o0, "data"), NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o0, "parameters"),
                                                        "binary_data_size")), 24);
    json_t *o1 = json_array_get(json_object_get(root, "outputs"), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(o1, "data")), 3);
    json_decref(root);
    free(body);
}
END_TEST

static Suite *kserve_suite(void)
{
    Suite *s = suite_create("kserve");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, json_fp32_flat);
    tcase_add_test(tc, json_nested_int_batch);
    tcase_add_test(tc, json_int_types);
    tcase_add_test(tc, binary_fp32_and_others);
    tcase_add_test(tc, binary_bytes);
    tcase_add_test(tc, hostile_json);
    tcase_add_test(tc, hostile_deep_nesting);
    tcase_add_test(tc, hostile_empty);
    tcase_add_test(tc, hostile_binary);
    tcase_add_test(tc, hostile_bytes);
    tcase_add_test(tc, header_len_values);
    tcase_add_test(tc, response_json);
    tcase_add_test(tc, response_binary);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(kserve_suite)
