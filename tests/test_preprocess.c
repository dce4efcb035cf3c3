/* test_preprocess.c — resize policies and normalisation
 * (daemon/media/preprocess.c) against torchvision Resize/CenterCrop/
 * Normalize outputs stored in tests/fixtures/images, letterbox margins,
 * gray models, and invalid parameters. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/image.h"
#include "media/npy.h"
#include "media/preprocess.h"

#define FIX "tests/fixtures/images/"

static struct cd_preprocess imagenet(int w, int h, enum cd_resize r, int to)
{
    return (struct cd_preprocess){
        .kind = CD_INPUT_IMAGE, .width = w, .height = h, .channels = 3,
        .resize = r, .resize_to = to, .scale = 255.0f,
        .mean = {0.485f, 0.456f, 0.406f}, .std = {0.229f, 0.224f, 0.225f},
        .pad_value = 0.5f};
}

static float run_case(const char *npy, const struct cd_preprocess *p)
{
    struct cd_image img;
    struct cd_err err = {0};
    struct cd_shape s;
    float *exp;
    char path[128];
    ck_assert(cd_image_load_file(FIX "rgb8.png", 3, 0, &img, &err) == CD_OK);
    snprintf(path, sizeof path, FIX "%s", npy);
    ck_assert_msg(cd_npy_load(path, &s, &exp, &err) == CD_OK, "%s", err.msg);
    ck_assert(s.ndim == 3 && s.dim[0] == 3 && s.dim[1] == p->height &&
              s.dim[2] == p->width);
    size_t n = (size_t)3 * p->width * p->height;
    float *out = malloc(n * sizeof(float));
    ck_assert_msg(cd_preprocess_image(&img, p, out, &err) == CD_OK, "%s", err.msg);
    float worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmaxf(worst, fabsf(out[i] - exp[i]));
    free(out);
    free(exp);
    cd_image_free(&img);
    return worst;
}

START_TEST(policies_match_torchvision)
{
    struct {
        const char *npy;
        struct cd_preprocess p;
    } cases[] = {
        {"pre_stretch.npy", imagenet(8, 6, CD_RESIZE_STRETCH, 0)},
        {"pre_crop.npy", imagenet(6, 6, CD_RESIZE_SHORTER_CROP, 7)},
        {"pre_crop_pad.npy", imagenet(8, 6, CD_RESIZE_SHORTER_CROP, 5)},
        {"pre_crop_odd.npy", imagenet(10, 9, CD_RESIZE_SHORTER_CROP, 12)},
        {"pre_letterbox.npy", imagenet(10, 10, CD_RESIZE_LETTERBOX, 0)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float d = run_case(cases[i].npy, &cases[i].p);
        ck_assert_msg(d < 1e-4f, "%s: max diff %g", cases[i].npy, d);
    }
}
END_TEST

/* resize_to 0 means the shorter side of size: 13x9 -> 6x6 crop from 8x6 */
START_TEST(crop_default_resize_to)
{
    struct cd_image img;
    struct cd_err err = {0};
    ck_assert(cd_image_load_file(FIX "rgb8.png", 3, 0, &img, &err) == CD_OK);
    struct cd_preprocess a = imagenet(6, 6, CD_RESIZE_SHORTER_CROP, 0);
    struct cd_preprocess b = imagenet(6, 6, CD_RESIZE_SHORTER_CROP, 6);
    float oa[108], ob[108];
    ck_assert(cd_preprocess_image(&img, &a, oa, &err) == CD_OK);
    ck_assert(cd_preprocess_image(&img, &b, ob, &err) == CD_OK);
    ck_assert(memcmp(oa, ob, sizeof oa) == 0);
    cd_image_free(&img);
}
END_TEST

/* Tall image letterboxed into a wide box: pad left and right. Gray model
 * with scale 1 and no mean/std keeps pixel values. */
START_TEST(letterbox_gray_margins)
{
    struct cd_image img = {.width = 2, .height = 4, .channels = 1};
    uint8_t px[9] = {10, 10, 10, 10, 10, 10, 10, 10, 10};
    img.pixels = px;
    struct cd_preprocess p = {.kind = CD_INPUT_IMAGE, .width = 8, .height = 4,
                              .channels = 1, .resize = CD_RESIZE_LETTERBOX,
                              .scale = 1, .mean = {0}, .std = {1},
                              .pad_value = -7};
    float out[32];
    struct cd_err err = {0};
    ck_assert_msg(cd_preprocess_image(&img, &p, out, &err) == CD_OK, "%s", err.msg);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++)
            ck_assert_msg(out[y * 8 + x] == (x >= 3 && x < 5 ? 10.0f : -7.0f),
                          "(%d,%d) = %g", x, y, out[y * 8 + x]);
    /* odd margin: 3x3 into 8x4 -> 4x4 at x = 2 */
    img.width = img.height = 3;
    ck_assert(cd_preprocess_image(&img, &p, out, &err) == CD_OK);
    for (int x = 0; x < 8; x++)
        ck_assert(out[x] == (x >= 2 && x < 6 ? 10.0f : -7.0f));
}
END_TEST

START_TEST(invalid_parameters)
{
    uint8_t px[12] = {0};
    struct cd_image img = {.width = 2, .height = 2, .channels = 3, .pixels = px};
    float out[3 * 4 * 4];
    struct cd_err err = {0};
    struct cd_preprocess ok = imagenet(4, 4, CD_RESIZE_STRETCH, 0), p;
    ck_assert_int_eq(cd_preprocess_image(&img, &ok, out, &err), CD_OK);
#define BAD(field, value)                                                   \
    do {                                                                    \
        p = ok;                                                             \
        p.field = value;                                                    \
        ck_assert_int_eq(cd_preprocess_image(&img, &p, out, &err), CD_EINVAL); \
        ck_assert(err.msg[0] != '\0');                                      \
    } while (0)
    BAD(width, 0);
    BAD(height, -3);
    BAD(width, CD_PREPROCESS_MAX_SIDE + 1);
    BAD(channels, 1); /* image has 3 */
    BAD(channels, 2);
    BAD(scale, 0.0f);
    BAD(scale, NAN);
    BAD(std[1], 0.0f);
    BAD(mean[2], INFINITY);
    BAD(pad_value, NAN);
    BAD(resize, CD_RESIZE_COUNT);
    BAD(resize_to, -1);
#undef BAD
    ck_assert_int_eq(cd_preprocess_image(NULL, &ok, out, &err), CD_EINVAL);
    ck_assert_int_eq(cd_preprocess_image(&img, NULL, out, &err), CD_EINVAL);
    ck_assert_int_eq(cd_preprocess_image(&img, &ok, NULL, &err), CD_EINVAL);
    /* 1 x 30000 strip: shorter side 4 makes the long side 120000 > OK */
    uint8_t *strip = calloc(30000, 3);
    struct cd_image s = {.width = 30000, .height = 1, .channels = 3, .pixels = strip};
    p = imagenet(4, 4, CD_RESIZE_SHORTER_CROP, 4);
    ck_assert_int_eq(cd_preprocess_image(&s, &p, out, &err), CD_OK);
    p = imagenet(4, 4, CD_RESIZE_LETTERBOX, 0);
    ck_assert_int_eq(cd_preprocess_image(&s, &p, out, &err), CD_OK);
    free(strip);
}
END_TEST

static Suite *preprocess_suite(void)
{
    Suite *s = suite_create("preprocess");
    TCase *tc = tcase_create("preprocess");
    tcase_add_test(tc, policies_match_torchvision);
    tcase_add_test(tc, crop_default_resize_to);
    tcase_add_test(tc, letterbox_gray_margins);
    tcase_add_test(tc, invalid_parameters);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(preprocess_suite)
