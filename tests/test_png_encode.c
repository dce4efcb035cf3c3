/* test_png_encode.c — PNG encoding (daemon/media/png_encode.c): gray and
 * RGB images of odd sizes survive encode + decode bit-exactly, output is
 * a real PNG, bad images are refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "media/image.h"
#include "media/png_encode.h"

static void round_trip(int w, int h, int ch)
{
    struct cd_image img = {.width = w, .height = h, .channels = ch}, back;
    size_t n = (size_t)w * h * ch, len;
    void *png;
    struct cd_err err = {0};
    img.pixels = malloc(n);
    for (size_t i = 0; i < n; i++)
        img.pixels[i] = (uint8_t)(i * 37 + i / 7);
    ck_assert_msg(cd_image_encode_png(&img, &png, &len, &err) == CD_OK, "%s",
                  err.msg);
    ck_assert(len > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    ck_assert_msg(cd_image_decode(png, len, ch, 0, &back, &err) == CD_OK, "%s",
                  err.msg);
    ck_assert(back.width == w && back.height == h && back.channels == ch);
    ck_assert(memcmp(back.pixels, img.pixels, n) == 0);
    cd_image_free(&back);
    cd_image_free(&img);
    free(png);
}

START_TEST(gray_and_rgb)
{
    round_trip(1, 1, 1);
    round_trip(13, 9, 1);
    round_trip(13, 9, 3);
    round_trip(640, 3, 3);
    round_trip(3, 300, 1);
}
END_TEST

START_TEST(bad_images)
{
    uint8_t px[12] = {0};
    struct cd_image img = {.width = 2, .height = 2, .channels = 3, .pixels = px};
    void *png = (void *)1;
    size_t len = 5;
    struct cd_err err = {0};
    img.channels = 2;
    ck_assert_int_eq(cd_image_encode_png(&img, &png, &len, &err), CD_EINVAL);
    ck_assert(png == NULL && len == 0);
    img.channels = 3;
    img.width = 0;
    ck_assert_int_eq(cd_image_encode_png(&img, &png, &len, &err), CD_EINVAL);
    img.width = 2;
    img.pixels = NULL;
    ck_assert_int_eq(cd_image_encode_png(&img, &png, &len, &err), CD_EINVAL);
    ck_assert_int_eq(cd_image_encode_png(NULL, &png, &len, &err), CD_EINVAL);
    img.pixels = px;
    ck_assert_int_eq(cd_image_encode_png(&img, NULL, &len, &err), CD_EINVAL);
    ck_assert_int_eq(cd_image_encode_png(&img, &png, &len, &err), CD_OK);
    free(png);
}
END_TEST

static Suite *png_encode_suite(void)
{
    Suite *s = suite_create("png_encode");
    TCase *tc = tcase_create("png_encode");
    tcase_add_test(tc, gray_and_rgb);
    tcase_add_test(tc, bad_images);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(png_encode_suite)
