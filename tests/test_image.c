/* test_image.c — JPEG/PNG decoding (daemon/media/image.c, jpeg_decode.c,
 * png_decode.c) against Pillow-decoded expectations in
 * tests/fixtures/images (made by make_fixtures.py), plus hostile inputs:
 * empty, truncated at every length, corrupted bytes, oversized headers. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/image.h"
#include "media/npy.h"

#define FIX "tests/fixtures/images/"

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(n > 0 ? (size_t)n : 1);
    ck_assert(buf != NULL);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Decodes FIX<file> with want channels and returns the largest absolute
 * difference to FIX<stem>.<rgb|gray>.npy; *mean_diff gets the mean. */
static float decode_diff(const char *file, const char *stem, int want,
                         float *mean_diff)
{
    char path[256];
    struct cd_err err = {0};
    struct cd_image img;
    struct cd_shape s;
    float *exp = NULL;

    snprintf(path, sizeof path, FIX "%s.%s.npy", stem, want == 3 ? "rgb" : "gray");
    ck_assert_msg(cd_npy_load(path, &s, &exp, &err) == CD_OK, "%s", err.msg);
    snprintf(path, sizeof path, FIX "%s", file);
    int rc = cd_image_load_file(path, want, 0, &img, &err);
    ck_assert_msg(rc == CD_OK, "%s: %s", file, err.msg);
    ck_assert_int_eq(s.ndim, 3);
    ck_assert_int_eq(img.height, s.dim[0]);
    ck_assert_int_eq(img.width, s.dim[1]);
    ck_assert_int_eq(img.channels, want);
    ck_assert_int_eq(s.dim[2], want);
    size_t n = (size_t)img.width * img.height * want;
    float worst = 0, sum = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf((float)img.pixels[i] - exp[i]);
        worst = d > worst ? d : worst;
        sum += d;
    }
    if (mean_diff)
        *mean_diff = sum / (float)n;
    cd_image_free(&img);
    free(exp);
    return worst;
}

START_TEST(png_variants_exact)
{
    static const char *const cases[][2] = {
        {"rgb8.png", "rgb8"},       {"rgb8_adam7.png", "rgb8"},
        {"gray8.png", "gray8"},     {"gray2_adam7.png", "gray2_adam7"},
        {"rgba8.png", "rgb8"},      {"pal4_trns.png", "pal4_trns"},
        {"rgb16.png", "rgb16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int want = 1; want <= 3; want += 2) {
            float d = decode_diff(cases[i][0], cases[i][1], want, NULL);
            ck_assert_msg(d == 0, "%s want %d: max diff %g", cases[i][0], want, d);
        }
    /* gray + alpha: alpha dropped, gray kept */
    float d = decode_diff("graya8.png", "gray8", 1, NULL);
    ck_assert_msg(d == 0, "graya8: max diff %g", d);
}
END_TEST

START_TEST(jpeg_variants)
{
    static const char *const stems[] = {"base", "prog", "gray", "cmyk"};
    for (size_t i = 0; i < 4; i++)
        for (int want = 1; want <= 3; want += 2) {
            char file[64];
            float mean;
            snprintf(file, sizeof file, "%s.jpg", stems[i]);
            float d = decode_diff(file, stems[i], want, &mean);
            /* same libjpeg-turbo IDCT and upsampling as Pillow: exact or +-1 */
            ck_assert_msg(d <= 1 && mean < 0.1f, "%s want %d: max %g mean %g",
                          file, want, d, mean);
        }
}
END_TEST

START_TEST(hostile_files)
{
    static const struct {
        const char *file;
        int code;
    } cases[] = {
        {"zero.bin", CD_EFORMAT},      {"trunc.png", CD_EFORMAT},
        {"trunc.jpg", CD_EFORMAT},     {"huge.png", CD_ERANGE},
        {"huge.jpg", CD_ERANGE},       {"badcrc.png", CD_EFORMAT},
        {"bogus.png", CD_EFORMAT},     {"notimage.txt", CD_EUNSUPPORTED},
        {"does-not-exist.png", CD_EIO}, {"", CD_EIO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int want = 1; want <= 3; want += 2) {
            char path[256];
            struct cd_err err = {0};
            struct cd_image img = {.width = 7};
            snprintf(path, sizeof path, FIX "%s", cases[i].file);
            int rc = cd_image_load_file(path, want, 0, &img, &err);
            ck_assert_msg(rc == cases[i].code, "%s: got %s (%s)", cases[i].file,
                          cd_status_name(rc), err.msg);
            ck_assert_msg(err.msg[0] != '\0', "%s: no message", cases[i].file);
            ck_assert(img.pixels == NULL && img.width == 0);
        }
}
END_TEST

START_TEST(messages_are_clear)
{
    struct cd_err err = {0};
    struct cd_image img;
    ck_assert_int_eq(cd_image_load_file(FIX "trunc.png", 3, 0, &img, &err),
                     CD_EFORMAT);
    ck_assert_msg(strstr(err.msg, "PNG: truncated data"), "%s", err.msg);
    ck_assert_int_eq(cd_image_load_file(FIX "notimage.txt", 3, 0, &img, &err),
                     CD_EUNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "unsupported image format"), "%s", err.msg);
    ck_assert_int_eq(cd_image_load_file(FIX "huge.png", 3, 0, &img, &err),
                     CD_ERANGE);
    ck_assert_msg(strstr(err.msg, "100000x100000"), "%s", err.msg);
    ck_assert_int_eq(cd_image_load_file(FIX "trunc.jpg", 3, 0, &img, &err),
                     CD_EFORMAT);
    ck_assert_msg(strncmp(err.msg, FIX "trunc.jpg: JPEG: ", strlen(FIX "trunc.jpg: JPEG: ")) == 0, "%s",
                  err.msg);
}
END_TEST

START_TEST(pixel_budget)
{
    size_t len;
    void *buf = read_all(FIX "rgb8.png", &len);
    struct cd_err err = {0};
    struct cd_image img;
    ck_assert_int_eq(cd_image_decode(buf, len, 3, 13 * 9 - 1, &img, &err),
                     CD_ERANGE);
    ck_assert_int_eq(cd_image_decode(buf, len, 3, 13 * 9, &img, &err), CD_OK);
    cd_image_free(&img);
    free(buf);
    buf = read_all(FIX "base.jpg", &len);
    ck_assert_int_eq(cd_image_decode(buf, len, 1, 32 * 24 - 1, &img, &err),
                     CD_ERANGE);
    ck_assert_int_eq(cd_image_decode(buf, len, 1, 32 * 24, &img, &err), CD_OK);
    cd_image_free(&img);
    free(buf);
}
END_TEST

START_TEST(bad_arguments)
{
    struct cd_err err = {0};
    struct cd_image img;
    size_t len;
    void *buf = read_all(FIX "rgb8.png", &len);
    ck_assert_int_eq(cd_image_decode(buf, len, 2, 0, &img, &err), CD_EINVAL);
    ck_assert_int_eq(cd_image_decode(buf, len, 4, 0, &img, &err), CD_EINVAL);
    ck_assert_int_eq(cd_image_decode(NULL, 5, 3, 0, &img, &err), CD_EINVAL);
    ck_assert_int_eq(cd_image_decode(buf, len, 3, 0, NULL, &err), CD_EINVAL);
    ck_assert_int_eq(cd_image_decode(buf, 0, 3, 0, &img, NULL), CD_EFORMAT);
    ck_assert_int_eq(cd_image_decode("\xFF\xD8", 2, 3, 0, &img, &err),
                     CD_EUNSUPPORTED);
    ck_assert_int_eq(cd_image_load_file(FIX, 3, 0, &img, &err), CD_EIO);
    cd_image_free(NULL);
    free(buf);
}
END_TEST

/* Every prefix must fail cleanly; a PNG missing only its IEND chunk still
 * holds every pixel and may decode. */
static void all_prefixes(const char *file, size_t may_pass_from_end)
{
    size_t len;
    uint8_t *buf = read_all(file, &len);
    for (size_t n = 0; n < len; n++) {
        struct cd_err err = {0};
        struct cd_image img;
        uint8_t *copy = malloc(n ? n : 1); /* exact size: valgrind sees overreads */
        memcpy(copy, buf, n);
        int rc = cd_image_decode(copy, n, 3, 0, &img, &err);
        if (n + may_pass_from_end < len)
            ck_assert_msg(rc != CD_OK, "%s: prefix %zu decoded", file, n);
        ck_assert(rc == CD_OK || err.msg[0]);
        cd_image_free(&img);
        free(copy);
    }
    free(buf);
}

START_TEST(truncated_everywhere)
{
    all_prefixes(FIX "rgb8.png", 12);
    all_prefixes(FIX "rgb8_adam7.png", 12);
    all_prefixes(FIX "pal4_trns.png", 12);
    all_prefixes(FIX "base.jpg", 0);
    all_prefixes(FIX "prog.jpg", 0);
    all_prefixes(FIX "cmyk.jpg", 0);
}
END_TEST

/* Flip each byte in turn: decode may succeed or fail, never crash, and a
 * success is a consistent image. */
static void all_flips(const char *file)
{
    size_t len;
    uint8_t *buf = read_all(file, &len);
    for (size_t i = 0; i < len; i++)
        for (int want = 1; want <= 3; want += 2) {
            struct cd_err err = {0};
            struct cd_image img;
            buf[i] ^= (uint8_t)(0x55 + i);
            int rc = cd_image_decode(buf, len, want, 1 << 20, &img, &err);
            buf[i] ^= (uint8_t)(0x55 + i);
            if (rc == CD_OK) {
                ck_assert(img.pixels && img.width > 0 && img.height > 0);
                ck_assert_int_eq(img.channels, want);
                /* touch every byte so valgrind sees uninitialised ones */
                unsigned sum = 0;
                for (size_t k = 0; k < (size_t)img.width * img.height * want; k++)
                    sum += img.pixels[k];
                ck_assert(sum != 0xFFFFFFFFu);
            } else {
                ck_assert(err.msg[0] != '\0');
            }
            cd_image_free(&img);
        }
    free(buf);
}

START_TEST(corrupted_bytes)
{
    all_flips(FIX "rgb8_adam7.png");
    all_flips(FIX "pal4_trns.png");
    all_flips(FIX "base.jpg");
    all_flips(FIX "prog.jpg");
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("decode");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, png_variants_exact);
    tcase_add_test(tc, jpeg_variants);
    tcase_add_test(tc, hostile_files);
    tcase_add_test(tc, messages_are_clear);
    tcase_add_test(tc, pixel_budget);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, truncated_everywhere);
    tcase_add_test(tc, corrupted_bytes);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(image_suite)
