/* test_rle.c — run-length encoding of class maps (exact round trips, edge
 * cases, hostile run lists), argmax over logits and nearest resize against
 * hand-computed PyTorch results. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media/rle.h"

static void roundtrip(const uint8_t *x, size_t n)
{
    uint32_t *runs = NULL;
    size_t nr = 0;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_rle_encode(x, n, &runs, &nr, &err), CD_OK);
    uint8_t *y = malloc(n + 1);
    ck_assert_int_eq(cd_rle_decode(runs, nr, y, n, &err), CD_OK);
    ck_assert(n == 0 || memcmp(x, y, n) == 0);
    size_t sum = 0;
    for (size_t k = 0; k < nr; k++) {
        ck_assert_uint_ge(runs[2 * k + 1], 1);
        if (k)
            ck_assert_uint_ne(runs[2 * k], runs[2 * k - 2]);
        sum += runs[2 * k + 1];
    }
    ck_assert_uint_eq(sum, n);
    free(runs);
    free(y);
}

START_TEST(documented_example)
{
    const uint8_t m[6] = { 0, 0, 1, 1, 1, 2 };
    uint32_t *runs = NULL;
    size_t nr = 0;
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_rle_encode(m, 6, &runs, &nr, &err), CD_OK);
    const uint32_t want[6] = { 0, 2, 1, 3, 2, 1 };
    ck_assert_uint_eq(nr, 3);
    ck_assert(memcmp(runs, want, sizeof want) == 0);
    free(runs);
}
END_TEST

START_TEST(roundtrips)
{
    uint8_t one = 7, all255[300], alt[257], big[100000];
    roundtrip(NULL, 0);
    roundtrip(&one, 1);
    memset(all255, 255, sizeof all255);
    roundtrip(all255, sizeof all255);
    for (size_t i = 0; i < sizeof alt; i++)
        alt[i] = (uint8_t)i; /* every pixel its own run, 0..255 then 0 */
    roundtrip(alt, sizeof alt);
    srand(11);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(rand() % 100 < 97 && i ? big[i - 1] : rand() % 21);
    roundtrip(big, sizeof big);
}
END_TEST

START_TEST(hostile_runs)
{
    uint8_t out[8];
    struct cd_err err = { 0 };
    const uint32_t zero_len[] = { 1, 0, 2, 8 };
    const uint32_t big_class[] = { 256, 8 };
    const uint32_t too_long[] = { 1, 5, 2, 4 };
    const uint32_t too_short[] = { 1, 5, 2, 2 };
    const uint32_t huge[] = { 1, 0xffffffffu, 1, 0xffffffffu };
    ck_assert_int_eq(cd_rle_decode(zero_len, 2, out, 8, &err), CD_EFORMAT);
    ck_assert_int_eq(cd_rle_decode(big_class, 1, out, 8, &err), CD_EFORMAT);
    ck_assert_int_eq(cd_rle_decode(too_long, 2, out, 8, &err), CD_EFORMAT);
    ck_assert_int_eq(cd_rle_decode(too_short, 2, out, 8, &err), CD_EFORMAT);
    ck_assert_int_eq(cd_rle_decode(huge, 2, out, 8, &err), CD_EFORMAT);
    ck_assert_int_eq(cd_rle_decode(NULL, 0, out, 8, &err), CD_EFORMAT);
    ck_assert_int_eq(cd_rle_decode(NULL, 0, NULL, 0, &err), CD_OK);
}
END_TEST

START_TEST(argmax)
{
    /* logits (K=3, H=2, W=2) */
    const float l[12] = { 1, 5, 0, NAN,   /* class 0 */
                          2, 5, -1, NAN,  /* class 1: tie at px 1 -> 0 */
                          0, 4, -2, 3 };  /* class 2 wins px 3 over NaNs */
    uint8_t c[4];
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_argmax_classes(l, 3, 2, 2, c, &err), CD_OK);
    ck_assert_int_eq(c[0], 1);
    ck_assert_int_eq(c[1], 0);
    ck_assert_int_eq(c[2], 0);
    ck_assert_int_eq(c[3], 2);
    ck_assert_int_eq(cd_argmax_classes(l, 257, 1, 1, c, &err), CD_EINVAL);
    ck_assert_int_eq(cd_argmax_classes(l, 0, 1, 1, c, &err), CD_EINVAL);
    ck_assert_int_eq(cd_argmax_classes(NULL, 1, 1, 1, c, &err), CD_EINVAL);
    size_t counts[256];
    cd_classes_count(c, 4, counts);
    ck_assert_uint_eq(counts[0], 2);
    ck_assert_uint_eq(counts[1], 1);
    ck_assert_uint_eq(counts[2], 1);
}
END_TEST

START_TEST(resize_nearest)
{
    /* torch: F.interpolate(x (1,1,2,3), size=(3,5), mode="nearest") picks
     * rows [0,0,1] and columns floor(x*0.6) = [0,0,1,1,2] */
    const uint8_t src[6] = { 1, 2, 3, 4, 5, 6 };
    const uint8_t want[15] = { 1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6 };
    uint8_t dst[15], down[2];
    struct cd_err err = { 0 };
    ck_assert_int_eq(cd_classes_resize_nearest(src, 2, 3, dst, 3, 5, &err), CD_OK);
    ck_assert(memcmp(dst, want, sizeof want) == 0);
    /* shrinking (2,3) -> (1,2): row 0, columns floor(x*1.5) = [0,1] */
    ck_assert_int_eq(cd_classes_resize_nearest(src, 2, 3, down, 1, 2, &err), CD_OK);
    ck_assert(down[0] == 1 && down[1] == 2);
    ck_assert_int_eq(cd_classes_resize_nearest(src, 0, 3, dst, 3, 5, &err), CD_EINVAL);
    ck_assert_int_eq(cd_classes_resize_nearest(src, 2, 3, dst, 3, 70000, &err), CD_EINVAL);
}
END_TEST

static Suite *rle_suite(void)
{
    Suite *s = suite_create("rle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, documented_example);
    tcase_add_test(tc, roundtrips);
    tcase_add_test(tc, hostile_runs);
    tcase_add_test(tc, argmax);
    tcase_add_test(tc, resize_nearest);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(rle_suite)
