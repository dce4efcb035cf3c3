/* test_ops_cl_tensor.c — OpenCL data-movement ops (concat, slice, copy for
 * flatten/reshape/identity/dropout, permute, upsample, pad) against the C
 * reference (op_harness.h) on odd shapes, at batch 1 and 3. Data movement
 * must be exact; interpolation within float rounding. */
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

static struct cd_harness_case mk(enum cd_op op, struct cd_shape x)
{
    struct cd_harness_case c;
    memset(&c, 0, sizeof c);
    c.op = op;
    cd_attrs_default(&c.a, op);
    c.n_in = 1;
    c.in[0] = x;
    return c;
}

static void run_case(struct cd_harness_case c, double tol, const char *what)
{
    static const int batches[] = { 1, 3 };
    for (int b = 0; b < 2; b++) {
        char msg[512] = "";
        double rel;
        c.batch = batches[b];
        int rc = cd_harness_compare(&c, 7u + (unsigned)b, tol, &rel, msg,
                                    sizeof msg);
        ck_assert_msg(rc == CD_OK, "%s (batch %d): %s", what, c.batch, msg);
    }
}

START_TEST(concat)
{
    struct cd_harness_case c = mk(CD_OP_CONCAT, shp(4, 1, 3, 5, 7));
    c.n_in = 3;
    c.in[1] = shp(4, 1, 1, 5, 7);
    c.in[2] = shp(4, 1, 8, 5, 7);
    c.a.axis = 1;
    run_case(c, 0.0, "concat axis 1");
    c.in[0] = shp(4, 1, 3, 5, 7);
    c.in[1] = shp(4, 1, 3, 5, 2);
    c.in[2] = shp(4, 1, 3, 5, 9);
    c.a.axis = 3;
    run_case(c, 0.0, "concat axis 3");
    c.a.axis = -1;
    run_case(c, 0.0, "concat axis -1");
    c.in[0] = shp(3, 1, 2, 16);
    c.in[1] = shp(3, 1, 5, 16);
    c.in[2] = shp(3, 1, 1, 16);
    c.a.axis = 1;
    run_case(c, 0.0, "concat rank 3");
    c.n_in = 1;
    run_case(c, 0.0, "concat one input");
}
END_TEST

START_TEST(slice)
{
    struct cd_harness_case c = mk(CD_OP_SLICE, shp(4, 1, 9, 6, 11));
    c.a.axis = 1;
    c.a.start = -7;
    c.a.step = 2;
    run_case(c, 0.0, "slice axis 1 start -7 step 2");
    c.a.axis = 3;
    c.a.start = 1;
    c.a.end = 100;
    c.a.step = 3;
    run_case(c, 0.0, "slice axis 3 step 3");
    c.a.axis = -2;
    c.a.start = 2;
    c.a.end = -1;
    c.a.step = 1;
    run_case(c, 0.0, "slice axis -2");
    c.in[0] = shp(3, 1, 40, 24);
    c.a.axis = 2;
    c.a.start = 8;
    c.a.end = 24;
    run_case(c, 0.0, "slice last dim aligned");
}
END_TEST

START_TEST(copy_ops)
{
    struct cd_harness_case c = mk(CD_OP_FLATTEN, shp(4, 1, 3, 5, 7));
    run_case(c, 0.0, "flatten");
    c = mk(CD_OP_RESHAPE, shp(4, 1, 3, 5, 7));
    c.a.n_shape = 2;
    c.a.shape[0] = 15;
    c.a.shape[1] = -1;
    run_case(c, 0.0, "reshape");
    c = mk(CD_OP_IDENTITY, shp(2, 1, 13));
    run_case(c, 0.0, "identity");
    c = mk(CD_OP_DROPOUT, shp(3, 1, 4, 4));
    run_case(c, 0.0, "dropout");
}
END_TEST

static void perm_case(struct cd_shape x, int n, const int *perm,
                      const char *what)
{
    struct cd_harness_case c = mk(CD_OP_PERMUTE, x);
    c.a.n_perm = n;
    for (int i = 0; i < n; i++)
        c.a.perm[i] = perm[i];
    run_case(c, 0.0, what);
}

START_TEST(permute)
{
    static const int to_nhwc[] = { 0, 2, 3, 1 }, to_nchw[] = { 0, 3, 1, 2 },
                     swap_hw[] = { 0, 1, 3, 2 }, swap3[] = { 0, 2, 1 },
                     five[] = { 0, 4, 2, 1, 3 };
    perm_case(shp(4, 1, 3, 5, 7), 4, to_nhwc, "nchw->nhwc");
    perm_case(shp(4, 1, 5, 7, 3), 4, to_nchw, "nhwc->nchw");
    perm_case(shp(4, 1, 16, 8, 9), 4, to_nhwc, "nchw->nhwc 16");
    perm_case(shp(4, 1, 12, 5, 7), 4, to_nhwc, "nchw->nhwc partial tiles");
    perm_case(shp(4, 1, 5, 7, 12), 4, to_nchw, "nhwc->nchw partial tiles");
    perm_case(shp(4, 1, 2, 9, 5), 4, swap_hw, "swap hw");
    perm_case(shp(4, 1, 3, 17, 10), 4, swap_hw, "swap hw tiles");
    perm_case(shp(3, 1, 13, 24), 3, swap3, "rank 3");
    perm_case(shp(5, 1, 2, 3, 4, 5), 5, five, "rank 5");
    /* cd_copy_transpose: whole 16x16 tiles, tails along L and T, work-item
     * blocks of 64 (dims over 128) with tails */
    perm_case(shp(4, 1, 32, 16, 16), 4, to_nhwc, "nchw->nhwc whole tiles");
    perm_case(shp(4, 1, 40, 9, 19), 4, to_nhwc, "nchw->nhwc tile tails");
    perm_case(shp(4, 1, 13, 11, 150), 4, to_nchw, "nhwc->nchw blocks");
    perm_case(shp(4, 1, 200, 3, 47), 4, to_nhwc, "nchw->nhwc blocks");
    perm_case(shp(4, 1, 2, 33, 47), 4, swap_hw, "swap hw 16x16 tiles");
    perm_case(shp(3, 1, 130, 129), 3, swap3, "rank 3 blocks");
}
END_TEST

static void up_case(struct cd_shape x, int mode, int align, const int *size,
                    const float *scale, const char *what)
{
    struct cd_harness_case c = mk(CD_OP_UPSAMPLE, x);
    c.a.mode = mode;
    c.a.align_corners = align;
    for (int i = 0; i < x.ndim - 2; i++) {
        if (size)
            c.a.size[i] = size[i];
        if (scale)
            c.a.scale[i] = scale[i];
    }
    run_case(c, 1e-5, what);
}

START_TEST(upsample)
{
    static const float two[] = { 2.0f, 2.0f, 2.0f }, odd[] = { 1.5f, 2.5f };
    static const int sz[] = { 11, 13 }, sz3[] = { 3, 7, 10 }, big[] = { 41 };
    struct cd_shape x = shp(4, 1, 3, 7, 5);
    up_case(x, CD_UPSAMPLE_NEAREST, 0, NULL, two, "nearest x2");
    up_case(x, CD_UPSAMPLE_NEAREST, 0, NULL, odd, "nearest x1.5,2.5");
    up_case(x, CD_UPSAMPLE_NEAREST, 0, sz, NULL, "nearest size");
    for (int al = 0; al <= 1; al++) {
        up_case(x, CD_UPSAMPLE_BILINEAR, al, NULL, two, "bilinear x2");
        up_case(x, CD_UPSAMPLE_BILINEAR, al, NULL, odd, "bilinear x1.5,2.5");
        up_case(x, CD_UPSAMPLE_BILINEAR, al, sz, NULL, "bilinear size");
        up_case(shp(4, 1, 2, 9, 9), CD_UPSAMPLE_BILINEAR, al,
                (const int[]){ 4, 5 }, NULL, "bilinear down");
    }
    up_case(shp(3, 1, 4, 10), CD_UPSAMPLE_NEAREST, 0, big, NULL,
            "nearest 1-d");
    up_case(shp(5, 1, 2, 2, 3, 4), CD_UPSAMPLE_NEAREST, 0, sz3, NULL,
            "nearest 3-d");
    up_case(shp(5, 1, 2, 2, 3, 4), CD_UPSAMPLE_NEAREST, 0, NULL, two,
            "nearest 3-d x2");
}
END_TEST

static void pad_case(struct cd_shape x, int nsp, const int *b, const int *e,
                     float value, const char *what)
{
    struct cd_harness_case c = mk(CD_OP_PAD, x);
    c.a.nsp = nsp;
    for (int i = 0; i < nsp; i++) {
        c.a.pad_begin[i] = b[i];
        c.a.pad_end[i] = e[i];
    }
    c.a.alpha = value;
    run_case(c, 0.0, what);
}

START_TEST(pad)
{
    pad_case(shp(4, 1, 3, 5, 7), 2, (const int[]){ 1, 0 },
             (const int[]){ 2, 3 }, 0.0f, "pad 2-d asymmetric");
    pad_case(shp(4, 1, 3, 5, 20), 2, (const int[]){ 0, 9 },
             (const int[]){ 1, 2 }, -1.5f, "pad 2-d value");
    pad_case(shp(3, 1, 4, 9), 1, (const int[]){ 3 }, (const int[]){ 0 },
             2.0f, "pad 1-d");
    pad_case(shp(5, 1, 2, 3, 4, 5), 3, (const int[]){ 1, 0, 2 },
             (const int[]){ 0, 2, 1 }, 0.5f, "pad 3-d");
    pad_case(shp(4, 1, 2, 3, 70), 2, (const int[]){ 1, 5 },
             (const int[]){ 0, 7 }, 0.25f, "pad wide rows");
    pad_case(shp(4, 1, 2, 3, 4), 3, (const int[]){ 1, 1, 1 },
             (const int[]){ 1, 1, 1 }, 0.0f, "pad channels too");
}
END_TEST

static Suite *ops_cl_tensor_suite(void)
{
    Suite *s = suite_create("ops_cl_tensor");
    TCase *t = tcase_create("ops");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, concat);
    tcase_add_test(t, slice);
    tcase_add_test(t, copy_ops);
    tcase_add_test(t, permute);
    tcase_add_test(t, upsample);
    tcase_add_test(t, pad);
    suite_add_tcase(s, t);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(ops_cl_tensor_suite)
