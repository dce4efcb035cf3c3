/* test_resize.c — bilinear resampling (daemon/media/resize.c) against
 * PyTorch F.interpolate(bilinear, align_corners=False, antialias 0/1)
 * outputs stored in tests/fixtures/images, windows and strides, identity,
 * constant images, and bad jobs. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/image.h"
#include "media/npy.h"
#include "media/resize.h"

#define FIX "tests/fixtures/images/"

static struct cd_image load_rgb8(int want)
{
    struct cd_image img;
    struct cd_err err = {0};
    ck_assert_msg(cd_image_load_file(FIX "rgb8.png", want, 0, &img, &err) == CD_OK,
                  "%s", err.msg);
    return img;
}

static struct cd_resize_job full(int w, int h, int aa)
{
    return (struct cd_resize_job){w, h, 0, 0, w, h, aa};
}

START_TEST(matches_torch)
{
    static const int cases[][3] = {{20, 17, 0}, {5, 4, 0}, {5, 4, 1},
                                   {7, 15, 1}, {29, 3, 1}};
    struct cd_image img = load_rgb8(3);
    for (int t = 0; t < 5; t++) {
        int w = cases[t][0], h = cases[t][1], aa = cases[t][2];
        char path[128];
        struct cd_shape s;
        float *exp, *out = malloc(sizeof(float) * 3 * w * h);
        struct cd_err err = {0};
        snprintf(path, sizeof path, FIX "resize_%dx%d_aa%d.npy", w, h, aa);
        ck_assert_msg(cd_npy_load(path, &s, &exp, &err) == CD_OK, "%s", err.msg);
        ck_assert(s.ndim == 3 && s.dim[0] == 3 && s.dim[1] == h && s.dim[2] == w);
        struct cd_resize_job job = full(w, h, aa);
        ck_assert_msg(cd_resize_bilinear(&img, &job, out, w, (size_t)w * h, &err)
                      == CD_OK, "%s", err.msg);
        float worst = 0;
        for (int i = 0; i < 3 * w * h; i++)
            worst = fmaxf(worst, fabsf(out[i] - exp[i]));
        ck_assert_msg(worst < 2e-3f, "%dx%d aa%d: max diff %g", w, h, aa, worst);
        free(exp);
        free(out);
    }
    cd_image_free(&img);
}
END_TEST

/* A window written with strides equals the same pixels of the full output. */
START_TEST(window_and_strides)
{
    struct cd_image img = load_rgb8(3);
    struct cd_err err = {0};
    const int W = 20, H = 17;
    float *all = malloc(sizeof(float) * 3 * W * H);
    struct cd_resize_job job = full(W, H, 1);
    ck_assert(cd_resize_bilinear(&img, &job, all, W, W * H, &err) == CD_OK);
    const int wx = 3, wy = 5, ww = 9, wh = 7, rs = 12, ps = 100;
    float *win = malloc(sizeof(float) * 3 * ps);
    for (int i = 0; i < 3 * ps; i++)
        win[i] = -1;
    job = (struct cd_resize_job){W, H, wx, wy, ww, wh, 1};
    ck_assert_msg(cd_resize_bilinear(&img, &job, win, rs, ps, &err) == CD_OK, "%s",
                  err.msg);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < wh; y++)
            for (int x = 0; x < rs; x++) {
                float v = win[c * ps + y * rs + x];
                if (x < ww)
                    ck_assert(v == all[(c * H + wy + y) * W + wx + x]);
                else
                    ck_assert(v == -1); /* padding between rows untouched */
            }
    free(all);
    free(win);
    cd_image_free(&img);
}
END_TEST

START_TEST(identity_and_constant)
{
    struct cd_image img = load_rgb8(1);
    struct cd_err err = {0};
    float *out = malloc(sizeof(float) * 13 * 9);
    struct cd_resize_job job = full(13, 9, 1);
    ck_assert(cd_resize_bilinear(&img, &job, out, 13, 13 * 9, &err) == CD_OK);
    for (int i = 0; i < 13 * 9; i++)
        ck_assert(out[i] == img.pixels[i]);
    free(out);
    cd_image_free(&img);

    /* big constant image, strong shrink in both modes: stays constant */
    struct cd_image k = {.width = 1001, .height = 37, .channels = 3};
    k.pixels = malloc(1001 * 37 * 3);
    memset(k.pixels, 77, 1001 * 37 * 3);
    float o[3 * 3 * 2];
    for (int aa = 0; aa <= 1; aa++) {
        job = full(3, 2, aa);
        ck_assert(cd_resize_bilinear(&k, &job, o, 3, 6, &err) == CD_OK);
        for (int i = 0; i < 18; i++)
            ck_assert_msg(fabsf(o[i] - 77) < 1e-3f, "aa%d %d: %g", aa, i, o[i]);
    }
    /* and a huge enlargement of a 1x1 image */
    struct cd_image one = {.width = 1, .height = 1, .channels = 3,
                           .pixels = k.pixels};
    float *big = malloc(sizeof(float) * 3 * 50 * 40);
    job = full(50, 40, 1);
    ck_assert(cd_resize_bilinear(&one, &job, big, 50, 2000, &err) == CD_OK);
    for (int i = 0; i < 6000; i++)
        ck_assert(fabsf(big[i] - 77) < 1e-3f);
    free(big);
    free(k.pixels);
}
END_TEST

START_TEST(bad_jobs)
{
    struct cd_image img = load_rgb8(3);
    struct cd_err err = {0};
    float out[3 * 64];
    struct cd_resize_job bad[] = {
        {0, 4, 0, 0, 1, 1, 0},  {4, 4, 0, 0, 5, 4, 0}, {4, 4, 1, 0, 4, 4, 0},
        {4, 4, -1, 0, 2, 2, 0}, {4, 4, 0, 0, 0, 4, 0}, {4, 4, 3, 3, 2, 2, 0},
        {CD_RESIZE_MAX_DIM + 1, 4, 0, 0, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(cd_resize_bilinear(&img, &bad[i], out, 8, 64, &err),
                         CD_EINVAL);
    struct cd_resize_job ok = full(4, 4, 0);
    ck_assert_int_eq(cd_resize_bilinear(&img, &ok, out, 3, 64, &err), CD_EINVAL);
    ck_assert_int_eq(cd_resize_bilinear(&img, &ok, out, 4, 15, &err), CD_EINVAL);
    ck_assert_int_eq(cd_resize_bilinear(&img, &ok, out, 4, 16, &err), CD_OK);
    ck_assert_int_eq(cd_resize_bilinear(&img, &ok, NULL, 4, 16, &err), CD_EINVAL);
    ck_assert_int_eq(cd_resize_bilinear(NULL, &ok, out, 4, 16, &err), CD_EINVAL);
    img.channels = 2;
    ck_assert_int_eq(cd_resize_bilinear(&img, &ok, out, 4, 16, &err), CD_EINVAL);
    img.channels = 3;
    cd_image_free(&img);
}
END_TEST

static Suite *resize_suite(void)
{
    Suite *s = suite_create("resize");
    TCase *tc = tcase_create("resize");
    tcase_add_test(tc, matches_torch);
    tcase_add_test(tc, window_and_strides);
    tcase_add_test(tc, identity_and_constant);
    tcase_add_test(tc, bad_jobs);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(resize_suite)
