/* test_ops_cl_conv.c — OpenCL conv, linear and matmul against the C
 * reference (tests/op_harness.h): fixed edge cases (every kernel path: GEMM
 * 1x1, tiled 16/8-wide, depthwise, 3-D direct; borders, stride 2/3, dilation,
 * groups, asymmetric padding, epilogues) and seeded random shapes. With
 * CD_BENCH=1 set it also prints GFLOP/s of two ResNet-sized convs. */
#include "engine/op_shape.h"
#include "harness_check.h"
#include "op_harness.h"

#include <check.h>
#include <time.h>

#define TOL 2e-5

struct cspec {
    int nsp, cin, cout, groups;
    int in[3], k[3], s[3], d[3], pb[3], pe[3];
    int bias, act, residual, batch;
};

/* Builds the harness case of a conv spec; fills in[1] for a residual. */
static int conv_case(const struct cspec *c, struct cd_harness_case *hc)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_CONV;
    cd_attrs_default(&hc->a, CD_OP_CONV);
    hc->a.nsp = c->nsp;
    hc->a.groups = c->groups;
    hc->a.act = c->act;
    hc->a.act_alpha = c->act == CD_ACT_CLAMP ? -0.5f : 0.1f;
    hc->a.act_beta = 0.7f;
    hc->a.residual = c->residual;
    hc->in[0].ndim = hc->w[0].ndim = 2 + c->nsp;
    hc->in[0].dim[0] = 1;
    hc->in[0].dim[1] = c->cin;
    hc->w[0].dim[0] = c->cout;
    hc->w[0].dim[1] = c->cin / c->groups;
    for (int i = 0; i < c->nsp; i++) {
        hc->in[0].dim[2 + i] = c->in[i];
        hc->w[0].dim[2 + i] = c->k[i];
        hc->a.stride[i] = c->s[i] ? c->s[i] : 1;
        hc->a.dilation[i] = c->d[i] ? c->d[i] : 1;
        hc->a.pad_begin[i] = c->pb[i];
        hc->a.pad_end[i] = c->pe[i];
    }
    if (c->bias) {
        hc->w[1].ndim = 1;
        hc->w[1].dim[0] = c->cout;
    }
    hc->n_in = 1;
    hc->batch = c->batch ? c->batch : 1;
    struct cd_err err = { 0 };
    struct cd_shape out;
    hc->a.residual = 0; /* the shape of in[1] is what we compute here */
    if (cd_shape_conv(&hc->a, 1, hc->in, hc->w, &out, &err) != CD_OK)
        return -1;
    hc->a.residual = c->residual;
    if (c->residual) {
        hc->n_in = 2;
        hc->in[1] = out;
    }
    return 0;
}

static void run_case(const struct cd_harness_case *hc, unsigned seed,
                     const char *what)
{
    harness_check_cl(hc, seed, TOL, what);
}

static void run_conv(const struct cspec *c, unsigned seed, const char *what)
{
    struct cd_harness_case hc;
    ck_assert_msg(conv_case(c, &hc) == 0, "%s: invalid spec", what);
    run_case(&hc, seed, what);
}

static const struct cspec fixed[] = {
    /* 1x1 GEMM path: tails in M and N, groups, bias + residual + relu */
    { 2, 16, 24, 1, { 9, 11 }, { 1, 1 }, .bias = 1, .act = CD_ACT_RELU },
    { 2, 12, 20, 4, { 5, 7 }, { 1, 1 }, .residual = 1, .batch = 3 },
    { 2, 64, 64, 1, { 7, 7 }, { 1, 1 }, .bias = 1, .act = CD_ACT_GELU },
    /* 1x1 stride 2: tiled path */
    { 2, 16, 32, 1, { 15, 15 }, { 1, 1 }, { 2, 2 }, .bias = 1 },
    /* 3x3 pad 1, 16-wide tiles with left/right borders and a tail */
    { 2, 8, 16, 1, { 19, 37 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_RELU6, .residual = 1, .batch = 3 },
    /* stride 2 odd input, 7x7 stem-like */
    { 2, 3, 16, 1, { 33, 35 }, { 7, 7 }, { 2, 2 }, .pb = { 3, 3 },
      .pe = { 3, 3 }, .bias = 1, .act = CD_ACT_RELU },
    /* stride 3, dilation 2-3, asymmetric padding, 8-wide tiles */
    { 2, 6, 10, 1, { 13, 14 }, { 3, 2 }, { 3, 1 }, { 2, 3 }, { 0, 2 },
      { 3, 1 }, .act = CD_ACT_SILU },
    { 2, 5, 7, 1, { 6, 5 }, { 3, 3 }, .pb = { 1, 2 }, .pe = { 2, 0 },
      .bias = 1, .act = CD_ACT_HARDSWISH, .batch = 3 },
    /* groups 2 and 4, Cout_g not a multiple of the tile */
    { 2, 8, 12, 2, { 10, 21 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1 },
    { 2, 16, 20, 4, { 9, 18 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .act = CD_ACT_LEAKY_RELU, .residual = 1 },
    /* depthwise: 3x3 s1/s2, 7x7 large pad, dilated, narrow, 1-D */
    { 2, 12, 12, 12, { 20, 40 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 },
      .bias = 1, .act = CD_ACT_RELU6, .residual = 1, .batch = 3 },
    { 2, 8, 8, 8, { 17, 33 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .bias = 1 },
    { 2, 4, 4, 4, { 14, 30 }, { 7, 7 }, .pb = { 3, 3 }, .pe = { 3, 3 },
      .act = CD_ACT_GELU_TANH },
    { 2, 3, 3, 3, { 11, 9 }, { 3, 3 }, .d = { 2, 3 }, .pb = { 2, 3 },
      .pe = { 2, 3 }, .bias = 1, .act = CD_ACT_SIGMOID },
    { 2, 5, 10, 5, { 8, 8 }, { 3, 3 }, .pb = { 1, 1 }, .pe = { 1, 1 } },
    /* 1-D: plain, strided dilated, depthwise */
    { 1, 4, 6, 1, { 50 }, { 5 }, .pb = { 2 }, .pe = { 2 }, .bias = 1,
      .act = CD_ACT_TANH, .batch = 3 },
    { 1, 6, 8, 2, { 41 }, { 3 }, { 2 }, { 2 }, { 1 }, { 0 }, .batch = 1 },
    { 1, 8, 8, 8, { 37 }, { 9 }, .pb = { 4 }, .pe = { 4 }, .bias = 1 },
    /* 3-D: direct kernel */
    { 3, 4, 6, 2, { 5, 6, 7 }, { 3, 3, 3 }, { 1, 2, 1 }, { 1, 1, 2 },
      { 1, 1, 2 }, { 1, 0, 2 }, .bias = 1, .act = CD_ACT_CLAMP,
      .residual = 1, .batch = 3 },
    { 3, 8, 8, 8, { 4, 5, 6 }, { 1, 3, 3 }, .pb = { 0, 1, 1 },
      .pe = { 0, 1, 1 } },
    { 3, 6, 5, 1, { 3, 4, 5 }, { 1, 1, 1 }, .bias = 1 },
};

START_TEST(conv_fixed)
{
    char what[64];
    snprintf(what, sizeof what, "conv fixed %d", _i);
    run_conv(&fixed[_i], 100 + (unsigned)_i, what);
}
END_TEST

static int rnd(unsigned *s, int lo, int hi)
{
    *s = *s * 1103515245u + 12345u;
    return lo + (int)((*s >> 16) % (unsigned)(hi - lo + 1));
}

/* A random valid 1-D/2-D conv spec from seed. */
static void random_spec(unsigned seed, struct cspec *c)
{
    static const int acts[] = { CD_ACT_NONE, CD_ACT_RELU, CD_ACT_RELU6,
                                CD_ACT_GELU, CD_ACT_SILU };
    unsigned s = seed * 7919u + 17u;
    memset(c, 0, sizeof *c);
    c->nsp = rnd(&s, 0, 4) ? 2 : 1;
    int kind = rnd(&s, 0, 3); /* 0 plain, 1 grouped, 2 depthwise, 3 1x1 */
    int g = kind == 1 ? (rnd(&s, 0, 1) ? 2 : 4) : 1;
    c->cin = g * rnd(&s, 1, 9);
    c->cout = g * rnd(&s, 1, 12);
    if (kind == 2) {
        c->cin = c->cout = g = rnd(&s, 1, 16);
    }
    c->groups = g;
    for (int i = 0; i < c->nsp; i++) {
        c->in[i] = rnd(&s, 3, i == c->nsp - 1 ? 45 : 20);
        if (kind == 3) {
            c->k[i] = 1;
            c->s[i] = 1;
            c->d[i] = 1;
            continue;
        }
        c->k[i] = rnd(&s, 1, 5);
        c->s[i] = rnd(&s, 1, 3);
        c->d[i] = rnd(&s, 0, 3) ? 1 : rnd(&s, 2, 3);
        c->pb[i] = rnd(&s, 0, c->k[i] / 2 + 1);
        c->pe[i] = rnd(&s, 0, c->k[i] / 2 + 1);
        while (c->in[i] + c->pb[i] + c->pe[i] < c->d[i] * (c->k[i] - 1) + 1)
            c->in[i]++;
    }
    c->bias = rnd(&s, 0, 1);
    c->act = acts[rnd(&s, 0, 4)];
    c->residual = rnd(&s, 0, 2) == 0;
    c->batch = rnd(&s, 0, 1) ? 3 : 1;
}

START_TEST(conv_random)
{
    struct cspec c;
    char what[160];
    random_spec((unsigned)_i, &c);
    snprintf(what, sizeof what,
             "conv random %d: nsp %d cin %d cout %d g %d in %dx%d k %dx%d "
             "s %dx%d d %dx%d", _i, c.nsp, c.cin, c.cout, c.groups, c.in[0],
             c.in[1], c.k[0], c.k[1], c.s[0], c.s[1], c.d[0], c.d[1]);
    run_conv(&c, 1000 + (unsigned)_i, what);
}
END_TEST

static void linear_case(struct cd_harness_case *hc, int ndim,
                        const int64_t *dims, int out, int bias, int act,
                        int residual, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_LINEAR;
    cd_attrs_default(&hc->a, CD_OP_LINEAR);
    hc->a.act = act;
    hc->a.residual = residual;
    hc->in[0] = cd_shape_make(ndim, dims);
    hc->w[0].ndim = 2;
    hc->w[0].dim[0] = out;
    hc->w[0].dim[1] = dims[ndim - 1];
    if (bias) {
        hc->w[1].ndim = 1;
        hc->w[1].dim[0] = out;
    }
    hc->n_in = residual ? 2 : 1;
    hc->in[1] = hc->in[0];
    hc->in[1].dim[ndim - 1] = out;
    hc->batch = batch;
}

START_TEST(linear_cases)
{
    struct cd_harness_case hc;
    static const int64_t d2a[] = { 1, 512 }, d2b[] = { 1, 37 },
                         d4[] = { 1, 3, 5, 33 }, d3[] = { 1, 7, 16 };
    linear_case(&hc, 2, d2a, 1000, 1, CD_ACT_NONE, 0, 1);
    run_case(&hc, 1, "linear 512->1000 batch 1");
    linear_case(&hc, 2, d2b, 19, 1, CD_ACT_RELU, 1, 3);
    run_case(&hc, 2, "linear 37->19 batch 3 residual");
    linear_case(&hc, 2, d2b, 5, 0, CD_ACT_GELU, 0, 8);
    run_case(&hc, 3, "linear 37->5 batch 8");
    linear_case(&hc, 4, d4, 21, 1, CD_ACT_SILU, 1, 3);
    run_case(&hc, 4, "linear rank 4 batch 3");
    linear_case(&hc, 3, d3, 48, 0, CD_ACT_NONE, 0, 1);
    run_case(&hc, 5, "linear rank 3 batch 1");
}
END_TEST

START_TEST(matmul_cases)
{
    static const int64_t sh[][5] = { /* lead, M, K, N, rank */
        { 1, 5, 7, 9, 3 }, { 1, 16, 32, 48, 3 }, { 3, 13, 17, 20, 4 },
        { 2, 1, 33, 70, 4 },
    };
    for (int i = 0; i < 4; i++) {
        struct cd_harness_case hc;
        memset(&hc, 0, sizeof hc);
        hc.op = CD_OP_MATMUL;
        cd_attrs_default(&hc.a, CD_OP_MATMUL);
        int r = (int)sh[i][4];
        hc.n_in = 2;
        hc.in[0].ndim = hc.in[1].ndim = r;
        hc.in[0].dim[0] = hc.in[1].dim[0] = 1;
        if (r == 4)
            hc.in[0].dim[1] = hc.in[1].dim[1] = sh[i][0];
        hc.in[0].dim[r - 2] = sh[i][1];
        hc.in[0].dim[r - 1] = sh[i][2];
        hc.in[1].dim[r - 2] = sh[i][2];
        hc.in[1].dim[r - 1] = sh[i][3];
        hc.batch = i % 2 ? 3 : 1;
        char what[64];
        snprintf(what, sizeof what, "matmul case %d", i);
        run_case(&hc, 50 + (unsigned)i, what);
    }
}
END_TEST

/* Prints GFLOP/s of one conv on the OpenCL backend (CD_BENCH=1 only). */
static void bench_conv(const struct cspec *c, const char *what)
{
    struct cd_harness_case hc;
    struct cd_backend *cl = cd_harness_cl();
    struct cd_err err = { 0 };
    struct cd_shape out;
    if (!cl || conv_case(c, &hc) ||
        cd_shape_conv(&hc.a, 1, hc.in, hc.w, &out, &err))
        return;
    size_t nin = (size_t)cd_shape_numel(&hc.in[0]);
    size_t nw = (size_t)cd_shape_numel(&hc.w[0]);
    struct cd_tref in = { hc.in[0], 0, 0 };
    struct cd_exec_node e = { .name = what, .op = CD_OP_CONV, .a = &hc.a,
                              .n_in = 1, .in = &in };
    e.has_w[0] = true;
    e.w[0].shape = hc.w[0];
    e.out.shape = out;
    e.out.off = harness_round16(nin);
    float *w = calloc(nw, sizeof(float));
    if (!w || cl->i->alloc(cl, e.out.off + (size_t)cd_shape_numel(&out),
                           nw, &err) ||
        cl->i->upload_weights(cl, 0, w, nw, &err)) {
        free(w);
        return;
    }
    free(w);
    double flops = 2.0 * (double)cd_shape_numel(&out) * (double)nw /
                   (double)c->cout;
    cl->i->run(cl, &e, 1, &err);
    cl->i->finish(cl, &err);
    struct timespec t0, t1;
    int reps = 20;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++)
        cl->i->run(cl, &e, 1, &err);
    cl->i->finish(cl, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("bench %s: %.3f ms, %.1f GFLOP/s\n", what, 1e3 * s / reps,
           flops * reps / s * 1e-9);
}

START_TEST(conv_bench)
{
    const char *b = getenv("CD_BENCH");
    if (!b || strcmp(b, "1"))
        return;
    static const struct cspec c3 = { 2, 64, 64, 1, { 56, 56 }, { 3, 3 },
                                     .pb = { 1, 1 }, .pe = { 1, 1 } };
    static const struct cspec c1 = { 2, 256, 256, 1, { 28, 28 }, { 1, 1 },
                                     .batch = 1 };
    static const struct cspec c3s = { 2, 256, 256, 1, { 14, 14 }, { 3, 3 },
                                      .pb = { 1, 1 }, .pe = { 1, 1 } };
    static const struct cspec c7 = { 2, 512, 512, 1, { 7, 7 }, { 3, 3 },
                                     .pb = { 1, 1 }, .pe = { 1, 1 } };
    static const struct cspec dw = { 2, 96, 96, 96, { 56, 56 }, { 7, 7 },
                                     .pb = { 3, 3 }, .pe = { 3, 3 } };
    bench_conv(&c3, "3x3 64->64 56x56");
    bench_conv(&c1, "1x1 256->256 28x28");
    bench_conv(&c3s, "3x3 256->256 14x14");
    bench_conv(&c7, "3x3 512->512 7x7");
    bench_conv(&dw, "dw7x7 96 56x56");
}
END_TEST

static Suite *ops_cl_conv_suite(void)
{
    Suite *s = suite_create("ops_cl_conv");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, conv_fixed, 0,
                        (int)(sizeof fixed / sizeof fixed[0]));
    tcase_add_loop_test(tc, conv_random, 0, 30);
    tcase_add_test(tc, linear_cases);
    tcase_add_test(tc, matmul_cases);
    tcase_add_test(tc, conv_bench);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(ops_cl_conv_suite)
