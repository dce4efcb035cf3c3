/* test_topk.c — softmax + top-K for classification answers: ordering, ties,
 * k clamping, probabilities summing to one, non-finite logits. */
#include <check.h>
#include <math.h>

#include "server/topk.h"

START_TEST(order_and_scores)
{
    float l[5] = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
    struct cd_topk_item t[5];
    ck_assert_int_eq(cd_topk_softmax(l, 5, 5, t), 5);
    /* ties keep the lower index first */
    ck_assert_int_eq(t[0].index, 1);
    ck_assert_int_eq(t[1].index, 3);
    ck_assert_int_eq(t[2].index, 0);
    ck_assert_int_eq(t[3].index, 4);
    ck_assert_int_eq(t[4].index, 2);
    double sum = 0, ref = 0;
    for (int i = 0; i < 5; i++) {
        sum += t[i].score;
        ref += exp(l[i] - 3.0);
    }
    ck_assert_double_eq_tol(sum, 1.0, 1e-6);
    ck_assert_double_eq_tol(t[0].score, 1.0 / ref, 1e-6);
    ck_assert(t[0].score == t[1].score);
}
END_TEST

START_TEST(k_smaller_and_clamped)
{
    float l[6] = {0.1f, 0.9f, 0.3f, 0.7f, 0.5f, 0.2f};
    struct cd_topk_item t[6];
    ck_assert_int_eq(cd_topk_softmax(l, 6, 3, t), 3);
    ck_assert_int_eq(t[0].index, 1);
    ck_assert_int_eq(t[1].index, 3);
    ck_assert_int_eq(t[2].index, 4);
    ck_assert_int_eq(cd_topk_softmax(l, 3, 10, t), 3);
    ck_assert_int_eq(t[2].index, 0);
    ck_assert_int_eq(cd_topk_softmax(l, 6, 0, t), 0);
    ck_assert_int_eq(cd_topk_softmax(l, 0, 3, t), 0);
    ck_assert_int_eq(cd_topk_softmax(NULL, 6, 3, t), 0);
}
END_TEST

START_TEST(large_and_nonfinite)
{
    float l[4] = {1000.0f, NAN, INFINITY, 999.0f};
    struct cd_topk_item t[4];
    ck_assert_int_eq(cd_topk_softmax(l, 4, 4, t), 4);
    ck_assert_int_eq(t[0].index, 0);
    ck_assert_int_eq(t[1].index, 3);
    ck_assert(isfinite(t[0].score) && t[0].score > 0.7f);
    ck_assert(t[2].score == 0.0f && t[3].score == 0.0f);
    float all_bad[2] = {NAN, NAN};
    ck_assert_int_eq(cd_topk_softmax(all_bad, 2, 2, t), 2);
    ck_assert(t[0].score == 0.5f && t[0].index == 0);
}
END_TEST

static Suite *topk_suite(void)
{
    Suite *s = suite_create("topk");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, order_and_scores);
    tcase_add_test(tc, k_smaller_and_clamped);
    tcase_add_test(tc, large_and_nonfinite);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(topk_suite)
