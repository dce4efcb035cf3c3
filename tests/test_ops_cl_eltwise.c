/* test_ops_cl_eltwise.c — OpenCL activations, broadcasting binary ops,
 * batchnorm, layernorm and softmax against the C reference (op_harness.h)
 * on odd shapes, at batch 1 and 3. */
#include "op_harness.h"

#include <check.h>
#include <stdarg.h>

static struct cd_shape shp(int n, ...)
{
    struct cd_shape s = { .ndim = n };
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        s.dim[i] = va_arg(ap, int);
    va_end(ap);
    return s;
}

static struct cd_harness_case mk(enum cd_op op)
{
    struct cd_harness_case c;
    memset(&c, 0, sizeof c);
    c.op = op;
    cd_attrs_default(&c.a, op);
    c.n_in = 1;
    return c;
}

/* Runs c at batch 1 and 3 with two seeds each. */
static void run_case(struct cd_harness_case c, double tol, const char *what)
{
    static const int batches[] = { 1, 3 };
    for (int b = 0; b < 2; b++)
        for (unsigned seed = 1; seed <= 2; seed++) {
            char msg[512] = "";
            double rel;
            c.batch = batches[b];
            int rc = cd_harness_compare(&c, seed, tol, &rel, msg, sizeof msg);
            ck_assert_msg(rc == CD_OK, "%s (batch %d seed %u): %s", what,
                          c.batch, seed, msg);
        }
}

START_TEST(unary_all)
{
    static const enum cd_op ops[] = {
        CD_OP_RELU, CD_OP_RELU6, CD_OP_LEAKY_RELU, CD_OP_GELU, CD_OP_SILU,
        CD_OP_SIGMOID, CD_OP_HARDSWISH, CD_OP_HARDSIGMOID, CD_OP_TANH,
        CD_OP_CLAMP };
    const struct cd_shape shapes[] = { shp(4, 1, 3, 7, 5), shp(2, 1, 64),
                                       shp(3, 1, 1, 1) };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        for (int s = 0; s < 3; s++) {
            struct cd_harness_case c = mk(ops[i]);
            c.in[0] = shapes[s];
            if (ops[i] == CD_OP_LEAKY_RELU)
                c.a.alpha = 0.2f;
            if (ops[i] == CD_OP_CLAMP) {
                c.a.alpha = -0.5f;
                c.a.beta = 0.7f;
            }
            run_case(c, 1e-5, cd_ops[ops[i]].name);
            if (ops[i] == CD_OP_GELU) {
                c.a.approximate = 1;
                run_case(c, 1e-5, "gelu tanh");
            }
        }
}
END_TEST

/* second operand kinds */
enum { TWO_INPUTS, WEIGHT, SCALAR };

static void bin_case(int kind, struct cd_shape a, struct cd_shape b, int rev,
                     const char *what)
{
    static const enum cd_op ops[] = { CD_OP_ADD, CD_OP_SUB, CD_OP_MUL,
                                      CD_OP_DIV };
    for (int i = 0; i < 4; i++) {
        struct cd_harness_case c = mk(ops[i]);
        c.in[0] = a;
        if (kind == TWO_INPUTS) {
            c.n_in = 2;
            c.in[1] = b;
        } else if (kind == WEIGHT) {
            c.w[0] = b;
        } else {
            c.a.has_scalar = 1;
            c.a.scalar = ops[i] == CD_OP_DIV ? 1.75f : -0.6f;
        }
        c.a.reverse = rev;
        char buf[128];
        snprintf(buf, sizeof buf, "%s %s", cd_ops[ops[i]].name, what);
        /* reverse div by a random input may divide by ~0: relative tol */
        run_case(c, 2e-6, buf);
    }
}

START_TEST(binary_inputs)
{
    bin_case(TWO_INPUTS, shp(4, 1, 5, 7, 9), shp(4, 1, 5, 7, 9), 0, "same");
    bin_case(TWO_INPUTS, shp(4, 1, 6, 8, 8), shp(4, 1, 6, 8, 8), 0, "same8");
    bin_case(TWO_INPUTS, shp(4, 1, 5, 7, 9), shp(4, 1, 5, 1, 1), 0, "nc11");
    bin_case(TWO_INPUTS, shp(4, 1, 5, 1, 1), shp(4, 1, 5, 7, 9), 0,
             "nc11 left");
    bin_case(TWO_INPUTS, shp(4, 1, 5, 7, 9), shp(4, 1, 1, 7, 1), 0, "1h1");
    bin_case(TWO_INPUTS, shp(4, 1, 5, 1, 9), shp(4, 1, 1, 7, 1), 0,
             "both broadcast");
    bin_case(TWO_INPUTS, shp(3, 1, 13, 24), shp(3, 1, 1, 24), 0, "rows");
    /* cd_binary work-items of several chunks and several rows, tails */
    bin_case(TWO_INPUTS, shp(4, 1, 48, 40, 41), shp(4, 1, 48, 40, 41), 0,
             "same large");
    bin_case(TWO_INPUTS, shp(4, 1, 300, 7, 7), shp(4, 1, 300, 1, 1), 0,
             "nc11 7x7 many rows");
}
END_TEST

START_TEST(binary_weight_scalar)
{
    for (int rev = 0; rev <= 1; rev++) {
        bin_case(WEIGHT, shp(4, 1, 5, 7, 9), shp(4, 1, 5, 1, 1), rev,
                 "w 1c11");
        bin_case(WEIGHT, shp(4, 1, 6, 4, 4), shp(3, 6, 1, 1), rev, "w c11");
        bin_case(WEIGHT, shp(4, 1, 7, 3, 5), shp(1, 5), rev, "w nhwc last");
        bin_case(WEIGHT, shp(4, 1, 7, 3, 16), shp(1, 16), rev,
                 "w nhwc last16");
        bin_case(WEIGHT, shp(4, 1, 5, 7, 9), shp(2, 7, 1), rev, "w h1");
        bin_case(WEIGHT, shp(4, 1, 5, 7, 9), shp(1, 1), rev, "w single");
        bin_case(WEIGHT, shp(3, 1, 5, 9), shp(3, 1, 5, 9), rev, "w full");
        bin_case(SCALAR, shp(4, 1, 3, 5, 7), shp(0), rev, "scalar");
        bin_case(SCALAR, shp(2, 1, 16), shp(0), rev, "scalar16");
        /* convnext's layer scale (C, 1, 1) on 7x7 and 14x14 rows, several
         * rows per work-item; channels-last (C) broadcast; large scalar */
        bin_case(WEIGHT, shp(4, 1, 768, 7, 7), shp(3, 768, 1, 1), rev,
                 "w c11 7x7");
        bin_case(WEIGHT, shp(4, 1, 96, 14, 14), shp(3, 96, 1, 1), rev,
                 "w c11 14x14");
        bin_case(WEIGHT, shp(4, 1, 40, 60, 96), shp(1, 96), rev,
                 "w nhwc last many rows");
        bin_case(SCALAR, shp(4, 1, 30, 33, 35), shp(0), rev, "scalar large");
    }
}
END_TEST

START_TEST(batchnorm)
{
    const struct cd_shape shapes[] = { shp(4, 1, 5, 7, 9), shp(4, 1, 6, 4, 8),
                                       shp(2, 1, 11), shp(3, 1, 4, 13) };
    for (int s = 0; s < 4; s++) {
        struct cd_harness_case c = mk(CD_OP_BATCHNORM);
        c.in[0] = shapes[s];
        for (int j = 0; j < 4; j++)
            c.w[j] = shp(1, (int)shapes[s].dim[1]);
        c.a.eps = 1e-3f;
        run_case(c, 1e-5, "batchnorm");
    }
}
END_TEST

START_TEST(layernorm)
{
    /* the last four reach every path of the float16 kernels: channels
     * with 64-column blocks, 16-column and single-column tails (inner 99,
     * 64, 16 + 5); rows of 16-float chunks with a tail, several rows per
     * work-item with a short last run (2501 and 7503 rows) */
    const struct cd_shape shapes[] = { shp(4, 1, 5, 7, 9), shp(4, 1, 6, 4, 8),
                                       shp(3, 1, 13, 37), shp(3, 1, 5, 64),
                                       shp(2, 1, 19), shp(4, 1, 6, 9, 11),
                                       shp(4, 1, 3, 8, 8), shp(3, 1, 7, 21),
                                       shp(4, 1, 41, 61, 20) };
    for (int s = 0; s < 9; s++)
        for (int axis = -1; axis <= 1; axis += 2)
            for (int wb = 0; wb < 4; wb++) {
                struct cd_harness_case c = mk(CD_OP_LAYERNORM);
                c.in[0] = shapes[s];
                c.a.axis = axis;
                int r = shapes[s].ndim;
                int len = (int)shapes[s].dim[axis < 0 ? r - 1 : 1];
                if (wb & 1)
                    c.w[0] = shp(1, len);
                if (wb & 2)
                    c.w[1] = shp(1, len);
                char buf[64];
                snprintf(buf, sizeof buf, "layernorm shape %d axis %d wb %d",
                         s, axis, wb);
                run_case(c, 2e-5, buf);
            }
}
END_TEST

START_TEST(softmax)
{
    const struct cd_shape shapes[] = { shp(4, 1, 5, 7, 9), shp(4, 1, 6, 4, 8),
                                       shp(3, 1, 13, 37), shp(2, 1, 1000),
                                       shp(2, 1, 3) };
    for (int s = 0; s < 5; s++)
        for (int axis = -1; axis <= 2; axis++) {
            if (axis == 0 || axis >= shapes[s].ndim)
                continue;
            struct cd_harness_case c = mk(CD_OP_SOFTMAX);
            c.in[0] = shapes[s];
            c.a.axis = axis;
            char buf[64];
            snprintf(buf, sizeof buf, "softmax shape %d axis %d", s, axis);
            run_case(c, 1e-5, buf);
        }
}
END_TEST

static Suite *ops_cl_eltwise_suite(void)
{
    Suite *s = suite_create("ops_cl_eltwise");
    TCase *t = tcase_create("ops");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, unary_all);
    tcase_add_test(t, binary_inputs);
    tcase_add_test(t, binary_weight_scalar);
    tcase_add_test(t, batchnorm);
    tcase_add_test(t, layernorm);
    tcase_add_test(t, softmax);
    suite_add_tcase(s, t);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(ops_cl_eltwise_suite)
