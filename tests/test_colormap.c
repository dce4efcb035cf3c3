/* test_colormap.c — class palette and heatmap colours (exact values), the
 * blend arithmetic, image sizes, float-map resizing against torch values,
 * agreement with Eigen-CAM's upsampler, and a PNG round trip. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eigencam.h"
#include "media/colormap.h"
#include "media/image.h"
#include "media/png_encode.h"

#define RND(x) ((int)((x) + 0.5f)) /* the rounding colormap.c documents */

START_TEST(palette)
{
    const uint8_t want[][3] = { { 0, 0, 0 },     { 128, 0, 0 },   { 0, 128, 0 },
                                { 128, 128, 0 }, { 0, 0, 128 },   { 128, 0, 128 },
                                { 0, 128, 128 }, { 128, 128, 128 }, { 64, 0, 0 },
                                { 192, 0, 0 } };
    uint8_t c[3];
    for (int k = 0; k < 10; k++) {
        cd_colormap_class(k, c);
        ck_assert_msg(!memcmp(c, want[k], 3), "class %d: %d %d %d", k, c[0], c[1], c[2]);
    }
    cd_colormap_class(255, c);
    ck_assert(c[0] == 224 && c[1] == 224 && c[2] == 192);
    /* all 256 distinct */
    for (int a = 0; a < 256; a++)
        for (int b = a + 1; b < 256; b++) {
            uint8_t x[3], y[3];
            cd_colormap_class(a, x);
            cd_colormap_class(b, y);
            ck_assert_msg(memcmp(x, y, 3), "%d and %d share a colour", a, b);
        }
}
END_TEST

START_TEST(heat)
{
    uint8_t c[3];
    cd_colormap_heat(0.0f, c);
    ck_assert(c[0] == 48 && c[1] == 18 && c[2] == 59);
    cd_colormap_heat(1.0f, c);
    ck_assert(c[0] == 122 && c[1] == 4 && c[2] == 3);
    cd_colormap_heat(0.5f, c);
    ck_assert(c[0] == 98 && c[1] == 252 && c[2] == 108);
    cd_colormap_heat(1.0f / 16.0f, c); /* halfway between stops 0 and 1 */
    ck_assert(c[0] == 57 && c[1] == 51 && c[2] == 129);
    cd_colormap_heat(-3.0f, c);
    ck_assert(c[0] == 48 && c[1] == 18);
    cd_colormap_heat(NAN, c);
    ck_assert(c[0] == 48 && c[1] == 18);
    cd_colormap_heat(7.0f, c);
    ck_assert(c[0] == 122 && c[2] == 3);
}
END_TEST

START_TEST(images_and_blend)
{
    struct cd_err err = { 0 };
    uint8_t px[2 * 3 * 3];
    for (int i = 0; i < 18; i++)
        px[i] = (uint8_t)(i * 14);
    struct cd_image img = { .width = 3, .height = 2, .channels = 3, .pixels = px };
    const uint8_t cls[6] = { 0, 1, 2, 0, 3, 255 };
    struct cd_image out = { 0 };
    ck_assert_int_eq(cd_colormap_classes_image(cls, 3, 2, &out, &err), CD_OK);
    ck_assert(out.width == 3 && out.height == 2 && out.channels == 3);
    ck_assert(out.pixels[3] == 128 && out.pixels[4] == 0 && out.pixels[0] == 0);
    cd_image_free(&out);
    ck_assert_int_eq(cd_colormap_blend_classes(&img, cls, 0.25f, &out, &err), CD_OK);
    /* background pixel 0 unchanged; pixel 1 (14*3..) blended with (128,0,0) */
    ck_assert(!memcmp(out.pixels, px, 3));
    ck_assert_int_eq(out.pixels[3], RND(0.75f * 42 + 0.25f * 128));
    ck_assert_int_eq(out.pixels[4], RND(0.75f * 56));
    ck_assert_int_eq(out.pixels[5], RND(0.75f * 70));
    cd_image_free(&out);
    const float map[6] = { 0, 1, 0.5f, NAN, 0.25f, 2 };
    ck_assert_int_eq(cd_colormap_blend_heat(&img, map, 1.0f, &out, &err), CD_OK);
    ck_assert(out.pixels[3] == 122 && out.pixels[4] == 4 && out.pixels[5] == 3);
    cd_image_free(&out);
    ck_assert_int_eq(cd_colormap_blend_heat(&img, map, 0.0f, &out, &err), CD_OK);
    ck_assert(!memcmp(out.pixels, px, 18));
    cd_image_free(&out);
    /* gray input becomes RGB */
    uint8_t g[6] = { 10, 20, 30, 40, 50, 60 };
    struct cd_image gi = { .width = 3, .height = 2, .channels = 1, .pixels = g };
    ck_assert_int_eq(cd_colormap_blend_heat(&gi, map, 0.5f, &out, &err), CD_OK);
    ck_assert_int_eq(out.pixels[0], RND(0.5f * 10 + 0.5f * 48));
    ck_assert_int_eq(out.pixels[1], RND(0.5f * 10 + 0.5f * 18));
    /* PNG of the result */
    void *png = NULL;
    size_t len = 0;
    ck_assert_int_eq(cd_image_encode_png(&out, &png, &len, &err), CD_OK);
    struct cd_image back = { 0 };
    ck_assert_int_eq(cd_image_decode(png, len, 3, 0, &back, &err), CD_OK);
    ck_assert(back.width == 3 && back.height == 2);
    ck_assert(!memcmp(back.pixels, out.pixels, 18));
    free(png);
    cd_image_free(&back);
    cd_image_free(&out);
    /* refusals */
    ck_assert_int_eq(cd_colormap_blend_heat(&img, map, 1.5f, &out, &err), CD_EINVAL);
    ck_assert_int_eq(cd_colormap_blend_heat(&img, map, NAN, &out, &err), CD_EINVAL);
    ck_assert_int_eq(cd_colormap_blend_heat(&img, NULL, 0.5f, &out, &err), CD_EINVAL);
    ck_assert_int_eq(cd_colormap_heat_image(map, 0, 2, &out, &err), CD_EINVAL);
    ck_assert_ptr_null(out.pixels);
    ck_assert_int_eq(cd_colormap_classes_image(cls, 70000, 1, &out, &err), CD_EINVAL);
}
END_TEST

START_TEST(resize)
{
    struct cd_err err = { 0 };
    const float src[6] = { 1, 2, 3, 4, 5, 6 };
    float dst[12], up[12];
    /* torch F.interpolate(size=(3,4), bilinear, align_corners=False) */
    const float want[12] = { 1.0f, 1.625f, 2.375f, 3.0f, 2.5f, 3.125f,
                             3.875f, 4.5f, 4.0f, 4.625f, 5.375f, 6.0f };
    ck_assert_int_eq(cd_colormap_resize(src, 2, 3, dst, 3, 4, CD_FMAP_BILINEAR, &err), CD_OK);
    for (int i = 0; i < 12; i++)
        ck_assert_msg(fabsf(dst[i] - want[i]) < 1e-5f, "%d: %g", i, dst[i]);
    ck_assert_int_eq(cd_eigencam_upsample(src, 2, 3, up, 3, 4, &err), CD_OK);
    ck_assert(!memcmp(up, dst, sizeof up));
    float nn[15];
    const float wn[15] = { 1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6 };
    ck_assert_int_eq(cd_colormap_resize(src, 2, 3, nn, 3, 5, CD_FMAP_NEAREST, &err), CD_OK);
    ck_assert(!memcmp(nn, wn, sizeof wn));
    ck_assert_int_eq(cd_colormap_resize(src, 2, 3, nn, 3, 5, CD_FMAP_COUNT, &err), CD_EINVAL);
    ck_assert_int_eq(cd_colormap_resize(src, 2, 3, nn, 0, 5, CD_FMAP_NEAREST, &err), CD_EINVAL);
}
END_TEST

static Suite *colormap_suite(void)
{
    Suite *s = suite_create("colormap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, palette);
    tcase_add_test(tc, heat);
    tcase_add_test(tc, images_and_blend);
    tcase_add_test(tc, resize);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(colormap_suite)
