/* test_image_input.c — the request image path: Content-Type dispatch (raw,
 * sniffed, multipart, refused with 415), decode failures and the pixel budget
 * (400), and preprocessing of the shipped sample into the model's tensor. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/image_input.h"

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *b = malloc(1 << 20);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static struct cd_preprocess demo_pre(void)
{
    struct cd_preprocess p = {
        .kind = CD_INPUT_IMAGE, .width = 64, .height = 64, .channels = 3,
        .resize = CD_RESIZE_SHORTER_CROP, .resize_to = 64, .scale = 255.0f,
        .mean = {0.485f, 0.456f, 0.406f}, .std = {0.229f, 0.224f, 0.225f},
    };
    return p;
}

START_TEST(content_types)
{
    const char body[] = "\x89PNG....";
    const void *img;
    size_t n;
    struct cd_err err = {0};
    ck_assert_int_eq(cd_image_input_find("image/png", body, 8, "file", &img, &n, &err), 0);
    ck_assert(img == body && n == 8);
    ck_assert_int_eq(cd_image_input_find(" Image/JPEG ; q=1", body, 8, NULL, &img, &n,
                                         &err), 0);
    ck_assert_int_eq(cd_image_input_find(NULL, body, 8, NULL, &img, &n, &err), 0);
    ck_assert_int_eq(cd_image_input_find("application/octet-stream", body, 8, NULL, &img,
                                         &n, &err), 0);
    ck_assert_int_eq(cd_image_input_find("image/gif", body, 8, NULL, &img, &n, &err), 415);
    ck_assert_msg(strstr(err.msg, "image/gif"), "%s", err.msg);
    ck_assert_int_eq(cd_image_input_find("application/x-www-form-urlencoded", body, 8,
                                         NULL, &img, &n, &err), 415);
    ck_assert_int_eq(cd_image_input_find("image/pngx", body, 8, NULL, &img, &n, &err), 415);
    ck_assert_int_eq(cd_image_input_find("image/png", body, 0, NULL, &img, &n, &err), 400);
}
END_TEST

START_TEST(multipart)
{
    const char mp[] = "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
                      "hello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n"
                      "--XyZ--\r\n";
    const char *ct = "multipart/form-data; boundary=XyZ";
    const void *img;
    size_t n;
    struct cd_err err = {0};
    ck_assert_int_eq(cd_image_input_find(ct, mp, sizeof mp - 1, "file", &img, &n, &err), 0);
    ck_assert_uint_eq(n, 7);
    ck_assert(memcmp(img, "PNGDATA", 7) == 0);
    /* another field name: falls back to the first file part */
    ck_assert_int_eq(cd_image_input_find(ct, mp, sizeof mp - 1, "image", &img, &n, &err), 0);
    ck_assert(memcmp(img, "PNGDATA", 7) == 0);
    const char txt[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
                       "filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                       "--XyZ--\r\n";
    ck_assert_int_eq(cd_image_input_find(ct, txt, sizeof txt - 1, "file", &img, &n, &err),
                     415);
    const char broken[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"";
    ck_assert_int_eq(cd_image_input_find(ct, broken, sizeof broken - 1, "file", &img, &n,
                                         &err), 400);
    ck_assert_int_eq(cd_image_input_find("multipart/form-data", mp, sizeof mp - 1, "file",
                                         &img, &n, &err), 400);
}
END_TEST

START_TEST(tensor_from_sample)
{
    size_t len = 0;
    unsigned char *png = slurp("models/tiny-demo/sample.png", &len);
    ck_assert_ptr_nonnull(png);
    struct cd_preprocess p = demo_pre();
    ck_assert_uint_eq(cd_image_input_numel(&p), 3 * 64 * 64);
    float *out = malloc(3 * 64 * 64 * sizeof(float));
    struct cd_err err = {0};
    ck_assert_msg(cd_image_input_tensor(png, len, &p, 0, out, &err) == 0, "%s", err.msg);
    for (int i = 0; i < 3 * 64 * 64; i++)
        ck_assert(isfinite(out[i]) && fabsf(out[i]) < 3.0f);
    /* pixel budget */
    ck_assert_int_eq(cd_image_input_tensor(png, len, &p, 16, out, &err), 400);
    /* truncated and garbage */
    ck_assert_int_eq(cd_image_input_tensor(png, len / 2, &p, 0, out, &err), 400);
    ck_assert_int_eq(cd_image_input_tensor("GIF89a....", 10, &p, 0, out, &err), 400);
    ck_assert_msg(strstr(err.msg, "cannot decode"), "%s", err.msg);
    /* a model that does not take images */
    p.kind = CD_INPUT_TENSOR;
    ck_assert_uint_eq(cd_image_input_numel(&p), 0);
    ck_assert_int_eq(cd_image_input_tensor(png, len, &p, 0, out, &err), 400);
    free(out);
    free(png);
}
END_TEST

static Suite *image_input_suite(void)
{
    Suite *s = suite_create("image_input");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, content_types);
    tcase_add_test(tc, multipart);
    tcase_add_test(tc, tensor_from_sample);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(image_input_suite)
