/* test_npy.c — .npy reading and writing (daemon/media/npy.c): round trips
 * through cd_npy_save/cd_npy_load, files written by NumPy, '<f8'
 * conversion, versions 2.0/3.0, and hostile headers and lengths. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media/npy.h"

/* A version-1.0 .npy image: magic, header dict padded to 64, then data. */
static uint8_t *make_npy(const char *dict, const void *data, size_t nbytes,
                         size_t *len)
{
    size_t dl = strlen(dict), hlen = (dl + 1 + 10 + 63) / 64 * 64 - 10;
    uint8_t *b = malloc(10 + hlen + nbytes + 1);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (uint8_t)(hlen & 0xFF);
    b[9] = (uint8_t)(hlen >> 8);
    memset(b + 10, ' ', hlen);
    memcpy(b + 10, dict, dl);
    b[10 + hlen - 1] = '\n';
    if (nbytes)
        memcpy(b + 10 + hlen, data, nbytes);
    *len = 10 + hlen + nbytes;
    return b;
}

static int parse_dict(const char *dict, size_t nbytes, struct cd_err *err)
{
    static const uint8_t zeros[256];
    size_t len;
    struct cd_shape s;
    float *d = (float *)1;
    uint8_t *b = make_npy(dict, zeros, nbytes, &len);
    int rc = cd_npy_parse(b, len, &s, &d, err);
    if (rc != CD_OK)
        ck_assert(d == NULL);
    free(d);
    free(b);
    return rc;
}

START_TEST(round_trip)
{
    static const int64_t dims[][4] = {{0}, {5}, {2, 3}, {3, 1, 4}, {2, 0, 3},
                                      {1, 2, 3, 4}};
    static const int ndims[] = {0, 1, 2, 3, 3, 4};
    char path[] = "/tmp/convd_test_npy_XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    for (int t = 0; t < 6; t++) {
        struct cd_shape s = cd_shape_make(ndims[t], dims[t]), got;
        int64_t n = cd_shape_numel(&s);
        float *data = malloc((size_t)(n ? n : 1) * sizeof(float)), *back = NULL;
        for (int64_t i = 0; i < n; i++)
            data[i] = (float)i * 0.5f - 3.25f;
        struct cd_err err = {0};
        ck_assert_msg(cd_npy_save(path, &s, data, &err) == CD_OK, "%s", err.msg);
        ck_assert_msg(cd_npy_load(path, &got, &back, &err) == CD_OK, "%s", err.msg);
        ck_assert(cd_shape_eq(&s, &got));
        ck_assert(back != NULL);
        ck_assert(n == 0 || memcmp(data, back, (size_t)n * sizeof(float)) == 0);
        free(data);
        free(back);
    }
    unlink(path);
}
END_TEST

START_TEST(numpy_written)
{
    /* written by numpy.save in make_fixtures.py: (9, 13, 3) float32 */
    struct cd_shape s;
    float *d;
    struct cd_err err = {0};
    ck_assert_msg(cd_npy_load("tests/fixtures/images/rgb8.rgb.npy", &s, &d,
                              &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(s.ndim, 3);
    ck_assert(s.dim[0] == 9 && s.dim[1] == 13 && s.dim[2] == 3);
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 13; x++)
            ck_assert(d[(y * 13 + x) * 3] == (float)((x * 19 + y * 3) % 256));
    free(d);
}
END_TEST

START_TEST(f8_and_versions)
{
    double v[3] = {1.5, -2.25, 1e10};
    size_t len;
    struct cd_shape s;
    float *d;
    struct cd_err err = {0};
    uint8_t *b = make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                          v, sizeof v, &len);
    ck_assert_msg(cd_npy_parse(b, len, &s, &d, &err) == CD_OK, "%s", err.msg);
    ck_assert(s.ndim == 1 && s.dim[0] == 3);
    ck_assert(d[0] == 1.5f && d[1] == -2.25f && d[2] == 1e10f);
    free(d);
    free(b);

    /* version 2.0: 4-byte header length; double quotes, key order free */
    const char *dict = "{\"shape\": (1L, 2), \"fortran_order\": False, "
                       "\"descr\": \"<f4\"}\n";
    float f[2] = {7, 8};
    size_t hl = strlen(dict);
    b = malloc(12 + hl + sizeof f);
    memcpy(b, "\x93NUMPY\x02\x00", 8);
    b[8] = (uint8_t)hl;
    b[9] = b[10] = b[11] = 0;
    memcpy(b + 12, dict, hl);
    memcpy(b + 12 + hl, f, sizeof f);
    ck_assert_msg(cd_npy_parse(b, 12 + hl + sizeof f, &s, &d, &err) == CD_OK,
                  "%s", err.msg);
    ck_assert(s.ndim == 2 && s.dim[0] == 1 && s.dim[1] == 2 && d[1] == 8);
    free(d);
    b[6] = 9; /* unknown major version */
    ck_assert_int_eq(cd_npy_parse(b, 12 + hl + sizeof f, &s, &d, &err),
                     CD_EUNSUPPORTED);
    b[6] = 2;
    b[11] = 0x7F; /* header length beyond the file */
    ck_assert_int_eq(cd_npy_parse(b, 12 + hl + sizeof f, &s, &d, &err),
                     CD_EFORMAT);
    free(b);
}
END_TEST

START_TEST(hostile_headers)
{
    struct cd_err err = {0};
#define D(shape_descr) "{'descr': '<f4', 'fortran_order': False, 'shape': " shape_descr ", }"
    ck_assert_int_eq(parse_dict(D("(2, 3)"), 24, &err), CD_OK);
    ck_assert_int_eq(parse_dict(D("(2, 3)"), 23, &err), CD_EFORMAT); /* short */
    ck_assert_int_eq(parse_dict(D("(2, 3)"), 25, &err), CD_EFORMAT); /* long */
    ck_assert_int_eq(parse_dict(D("(-1,)"), 0, &err), CD_EFORMAT);
    ck_assert_int_eq(parse_dict(D("(99999999999999999999999,)"), 0, &err),
                     CD_ERANGE);
    ck_assert_int_eq(parse_dict(D("(1099511627776, 1099511627776)"), 0, &err),
                     CD_ERANGE); /* product overflows */
    ck_assert_int_eq(parse_dict(D("(1, 1, 1, 1, 1, 1, 1)"), 4, &err),
                     CD_EUNSUPPORTED);
    ck_assert_int_eq(parse_dict(D("[2, 3]"), 24, &err), CD_EFORMAT);
    ck_assert_int_eq(parse_dict(D("(2 3)"), 24, &err), CD_EFORMAT);
    ck_assert_int_eq(parse_dict(D("(2,,)"), 8, &err), CD_EFORMAT);
    ck_assert_int_eq(parse_dict(D("(2,"), 8, &err), CD_EFORMAT);
#undef D
    ck_assert_int_eq(parse_dict("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", 4, &err),
                     CD_EUNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "<i4"), "%s", err.msg);
    ck_assert_int_eq(parse_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 4, &err),
                     CD_EUNSUPPORTED);
    ck_assert_int_eq(parse_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", 4, &err),
                     CD_EUNSUPPORTED);
    ck_assert_int_eq(parse_dict("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", 4, &err),
                     CD_EFORMAT);
    ck_assert_int_eq(parse_dict("{'descr': '<f4', 'shape': (1,), }", 4, &err),
                     CD_EFORMAT); /* missing key */
    ck_assert_int_eq(parse_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4, &err),
                     CD_EFORMAT); /* duplicate */
    ck_assert_int_eq(parse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4, &err),
                     CD_EFORMAT); /* unknown */
    ck_assert_int_ne(parse_dict("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", 4, &err),
                     CD_OK); /* broken quote */
    ck_assert_int_eq(parse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", 4, &err),
                     CD_EFORMAT); /* trailing garbage */
    ck_assert_int_eq(parse_dict("'descr': '<f4'", 4, &err), CD_EFORMAT);
    ck_assert_int_eq(parse_dict("", 4, &err), CD_EFORMAT);

    struct cd_shape s;
    float *d;
    ck_assert_int_eq(cd_npy_parse("\x93NUMPX\x01\x00\x00\x00", 10, &s, &d, &err),
                     CD_EFORMAT);
    ck_assert_int_eq(cd_npy_parse("", 0, &s, &d, &err), CD_EFORMAT);
    ck_assert_int_eq(cd_npy_parse(NULL, 4, &s, &d, &err), CD_EINVAL);
    ck_assert_int_eq(cd_npy_load("/nonexistent/x.npy", &s, &d, &err), CD_EIO);
    ck_assert_int_eq(cd_npy_load("tests", &s, &d, &err), CD_EIO);
}
END_TEST

START_TEST(truncated_everywhere)
{
    size_t len;
    float data[6] = {1, 2, 3, 4, 5, 6};
    uint8_t *b = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                          data, sizeof data, &len);
    for (size_t n = 0; n < len; n++) {
        struct cd_shape s;
        float *d;
        struct cd_err err = {0};
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b, n);
        ck_assert_int_ne(cd_npy_parse(copy, n, &s, &d, &err), CD_OK);
        ck_assert(err.msg[0] != '\0');
        free(copy);
    }
    free(b);
}
END_TEST

START_TEST(save_errors)
{
    struct cd_err err = {0};
    struct cd_shape s = {.ndim = 1, .dim = {-2}};
    float x = 0;
    ck_assert_int_eq(cd_npy_save("/tmp/convd_never.npy", &s, &x, &err), CD_EINVAL);
    s.dim[0] = 1;
    ck_assert_int_eq(cd_npy_save("/nonexistent/dir/x.npy", &s, &x, &err), CD_EIO);
    ck_assert_int_eq(cd_npy_save("/tmp/convd_never.npy", &s, NULL, &err), CD_EINVAL);
}
END_TEST

static Suite *npy_suite(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, numpy_written);
    tcase_add_test(tc, f8_and_versions);
    tcase_add_test(tc, hostile_headers);
    tcase_add_test(tc, truncated_everywhere);
    tcase_add_test(tc, save_errors);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(npy_suite)
