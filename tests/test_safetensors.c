/* test_safetensors.c — the safetensors parser on valid blobs and on hostile
 * ones (truncated, oversized, overflowing, overlapping, duplicated): every
 * refusal must carry the right status and name the culprit. */
#include "engine/safetensors.h"

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 8-byte little-endian hlen, the header text, then data_len bytes 0..255. */
static unsigned char *blob_len(uint64_t hlen, const char *hdr, size_t data_len,
                               size_t *len)
{
    size_t n = strlen(hdr);
    *len = 8 + n + data_len;
    unsigned char *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + 8, hdr, n);
    for (size_t i = 0; i < data_len; i++)
        b[8 + n + i] = (unsigned char)i;
    return b;
}

static unsigned char *blob(const char *hdr, size_t data_len, size_t *len)
{
    return blob_len(strlen(hdr), hdr, data_len, len);
}

/* Parses hdr + data_len bytes, expects status code and every substring. */
static void expect(const char *hdr, size_t data_len, int code, const char *s1,
                   const char *s2)
{
    size_t len;
    unsigned char *b = blob(hdr, data_len, &len);
    struct cd_safetensors *st = (void *)1;
    struct cd_err e = { 0 };
    int rc = cd_safetensors_parse_buffer(b, len, &st, &e);
    ck_assert_msg(rc == code, "header %s: got %s (%s), want %s", hdr,
                  cd_status_name(rc), e.msg, cd_status_name(code));
    ck_assert_ptr_null(st);
    ck_assert_msg(strstr(e.msg, s1), "message \"%s\" lacks \"%s\"", e.msg, s1);
    ck_assert_msg(!s2 || strstr(e.msg, s2), "message \"%s\" lacks \"%s\"",
                  e.msg, s2);
    free(b);
}

START_TEST(valid_blob)
{
    const char *hdr = "{\"__metadata__\":{\"format\":\"pt\"},"
                      "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[24,28]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                      "\"c\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[28,30]},"
                      "\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[30,30]}}";
    size_t len;
    unsigned char *b = blob(hdr, 30, &len);
    struct cd_safetensors *st = NULL;
    struct cd_err e = { 0 };
    ck_assert_int_eq(cd_safetensors_parse_buffer(b, len, &st, &e), CD_OK);
    ck_assert_int_eq(st->n, 4);
    ck_assert_ptr_null(st->map);
    const struct cd_st_tensor *a = cd_safetensors_find(st, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->dtype, CD_DTYPE_F32);
    ck_assert_int_eq(a->shape.ndim, 2);
    ck_assert_int_eq(a->shape.dim[1], 3);
    ck_assert_uint_eq(a->nbytes, 24);
    ck_assert_ptr_eq(a->data, b + 8 + strlen(hdr));
    const struct cd_st_tensor *c = cd_safetensors_find(st, "c");
    ck_assert_int_eq(c->dtype, CD_DTYPE_BF16);
    ck_assert_int_eq(c->shape.ndim, 0);
    ck_assert_ptr_eq(c->data, b + 8 + strlen(hdr) + 28);
    ck_assert_ptr_nonnull(cd_safetensors_find(st, "e"));
    ck_assert_ptr_null(cd_safetensors_find(st, "__metadata__"));
    ck_assert_ptr_null(cd_safetensors_find(st, "zz"));
    cd_safetensors_free(st);
    cd_safetensors_free(NULL);
    free(b);
}
END_TEST

START_TEST(empty_header_object)
{
    size_t len;
    unsigned char *b = blob("{}      ", 0, &len); /* padded with spaces */
    struct cd_safetensors *st = NULL;
    ck_assert_int_eq(cd_safetensors_parse_buffer(b, len, &st, NULL), CD_OK);
    ck_assert_int_eq(st->n, 0);
    cd_safetensors_free(st);
    free(b);
}
END_TEST

START_TEST(open_file)
{
    char path[] = "/tmp/cd_st_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t len;
    unsigned char *b = blob("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                            "\"data_offsets\":[0,8]}}", 8, &len);
    ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
    close(fd);
    struct cd_safetensors *st = NULL;
    struct cd_err e = { 0 };
    ck_assert_int_eq(cd_safetensors_open(path, &st, &e), CD_OK);
    ck_assert_ptr_nonnull(st->map);
    ck_assert_uint_eq(st->map_len, len);
    const struct cd_st_tensor *w = cd_safetensors_find(st, "w");
    ck_assert_int_eq(memcmp(w->data, b + len - 8, 8), 0);
    cd_safetensors_free(st);
    /* a 3-byte file: refused before mmap, message names the path */
    ck_assert_int_eq(truncate(path, 3), 0);
    ck_assert_int_eq(cd_safetensors_open(path, &st, &e), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
    ck_assert_ptr_nonnull(strstr(e.msg, "too short"));
    /* truncated inside the data area */
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, b, len - 3), (ssize_t)len - 3);
    close(fd);
    ck_assert_int_eq(cd_safetensors_open(path, &st, &e), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "tensor \"w\""));
    ck_assert_ptr_nonnull(strstr(e.msg, "beyond the data area"));
    unlink(path);
    ck_assert_int_eq(cd_safetensors_open(path, &st, &e), CD_EIO);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
    ck_assert_ptr_null(st);
    free(b);
}
END_TEST

START_TEST(hostile_lengths)
{
    struct cd_safetensors *st = NULL;
    struct cd_err e = { 0 };
    unsigned char small[5] = { 0 };
    ck_assert_int_eq(cd_safetensors_parse_buffer(small, 5, &st, &e),
                     CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "too short"));
    size_t len;
    unsigned char *b = blob_len(0, "{}", 0, &len);
    ck_assert_int_eq(cd_safetensors_parse_buffer(b, len, &st, &e), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "header length is 0"));
    free(b);
    b = blob_len(1000, "{}", 4, &len);
    ck_assert_int_eq(cd_safetensors_parse_buffer(b, len, &st, &e), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "larger than the file"));
    free(b);
    b = blob_len((uint64_t)200 << 20, "{}", 0, &len);
    ck_assert_int_eq(cd_safetensors_parse_buffer(b, len, &st, &e), CD_EFORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "100 MB"));
    free(b);
    b = blob_len(UINT64_MAX, "{}", 0, &len); /* must not wrap around */
    ck_assert_int_eq(cd_safetensors_parse_buffer(b, len, &st, &e), CD_EFORMAT);
    free(b);
    ck_assert_ptr_null(st);
}
END_TEST

#define T(body) "{\"t\":{" body "}}"
#define F32x2 "\"dtype\":\"F32\",\"shape\":[2]"

START_TEST(hostile_json)
{
    expect("{\"t\":", 0, CD_EFORMAT, "not valid JSON", NULL);
    expect("[1, 2]", 0, CD_EFORMAT, "not a JSON object", NULL);
    expect("{\"t\":[1]}", 0, CD_EFORMAT, "tensor \"t\"", "not an object");
    expect("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
           "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
           8, CD_EFORMAT, "duplicate", "t");
}
END_TEST

START_TEST(hostile_fields)
{
    expect(T("\"shape\":[2],\"data_offsets\":[0,8]"), 8, CD_EFORMAT,
           "tensor \"t\"", "missing \"dtype\"");
    expect(T("\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]"), 8,
           CD_EFORMAT, "tensor \"t\"", "\"dtype\"");
    expect(T("\"dtype\":\"F32\",\"data_offsets\":[0,8]"), 8, CD_EFORMAT,
           "tensor \"t\"", "missing \"shape\"");
    expect(T(F32x2), 8, CD_EFORMAT, "tensor \"t\"", "data_offsets");
    expect(T(F32x2 ",\"data_offsets\":[0]"), 8, CD_EFORMAT, "tensor \"t\"",
           "data_offsets");
    expect(T("\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]"), 8,
           CD_EUNSUPPORTED, "tensor \"t\"", "\"I64\"");
    expect(T("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],"
             "\"data_offsets\":[0,4]"), 4, CD_EFORMAT, "tensor \"t\"",
           "rank 7");
    expect(T("\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]"), 8,
           CD_EFORMAT, "tensor \"t\"", "shape[0]");
    expect(T("\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]"), 8,
           CD_EFORMAT, "tensor \"t\"", "shape[0]");
    expect(T("\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
             "\"data_offsets\":[0,8]"), 8, CD_EFORMAT, "tensor \"t\"",
           "overflows");
    expect(T("\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
             "\"data_offsets\":[0,8]"), 8, CD_EFORMAT, "tensor \"t\"",
           "overflows");
}
END_TEST

START_TEST(hostile_offsets)
{
    expect(T(F32x2 ",\"data_offsets\":[0,12]"), 12, CD_EFORMAT,
           "tensor \"t\"", "needs 8 bytes");
    expect(T("\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]"), 8,
           CD_EFORMAT, "tensor \"t\"", "F16 shape needs 4 bytes");
    expect(T(F32x2 ",\"data_offsets\":[8,0]"), 8, CD_EFORMAT, "tensor \"t\"",
           "reversed");
    expect(T(F32x2 ",\"data_offsets\":[4,12]"), 8, CD_EFORMAT,
           "tensor \"t\"", "beyond the data area");
    expect(T(F32x2 ",\"data_offsets\":[-8,0]"), 8, CD_EFORMAT,
           "tensor \"t\"", "data_offsets");
    expect(T(F32x2 ",\"data_offsets\":[18446744073709551608,0]"), 8,
           CD_EFORMAT, "JSON", NULL); /* jansson refuses the integer */
    expect("{\"a\":{" F32x2 ",\"data_offsets\":[0,8]},"
           "\"b\":{" F32x2 ",\"data_offsets\":[12,20]},"
           "\"c\":{" F32x2 ",\"data_offsets\":[4,12]}}", 20, CD_EFORMAT,
           "overlaps", "\"a\"");
    /* a big tensor swallowing a later small one */
    expect("{\"big\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},"
           "\"x\":{" F32x2 ",\"data_offsets\":[8,16]},"
           "\"y\":{" F32x2 ",\"data_offsets\":[20,28]}}", 32, CD_EFORMAT,
           "overlaps tensor \"big\"", NULL);
}
END_TEST

static Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, valid_blob);
    tcase_add_test(tc, empty_header_object);
    tcase_add_test(tc, open_file);
    tcase_add_test(tc, hostile_lengths);
    tcase_add_test(tc, hostile_json);
    tcase_add_test(tc, hostile_fields);
    tcase_add_test(tc, hostile_offsets);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(safetensors_suite)
