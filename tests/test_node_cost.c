/* test_node_cost.c — the roofline cost model of convd-infer --profile:
 * FLOPs, compulsory bytes, labels and classes of convs (dense 3x3 with
 * stride, 1x1, depthwise, grouped), linear, pooling and elementwise nodes,
 * checked against hand-computed values. */
#include <check.h>

#include "engine/node_cost.h"

static struct cd_shape shp(int n, int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t dims[4] = { a, b, c, d };
    return cd_shape_make(n, dims);
}

/* A conv node: in (1,cin,h,w) -> out (1,cout,ho,wo), weight (cout,cin/g,k,k). */
static void conv_node(struct cd_exec_node *e, struct cd_tref *in, struct cd_attrs *a,
                      int cin, int h, int cout, int ho, int k, int groups, int stride)
{
    cd_attrs_default(a, CD_OP_CONV);
    a->nsp = 2;
    a->groups = groups;
    a->stride[0] = a->stride[1] = stride;
    *e = (struct cd_exec_node){ .name = "c", .op = CD_OP_CONV, .a = a, .n_in = 1, .in = in };
    in->shape = shp(4, 1, cin, h, h);
    e->has_w[0] = true;
    e->w[0].shape = shp(4, cout, cin / groups, k, k);
    e->has_w[1] = true;
    e->w[1].shape = shp(1, cout, 0, 0, 0);
    e->out.shape = shp(4, 1, cout, ho, ho);
}

START_TEST(dense_3x3_stride2)
{
    struct cd_exec_node e;
    struct cd_tref in;
    struct cd_attrs a;
    struct cd_node_cost c;
    conv_node(&e, &in, &a, 64, 56, 128, 28, 3, 1, 2);
    cd_node_cost(&e, 8, &c);
    /* 2 * (8*128*28*28) outputs * 64*9 MACs each */
    ck_assert_double_eq_tol(c.flops, 2.0 * 8 * 128 * 28 * 28 * 64 * 9, 1.0);
    double elems = 8.0 * 64 * 56 * 56 + 128.0 * 64 * 9 + 128 + 8.0 * 128 * 28 * 28;
    ck_assert_double_eq_tol(c.bytes, 4.0 * elems, 1.0);
    ck_assert_int_eq(c.klass, CD_COST_CONV3X3);
    ck_assert_str_eq(c.label, "conv3x3/s2");
}
END_TEST

START_TEST(pointwise_depthwise_grouped)
{
    struct cd_exec_node e;
    struct cd_tref in;
    struct cd_attrs a;
    struct cd_node_cost c;
    conv_node(&e, &in, &a, 256, 14, 512, 14, 1, 1, 1);
    cd_node_cost(&e, 1, &c);
    ck_assert_double_eq_tol(c.flops, 2.0 * 512 * 14 * 14 * 256, 1.0);
    ck_assert_int_eq(c.klass, CD_COST_CONV1X1);
    ck_assert_str_eq(c.label, "conv1x1");

    conv_node(&e, &in, &a, 96, 56, 96, 56, 7, 96, 1);
    cd_node_cost(&e, 2, &c);
    ck_assert_double_eq_tol(c.flops, 2.0 * 2 * 96 * 56 * 56 * 49, 1.0);
    ck_assert_int_eq(c.klass, CD_COST_DEPTHWISE);
    ck_assert_str_eq(c.label, "dw7x7");

    conv_node(&e, &in, &a, 64, 8, 64, 8, 3, 4, 1);
    cd_node_cost(&e, 1, &c);
    ck_assert_double_eq_tol(c.flops, 2.0 * 64 * 8 * 8 * 16 * 9, 1.0);
    ck_assert_int_eq(c.klass, CD_COST_CONV3X3);
    ck_assert_str_eq(c.label, "gconv3x3");
}
END_TEST

START_TEST(residual_input_counts_as_bytes)
{
    struct cd_exec_node e;
    struct cd_tref in[2];
    struct cd_attrs a;
    struct cd_node_cost c1, c2;
    conv_node(&e, in, &a, 32, 8, 32, 8, 3, 1, 1);
    cd_node_cost(&e, 1, &c1);
    in[1].shape = shp(4, 1, 32, 8, 8);
    e.n_in = 2;
    cd_node_cost(&e, 1, &c2);
    ck_assert_double_eq_tol(c2.bytes - c1.bytes, 4.0 * 32 * 8 * 8, 1e-6);
    ck_assert_double_eq_tol(c2.flops, c1.flops, 1e-6);
}
END_TEST

START_TEST(linear_pool_eltwise)
{
    struct cd_attrs a;
    struct cd_tref in = { .shape = shp(2, 1, 512, 0, 0) };
    struct cd_exec_node e = { .name = "fc", .op = CD_OP_LINEAR, .a = &a, .n_in = 1, .in = &in };
    struct cd_node_cost c;
    cd_attrs_default(&a, CD_OP_LINEAR);
    e.has_w[0] = true;
    e.w[0].shape = shp(2, 1000, 512, 0, 0);
    e.out.shape = shp(2, 1, 1000, 0, 0);
    cd_node_cost(&e, 4, &c);
    ck_assert_double_eq_tol(c.flops, 2.0 * 4 * 1000 * 512, 1.0);
    ck_assert_int_eq(c.klass, CD_COST_GEMM);

    cd_attrs_default(&a, CD_OP_MAXPOOL);
    a.nsp = 2;
    a.kernel[0] = a.kernel[1] = 3;
    e = (struct cd_exec_node){ .name = "p", .op = CD_OP_MAXPOOL, .a = &a, .n_in = 1, .in = &in };
    in.shape = shp(4, 1, 64, 112, 112);
    e.out.shape = shp(4, 1, 64, 56, 56);
    cd_node_cost(&e, 1, &c);
    ck_assert_double_eq_tol(c.flops, 64.0 * 56 * 56 * 9, 1.0);
    ck_assert_int_eq(c.klass, CD_COST_OTHER);
    ck_assert_str_eq(c.label, "maxpool");

    cd_attrs_default(&a, CD_OP_RELU);
    e.op = CD_OP_RELU;
    e.out.shape = in.shape;
    cd_node_cost(&e, 1, &c);
    ck_assert_double_eq_tol(c.flops, 64.0 * 112 * 112, 1.0);
    ck_assert_double_eq_tol(c.bytes, 8.0 * 64 * 112 * 112, 1.0);
    ck_assert_str_eq(cd_cost_class_name(c.klass), "other");
}
END_TEST

START_TEST(concat_in_place_moves_new_inputs_only)
{
    /* cat (1, 96, 8, 8) = concat(prefix (1, 64, 8, 8) already in place,
     * x (1, 32, 8, 8)): only x is read and written. */
    struct cd_attrs a;
    cd_attrs_default(&a, CD_OP_CONCAT);
    struct cd_tref in[2] = {
        { .shape = shp(4, 1, 64, 8, 8), .off = 0, .bstride = 96 * 64 },
        { .shape = shp(4, 1, 32, 8, 8), .off = 100000 },
    };
    struct cd_exec_node e = { .name = "cat", .op = CD_OP_CONCAT, .a = &a,
                              .n_in = 2, .in = in };
    e.out.shape = shp(4, 1, 96, 8, 8);
    struct cd_node_cost c;
    cd_node_cost(&e, 2, &c);
    ck_assert_double_eq_tol(c.bytes, 4.0 * 2 * (2 * 32 * 64), 1.0);
    in[0].off = 7; /* elsewhere: copied like any input */
    cd_node_cost(&e, 2, &c);
    ck_assert_double_eq_tol(c.bytes, 4.0 * 2 * (2 * 96 * 64), 1.0);
}
END_TEST

static Suite *node_cost_suite(void)
{
    Suite *s = suite_create("node_cost");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, dense_3x3_stride2);
    tcase_add_test(tc, pointwise_depthwise_grouped);
    tcase_add_test(tc, residual_input_counts_as_bytes);
    tcase_add_test(tc, linear_pool_eltwise);
    tcase_add_test(tc, concat_in_place_moves_new_inputs_only);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(node_cost_suite)
