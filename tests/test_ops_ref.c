/* test_ops_ref.c — the C references, run through the ref backend API: small
 * hand-computed cases, then PyTorch 1.13 outputs (test_ops_ref_torch.h) for
 * every op family on odd shapes, strides, dilations, groups, asymmetric
 * padding, ceil_mode and both align_corners; and the backend's refusals. */
#include "engine/backend.h"
#include "engine/op_shape.h"
#include "engine/ops.h"

#include "test_ops_ref_torch.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXT 4

/* One node to run: per-sample input shapes, stored weight shapes, data either
 * explicit (whole batch) or from the pattern pat(i, m, s). */
struct tc {
    enum cd_op op;
    struct cd_attrs a;
    int batch, n_in;
    struct cd_shape in[MAXT], w[MAXT];
    bool has_w[MAXT];
    const float *in_data[MAXT], *w_data[MAXT];
    int in_m[MAXT], in_s[MAXT], w_m[MAXT], w_s[MAXT];
    struct cd_shape out;
    struct cd_err err;
};

static struct cd_shape shape_of(const int64_t *d, int n)
{
    return cd_shape_make(n, d);
}
#define SH(...)                                                               \
    shape_of((int64_t[]){ __VA_ARGS__ },                                      \
             (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)))

static float pat(int64_t i, int m, int s)
{
    return (float)((i * 7 + s) % m - m / 2) / 4.0f;
}

static void tc_init(struct tc *t, enum cd_op op, int batch)
{
    memset(t, 0, sizeof *t);
    t->op = op;
    t->batch = batch;
    cd_attrs_default(&t->a, op);
}

static void tc_in(struct tc *t, struct cd_shape s, int m, int sd,
                  const float *data)
{
    t->in[t->n_in] = s;
    t->in_m[t->n_in] = m;
    t->in_s[t->n_in] = sd;
    t->in_data[t->n_in++] = data;
}

static void tc_w(struct tc *t, int slot, struct cd_shape s, int m, int sd,
                 const float *data)
{
    t->w[slot] = s;
    t->has_w[slot] = true;
    t->w_m[slot] = m;
    t->w_s[slot] = sd;
    t->w_data[slot] = data;
}

static float *fill(const float *data, int64_t n, int m, int s)
{
    float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    ck_assert_ptr_nonnull(d);
    for (int64_t i = 0; i < n; i++)
        d[i] = data ? data[i] : pat(i, m, s);
    return d;
}

/* Runs t through the ref backend; returns the output (batch samples, owned)
 * or NULL with t->err set. */
static float *tc_run(struct tc *t)
{
    struct cd_shape ws[MAXT] = { { 0 } };
    for (int i = 0; i < MAXT; i++)
        if (t->has_w[i])
            ws[i] = t->w[i];
    if (cd_ops[t->op].shape(&t->a, t->n_in, t->in, ws, &t->out, &t->err))
        return NULL;
    struct cd_tref in[MAXT];
    struct cd_exec_node e = { .name = "n", .op = t->op, .a = &t->a,
                              .n_in = t->n_in, .in = in };
    size_t aoff = 0, woff = 0;
    for (int i = 0; i < t->n_in; i++) {
        in[i] = (struct cd_tref){ t->in[i], aoff, 0 };
        aoff += (size_t)cd_shape_numel(&t->in[i]) * t->batch;
    }
    e.out = (struct cd_tref){ t->out, aoff, 0 };
    size_t on = (size_t)cd_shape_numel(&t->out) * t->batch;
    aoff += on;
    for (int i = 0; i < MAXT; i++)
        if (t->has_w[i]) {
            e.has_w[i] = true;
            e.w[i] = (struct cd_tref){ t->w[i], woff, 0 };
            woff += (size_t)cd_shape_numel(&t->w[i]);
        }
    struct cd_backend *b = NULL;
    ck_assert_int_eq(cd_backend_ref_init(&b, &t->err), CD_OK);
    ck_assert_int_eq(b->i->alloc(b, aoff, woff, &t->err), CD_OK);
    for (int i = 0; i < t->n_in; i++) {
        int64_t n = cd_shape_numel(&t->in[i]) * t->batch;
        float *d = fill(t->in_data[i], n, t->in_m[i], t->in_s[i]);
        ck_assert_int_eq(b->i->write(b, in[i].off, d, (size_t)n, &t->err), 0);
        free(d);
    }
    for (int i = 0; i < MAXT; i++)
        if (t->has_w[i]) {
            int64_t n = cd_shape_numel(&t->w[i]);
            float *d = fill(t->w_data[i], n, t->w_m[i], t->w_s[i]);
            ck_assert_int_eq(b->i->upload_weights(b, e.w[i].off, d, (size_t)n,
                                                  &t->err), 0);
            free(d);
        }
    float *out = malloc(on * sizeof *out);
    ck_assert_ptr_nonnull(out);
    if (b->i->run(b, &e, t->batch, &t->err) ||
        b->i->finish(b, &t->err) ||
        b->i->read(b, e.out.off, out, on, &t->err)) {
        free(out);
        out = NULL;
    }
    b->i->free(b);
    return out;
}

/* Runs t and compares with exp (n floats); the output shape is checked too. */
static void check_out(struct tc *t, const float *exp, size_t n,
                      struct cd_shape want, float tol)
{
    float *y = tc_run(t);
    ck_assert_msg(y != NULL, "run failed: %s", t->err.msg);
    char b1[96], b2[96];
    ck_assert_msg(cd_shape_eq(&t->out, &want), "shape %s, want %s",
                  cd_shape_str(&t->out, b1, sizeof b1),
                  cd_shape_str(&want, b2, sizeof b2));
    ck_assert_uint_eq((size_t)cd_shape_numel(&t->out) * t->batch, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(y[i] - exp[i]) <= tol * (1.0f + fabsf(exp[i])),
                      "%s: [%zu] = %.8g, want %.8g", cd_ops[t->op].name, i,
                      (double)y[i], (double)exp[i]);
    free(y);
}
#define CHECK(t, arr, want, tol)                                              \
    check_out(t, arr, sizeof(arr) / sizeof(arr[0]), want, tol)

static const float iota16[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
                                  9, 10, 11, 12, 13, 14, 15, 16 };
static const float ones9[18] = { 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                 2, 2, 2, 2, 2, 2, 2, 2, 2 };

/* ---- hand-computed cases ---- */

START_TEST(t_conv_hand)
{
    struct tc t;
    static const float bias1[1] = { 1 };
    static const float e1[] = { 55, 64, 91, 100 };
    tc_init(&t, CD_OP_CONV, 1); /* 3x3 ones on 1..16, no pad, bias 1 */
    tc_in(&t, SH(1, 1, 4, 4), 0, 0, iota16);
    tc_w(&t, 0, SH(1, 1, 3, 3), 0, 0, ones9);
    tc_w(&t, 1, SH(1), 0, 0, bias1);
    CHECK(&t, e1, SH(1, 1, 2, 2), 0);

    static const float e2[] = { 14, 30, 57, 99 };
    tc_init(&t, CD_OP_CONV, 1); /* pad 1, stride 2 */
    t.a.stride[0] = t.a.stride[1] = 2;
    t.a.pad_begin[0] = t.a.pad_begin[1] = t.a.pad_end[0] = t.a.pad_end[1] = 1;
    tc_in(&t, SH(1, 1, 4, 4), 0, 0, iota16);
    tc_w(&t, 0, SH(1, 1, 3, 3), 0, 0, ones9);
    CHECK(&t, e2, SH(1, 1, 2, 2), 0);

    static const float e3[] = { 24, 28, 40, 44 };
    tc_init(&t, CD_OP_CONV, 1); /* 2x2 kernel, dilation 2 */
    t.a.dilation[0] = t.a.dilation[1] = 2;
    tc_in(&t, SH(1, 1, 4, 4), 0, 0, iota16);
    tc_w(&t, 0, SH(1, 1, 2, 2), 0, 0, ones9);
    CHECK(&t, e3, SH(1, 1, 2, 2), 0);

    static const float x2[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                  14, 15, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                  11, 12, 13, 14, 15, 16 };
    static const float e4[] = { 54, 63, 90, 99, 108, 126, 180, 198 };
    tc_init(&t, CD_OP_CONV, 1); /* depthwise: weights 1 and 2 */
    t.a.groups = 2;
    tc_in(&t, SH(1, 2, 4, 4), 0, 0, x2);
    tc_w(&t, 0, SH(2, 1, 3, 3), 0, 0, ones9);
    CHECK(&t, e4, SH(1, 2, 2, 2), 0);
}
END_TEST

START_TEST(t_pool_hand)
{
    float x[25], neg[16];
    for (int i = 0; i < 25; i++)
        x[i] = (float)i;
    for (int i = 0; i < 16; i++)
        neg[i] = -(float)(i + 1);
    struct tc t;
    /* k2 s2 ceil on 5x5: the last window holds one column / row */
    static const float e1[] = { 3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24 };
    tc_init(&t, CD_OP_AVGPOOL, 1);
    t.a.nsp = 2;
    t.a.kernel[0] = t.a.kernel[1] = t.a.stride[0] = t.a.stride[1] = 2;
    t.a.ceil_mode = 1;
    tc_in(&t, SH(1, 1, 5, 5), 0, 0, x);
    CHECK(&t, e1, SH(1, 1, 3, 3), 1e-6f);
    /* k3 s2 p1 ceil: corners 12/9 vs 12/4 and 84/9 vs 84/4 */
    tc_init(&t, CD_OP_AVGPOOL, 1);
    t.a.nsp = 2;
    t.a.kernel[0] = t.a.kernel[1] = 3;
    t.a.stride[0] = t.a.stride[1] = 2;
    t.a.pad_begin[0] = t.a.pad_begin[1] = t.a.pad_end[0] = t.a.pad_end[1] = 1;
    t.a.ceil_mode = 1;
    tc_in(&t, SH(1, 1, 5, 5), 0, 0, x);
    float *y = tc_run(&t);
    ck_assert_ptr_nonnull(y);
    ck_assert_float_eq_tol(y[0], 12.0f / 9, 1e-6);
    ck_assert_float_eq_tol(y[8], 84.0f / 9, 1e-6);
    free(y);
    t.a.count_include_pad = 0;
    y = tc_run(&t);
    ck_assert_ptr_nonnull(y);
    ck_assert_float_eq_tol(y[0], 3.0f, 1e-6);
    ck_assert_float_eq_tol(y[8], 21.0f, 1e-6);
    free(y);
    /* maxpool padding is -inf, not 0 */
    static const float e3[] = { -1, -2, -5, -6 };
    tc_init(&t, CD_OP_MAXPOOL, 1);
    t.a.nsp = 2;
    t.a.kernel[0] = t.a.kernel[1] = 3;
    t.a.stride[0] = t.a.stride[1] = 2;
    t.a.pad_begin[0] = t.a.pad_begin[1] = t.a.pad_end[0] = t.a.pad_end[1] = 1;
    tc_in(&t, SH(1, 1, 4, 4), 0, 0, neg);
    CHECK(&t, e3, SH(1, 1, 2, 2), 0);
}
END_TEST

START_TEST(t_misc_hand)
{
    struct tc t;
    static const float x01[2] = { 0, 1 };
    static const float e1[] = { 0, 1.0f / 3, 2.0f / 3, 1 };
    static const float e2[] = { 0, 0.25f, 0.75f, 1 };
    tc_init(&t, CD_OP_UPSAMPLE, 1);
    t.a.mode = CD_UPSAMPLE_BILINEAR;
    t.a.align_corners = 1;
    t.a.size[0] = 1;
    t.a.size[1] = 4;
    tc_in(&t, SH(1, 1, 1, 2), 0, 0, x01);
    CHECK(&t, e1, SH(1, 1, 1, 4), 1e-6f);
    t.a.align_corners = 0;
    CHECK(&t, e2, SH(1, 1, 1, 4), 1e-6f);

    float sx[2] = { 0, logf(3.0f) };
    static const float e3[] = { 0.25f, 0.75f };
    tc_init(&t, CD_OP_SOFTMAX, 1);
    tc_in(&t, SH(1, 2), 0, 0, sx);
    CHECK(&t, e3, SH(1, 2), 1e-6f);

    static const float lx[4] = { -1, 2, -3, 0.5f };
    static const float e4[] = { -0.2f, 2, -0.6f, 0.5f };
    tc_init(&t, CD_OP_LEAKY_RELU, 2);
    t.a.alpha = 0.2f;
    tc_in(&t, SH(1, 2), 0, 0, lx);
    CHECK(&t, e4, SH(1, 2), 1e-7f);
    static const float e5[] = { -1, 1, -1, 0.5f };
    tc_init(&t, CD_OP_CLAMP, 2);
    t.a.alpha = -1;
    t.a.beta = 1;
    tc_in(&t, SH(1, 2), 0, 0, lx);
    CHECK(&t, e5, SH(1, 2), 0);

    static const float e6[] = { -1, 2, -3, 0.5f };
    tc_init(&t, CD_OP_FLATTEN, 1); /* copy */
    tc_in(&t, SH(1, 2, 2), 0, 0, lx);
    CHECK(&t, e6, SH(1, 4), 0);
}
END_TEST

/* ---- PyTorch cross-checks (inputs pat(); expected in the header) ---- */

START_TEST(t_conv_torch)
{
    struct tc t;
    tc_init(&t, CD_OP_CONV, 2);
    t.a.nsp = 2; /* groups 2, stride (2,1), dilation (1,2), pad h(1,2) w(0,1) */
    t.a.groups = 2;
    t.a.stride[0] = 2;
    t.a.dilation[1] = 2;
    t.a.pad_begin[0] = 1;
    t.a.pad_end[0] = 2;
    t.a.pad_end[1] = 1;
    t.a.residual = 1;
    t.a.act = CD_ACT_RELU;
    tc_in(&t, SH(1, 4, 7, 6), 13, 3, NULL);
    tc_in(&t, SH(1, 6, 4, 3), 9, 2, NULL);
    tc_w(&t, 0, SH(6, 2, 3, 3), 11, 5, NULL);
    tc_w(&t, 1, SH(6), 5, 1, NULL);
    CHECK(&t, x_conv2d, SH(1, 6, 4, 3), 0);

    tc_init(&t, CD_OP_CONV, 1); /* 1-D stride 3 pad 2 dilation 2 */
    t.a.stride[0] = 3;
    t.a.pad_begin[0] = t.a.pad_end[0] = 2;
    t.a.dilation[0] = 2;
    tc_in(&t, SH(1, 3, 11), 13, 3, NULL);
    tc_w(&t, 0, SH(4, 3, 5), 11, 5, NULL);
    CHECK(&t, x_conv1d, SH(1, 4, 3), 0);

    tc_init(&t, CD_OP_CONV, 1); /* 3-D stride (1,2,2) pad 1 */
    t.a.stride[1] = t.a.stride[2] = 2;
    for (int i = 0; i < 3; i++)
        t.a.pad_begin[i] = t.a.pad_end[i] = 1;
    tc_in(&t, SH(1, 2, 4, 5, 5), 13, 3, NULL);
    tc_w(&t, 0, SH(3, 2, 2, 3, 3), 11, 5, NULL);
    tc_w(&t, 1, SH(3), 5, 1, NULL);
    CHECK(&t, x_conv3d, SH(1, 3, 5, 3, 3), 0);

    tc_init(&t, CD_OP_CONV, 1); /* depthwise 5x5 pad 2 + hardswish */
    t.a.groups = 3;
    t.a.pad_begin[0] = t.a.pad_begin[1] = t.a.pad_end[0] = t.a.pad_end[1] = 2;
    t.a.act = CD_ACT_HARDSWISH;
    tc_in(&t, SH(1, 3, 6, 6), 13, 3, NULL);
    tc_w(&t, 0, SH(3, 1, 5, 5), 11, 5, NULL);
    CHECK(&t, x_dwconv, SH(1, 3, 6, 6), 1e-6f);
}
END_TEST

START_TEST(t_dense_torch)
{
    struct tc t;
    tc_init(&t, CD_OP_LINEAR, 2);
    t.a.act = CD_ACT_GELU_TANH;
    tc_in(&t, SH(1, 3, 5), 13, 3, NULL);
    tc_w(&t, 0, SH(4, 5), 11, 5, NULL);
    tc_w(&t, 1, SH(4), 5, 1, NULL);
    CHECK(&t, x_linear, SH(1, 3, 4), 2e-6f);

    tc_init(&t, CD_OP_MATMUL, 2);
    tc_in(&t, SH(1, 2, 3, 4), 13, 3, NULL);
    tc_in(&t, SH(1, 2, 4, 5), 11, 5, NULL);
    CHECK(&t, x_matmul, SH(1, 2, 3, 5), 0);

    float var[3];
    for (int i = 0; i < 3; i++)
        var[i] = fabsf(pat(i, 5, 4)) + 0.5f;
    tc_init(&t, CD_OP_BATCHNORM, 2);
    t.a.eps = 1e-3f;
    tc_in(&t, SH(1, 3, 4, 5), 13, 3, NULL);
    tc_w(&t, 0, SH(3), 5, 1, NULL);
    tc_w(&t, 1, SH(3), 7, 2, NULL);
    tc_w(&t, 2, SH(3), 3, 1, NULL);
    tc_w(&t, 3, SH(3), 0, 0, var);
    CHECK(&t, x_batchnorm, SH(1, 3, 4, 5), 2e-6f);

    tc_init(&t, CD_OP_LAYERNORM, 2); /* axis 1 (LayerNorm2d) */
    tc_in(&t, SH(1, 3, 4, 5), 13, 3, NULL);
    tc_w(&t, 0, SH(3), 5, 1, NULL);
    tc_w(&t, 1, SH(3), 7, 2, NULL);
    CHECK(&t, x_layernorm_c, SH(1, 3, 4, 5), 2e-6f);

    tc_init(&t, CD_OP_LAYERNORM, 2); /* last dim, weight only */
    t.a.axis = -1;
    tc_in(&t, SH(1, 3, 4, 5), 13, 3, NULL);
    tc_w(&t, 0, SH(5), 5, 1, NULL);
    CHECK(&t, x_layernorm_last, SH(1, 3, 4, 5), 2e-6f);
}
END_TEST

START_TEST(t_binary_torch)
{
    struct tc t;
    tc_init(&t, CD_OP_ADD, 2); /* weight (3,1,1) against (N,3,4,5) */
    tc_in(&t, SH(1, 3, 4, 5), 13, 3, NULL);
    tc_w(&t, 0, SH(3, 1, 1), 5, 1, NULL);
    CHECK(&t, x_add_w, SH(1, 3, 4, 5), 0);

    tc_init(&t, CD_OP_SUB, 2); /* (N,3,1,5) - (N,1,4,1) */
    tc_in(&t, SH(1, 3, 1, 5), 13, 3, NULL);
    tc_in(&t, SH(1, 1, 4, 1), 7, 1, NULL);
    CHECK(&t, x_sub_2in, SH(1, 3, 4, 5), 0);

    float x[6];
    for (int i = 0; i < 6; i++)
        x[i] = pat(i, 13, 3) + 0.125f;
    tc_init(&t, CD_OP_DIV, 2); /* 1.5 / x */
    t.a.has_scalar = 1;
    t.a.scalar = 1.5f;
    t.a.reverse = 1;
    tc_in(&t, SH(1, 3), 0, 0, x);
    CHECK(&t, x_div_rev, SH(1, 3), 1e-7f);
}
END_TEST

static void pool_attrs(struct tc *t, int nsp, const int *k, const int *s,
                       const int *p, int ceil_mode)
{
    t->a.nsp = nsp;
    for (int i = 0; i < nsp; i++) {
        t->a.kernel[i] = k[i];
        t->a.stride[i] = s[i];
        t->a.pad_begin[i] = t->a.pad_end[i] = p[i];
    }
    t->a.ceil_mode = ceil_mode;
}

START_TEST(t_pool_torch)
{
    struct tc t;
    tc_init(&t, CD_OP_MAXPOOL, 2);
    pool_attrs(&t, 2, (int[]){ 3, 3 }, (int[]){ 2, 2 }, (int[]){ 1, 1 }, 1);
    tc_in(&t, SH(1, 2, 8, 7), 13, 3, NULL);
    CHECK(&t, x_maxpool_ceil, SH(1, 2, 5, 4), 0);

    tc_init(&t, CD_OP_MAXPOOL, 1);
    pool_attrs(&t, 1, (int[]){ 3 }, (int[]){ 2 }, (int[]){ 1 }, 0);
    t.a.dilation[0] = 2;
    tc_in(&t, SH(1, 2, 13), 13, 3, NULL);
    CHECK(&t, x_maxpool1d_dil, SH(1, 2, 6), 0);

    tc_init(&t, CD_OP_MAXPOOL, 1);
    pool_attrs(&t, 3, (int[]){ 2, 3, 2 }, (int[]){ 1, 2, 2 },
               (int[]){ 1, 1, 1 }, 0);
    tc_in(&t, SH(1, 1, 3, 5, 4), 13, 3, NULL);
    CHECK(&t, x_maxpool3d, SH(1, 1, 4, 3, 3), 0);

    tc_init(&t, CD_OP_AVGPOOL, 1);
    pool_attrs(&t, 2, (int[]){ 3, 3 }, (int[]){ 2, 2 }, (int[]){ 1, 1 }, 1);
    tc_in(&t, SH(1, 2, 6, 7), 13, 3, NULL);
    CHECK(&t, x_avgpool_ceil_inc, SH(1, 2, 4, 4), 1e-6f);
    t.a.count_include_pad = 0;
    CHECK(&t, x_avgpool_ceil_exc, SH(1, 2, 4, 4), 1e-6f);

    tc_init(&t, CD_OP_AVGPOOL, 1);
    pool_attrs(&t, 2, (int[]){ 2, 3 }, (int[]){ 3, 2 }, (int[]){ 1, 0 }, 1);
    tc_in(&t, SH(1, 2, 6, 7), 13, 3, NULL);
    CHECK(&t, x_avgpool_k2s3, SH(1, 2, 3, 3), 1e-6f);

    tc_init(&t, CD_OP_ADAPTIVE_AVGPOOL, 1);
    t.a.size[0] = 3;
    t.a.size[1] = 4;
    tc_in(&t, SH(1, 2, 5, 7), 13, 3, NULL);
    CHECK(&t, x_adaptive2d, SH(1, 2, 3, 4), 1e-6f);

    tc_init(&t, CD_OP_ADAPTIVE_AVGPOOL, 1);
    t.a.size[0] = 4;
    tc_in(&t, SH(1, 2, 10), 13, 3, NULL);
    CHECK(&t, x_adaptive1d, SH(1, 2, 4), 1e-6f);

    tc_init(&t, CD_OP_GLOBAL_AVGPOOL, 2);
    tc_in(&t, SH(1, 3, 4, 5), 13, 3, NULL);
    CHECK(&t, x_global, SH(1, 3, 1, 1), 1e-6f);
}
END_TEST

START_TEST(t_upsample_torch)
{
    struct tc t;
    tc_init(&t, CD_OP_UPSAMPLE, 1);
    t.a.size[0] = 7;
    t.a.size[1] = 5;
    tc_in(&t, SH(1, 2, 3, 4), 13, 3, NULL);
    CHECK(&t, x_up_nearest_size, SH(1, 2, 7, 5), 0);

    tc_init(&t, CD_OP_UPSAMPLE, 1);
    t.a.scale[0] = 1.5f;
    t.a.scale[1] = 2.5f;
    tc_in(&t, SH(1, 2, 3, 4), 13, 3, NULL);
    CHECK(&t, x_up_nearest_scale, SH(1, 2, 4, 10), 0);

    tc_init(&t, CD_OP_UPSAMPLE, 1);
    t.a.mode = CD_UPSAMPLE_BILINEAR;
    t.a.size[0] = 5;
    t.a.size[1] = 7;
    tc_in(&t, SH(1, 2, 3, 4), 13, 3, NULL);
    CHECK(&t, x_up_bil_ac0, SH(1, 2, 5, 7), 1e-6f);
    t.a.align_corners = 1;
    CHECK(&t, x_up_bil_ac1, SH(1, 2, 5, 7), 1e-6f);

    tc_init(&t, CD_OP_UPSAMPLE, 1);
    t.a.mode = CD_UPSAMPLE_BILINEAR;
    t.a.scale[0] = 1.7f;
    t.a.scale[1] = 2.3f;
    tc_in(&t, SH(1, 2, 3, 4), 13, 3, NULL);
    CHECK(&t, x_up_bil_scale, SH(1, 2, 5, 9), 1e-6f);

    tc_init(&t, CD_OP_UPSAMPLE, 1);
    t.a.size[0] = 8;
    tc_in(&t, SH(1, 2, 5), 13, 3, NULL);
    CHECK(&t, x_up_nearest1d, SH(1, 2, 8), 0);
}
END_TEST

START_TEST(t_tensor_torch)
{
    struct tc t;
    tc_init(&t, CD_OP_SOFTMAX, 2);
    tc_in(&t, SH(1, 3, 4, 5), 13, 3, NULL);
    CHECK(&t, x_softmax1, SH(1, 3, 4, 5), 1e-6f);
    t.a.axis = -1;
    CHECK(&t, x_softmax_last, SH(1, 3, 4, 5), 1e-6f);

    tc_init(&t, CD_OP_PAD, 1); /* F.pad(x, (2, 0, 1, 3), value=0.5) */
    t.a.nsp = 2;
    t.a.pad_begin[0] = 1;
    t.a.pad_end[0] = 3;
    t.a.pad_begin[1] = 2;
    t.a.alpha = 0.5f;
    tc_in(&t, SH(1, 2, 3, 4), 13, 3, NULL);
    CHECK(&t, x_pad, SH(1, 2, 7, 6), 0);

    tc_init(&t, CD_OP_PERMUTE, 2);
    t.a.n_perm = 4;
    memcpy(t.a.perm, (int[]){ 0, 3, 1, 2 }, 4 * sizeof(int));
    tc_in(&t, SH(1, 3, 4, 5), 13, 3, NULL);
    CHECK(&t, x_permute, SH(1, 5, 3, 4), 0);

    tc_init(&t, CD_OP_SLICE, 2); /* [:, :, -7::2, :] */
    t.a.axis = 2;
    t.a.start = -7;
    t.a.step = 2;
    tc_in(&t, SH(1, 3, 9, 2), 13, 3, NULL);
    CHECK(&t, x_slice, SH(1, 3, 4, 2), 0);

    tc_init(&t, CD_OP_CONCAT, 2);
    t.a.axis = -2;
    tc_in(&t, SH(1, 3, 2, 2), 13, 3, NULL);
    tc_in(&t, SH(1, 3, 1, 2), 7, 1, NULL);
    CHECK(&t, x_concat, SH(1, 3, 3, 2), 0);
}
END_TEST

/* ---- backend refusals ---- */

START_TEST(t_backend_refusals)
{
    struct cd_err err = { 0 };
    struct cd_backend *b = NULL;
    ck_assert_int_eq(cd_backend_ref_init(&b, &err), CD_OK);
    ck_assert_str_eq(b->desc, "reference C (single thread)");
    ck_assert_int_eq(b->i->alloc(b, SIZE_MAX / 2, 1, &err), CD_ENOMEM);
    ck_assert_int_eq(b->i->alloc(b, 16, 4, &err), CD_OK);
    float buf[32] = { 0 };
    ck_assert_int_eq(b->i->write(b, 8, buf, 9, &err), CD_ERANGE);
    ck_assert_int_eq(b->i->write(b, SIZE_MAX, buf, 2, &err), CD_ERANGE);
    ck_assert_int_eq(b->i->read(b, 0, buf, 17, &err), CD_ERANGE);
    ck_assert_int_eq(b->i->upload_weights(b, 1, buf, 4, &err), CD_ERANGE);
    ck_assert_int_eq(b->i->write(b, 0, buf, 16, &err), CD_OK);

    struct cd_attrs a;
    cd_attrs_default(&a, CD_OP_RELU);
    struct cd_tref in = { SH(1, 4), 0, 0 };
    struct cd_exec_node e = { .name = "r1", .op = CD_OP_RELU, .a = &a,
                              .n_in = 1, .in = &in,
                              .out = { SH(1, 4), 8 } };
    ck_assert_int_eq(b->i->run(b, &e, 2, &err), CD_OK);
    ck_assert_int_eq(b->i->run(b, &e, 3, &err), CD_ERANGE); /* 8 + 12 > 16 */
    ck_assert_ptr_nonnull(strstr(err.msg, "node r1"));
    e.out.shape = SH(1, 5);
    ck_assert_int_eq(b->i->run(b, &e, 1, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "planned output"));
    e.out.shape = SH(1, 4);
    e.op = CD_OP_CONV; /* required weight missing */
    ck_assert_int_eq(b->i->run(b, &e, 1, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "weight 'weight' missing"));
    e.op = CD_OP_COUNT;
    ck_assert_int_eq(b->i->run(b, &e, 1, &err), CD_EINVAL);
    e.op = CD_OP_RELU;
    ck_assert_int_eq(b->i->run(b, &e, 0, &err), CD_EINVAL);
    b->i->free(b);
}
END_TEST

static Suite *ops_ref_suite(void)
{
    Suite *s = suite_create("ops_ref");
    TCase *tc = tcase_create("ref");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, t_conv_hand);
    tcase_add_test(tc, t_pool_hand);
    tcase_add_test(tc, t_misc_hand);
    tcase_add_test(tc, t_conv_torch);
    tcase_add_test(tc, t_dense_torch);
    tcase_add_test(tc, t_binary_torch);
    tcase_add_test(tc, t_pool_torch);
    tcase_add_test(tc, t_upsample_torch);
    tcase_add_test(tc, t_tensor_torch);
    tcase_add_test(tc, t_backend_refusals);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(ops_ref_suite)
