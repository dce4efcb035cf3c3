/* test_ops_cl_pool.c — OpenCL maxpool, avgpool, adaptive and global average
 * pooling against the C reference (tests/op_harness.h): fixed edge cases
 * (ceil_mode windows, count_include_pad, asymmetric padding, dilation,
 * uneven adaptive windows, 1-D and 3-D, rows wide enough for the vectorised
 * 2-D kernels' interior and border segments) and seeded random shapes. */
#include "harness_check.h"
#include "op_harness.h"

#include <check.h>

#define TOL 1e-5

struct pspec {
    int op, nsp, c;
    int in[3], k[3], s[3], d[3], pb[3], pe[3];
    int ceil_mode, count_include_pad, batch;
};

static void pool_case(const struct pspec *p, struct cd_harness_case *hc)
{
    memset(hc, 0, sizeof *hc);
    hc->op = (enum cd_op)p->op;
    cd_attrs_default(&hc->a, hc->op);
    hc->a.nsp = p->nsp;
    hc->a.ceil_mode = p->ceil_mode;
    hc->a.count_include_pad = p->count_include_pad;
    hc->n_in = 1;
    hc->batch = p->batch ? p->batch : 1;
    hc->in[0].ndim = 2 + p->nsp;
    hc->in[0].dim[0] = 1;
    hc->in[0].dim[1] = p->c;
    for (int i = 0; i < p->nsp; i++) {
        hc->in[0].dim[2 + i] = p->in[i];
        hc->a.kernel[i] = p->k[i];
        hc->a.stride[i] = p->s[i] ? p->s[i] : p->k[i];
        hc->a.dilation[i] = p->d[i] ? p->d[i] : 1;
        hc->a.pad_begin[i] = p->pb[i];
        hc->a.pad_end[i] = p->pe[i];
    }
}

static void run_case(const struct cd_harness_case *hc, unsigned seed,
                     const char *what)
{
    harness_check_cl(hc, seed, TOL, what);
}

#define MAXP CD_OP_MAXPOOL
#define AVGP CD_OP_AVGPOOL
static const struct pspec fixed[] = {
    { MAXP, 2, 3, { 8, 8 }, { 2, 2 }, .batch = 1 },
    { MAXP, 2, 4, { 15, 17 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .batch = 3 },
    { MAXP, 2, 2, { 14, 13 }, { 3, 3 }, { 2, 2 }, .ceil_mode = 1 },
    { MAXP, 2, 3, { 11, 12 }, { 3, 2 }, { 1, 2 }, { 2, 3 }, { 1, 0 },
      { 0, 1 }, .ceil_mode = 1 },
    { MAXP, 1, 5, { 21 }, { 3 }, { 2 }, .pb = { 1 }, .pe = { 1 } },
    { MAXP, 3, 2, { 5, 6, 7 }, { 2, 3, 3 }, { 2, 1, 2 }, .pb = { 0, 1, 1 },
      .pe = { 1, 1, 0 }, .batch = 3 },
    { AVGP, 2, 3, { 8, 9 }, { 2, 2 }, .batch = 1 },
    { AVGP, 2, 3, { 9, 10 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .count_include_pad = 1, .batch = 3 },
    { AVGP, 2, 3, { 9, 10 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .count_include_pad = 0 },
    { AVGP, 2, 2, { 10, 11 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 0 },
      .pe = { 0, 1 }, .ceil_mode = 1, .count_include_pad = 1 },
    { AVGP, 2, 2, { 10, 11 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .ceil_mode = 1, .count_include_pad = 0 },
    { AVGP, 1, 4, { 17 }, { 4 }, { 3 }, .pb = { 2 }, .pe = { 1 },
      .ceil_mode = 1, .count_include_pad = 1 },
    { AVGP, 3, 2, { 4, 5, 6 }, { 2, 2, 2 }, { 1, 2, 2 },
      .count_include_pad = 1 },
    /* rows wide enough for the vectorised 2-D kernels' interior segments
     * (cd_pool2d_max/avg), with border segments at both ends, partial
     * last segments (W not a multiple of 16) and batch > 1 */
    { MAXP, 2, 5, { 37, 70 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .batch = 2 },
    { MAXP, 2, 3, { 33, 67 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .ceil_mode = 1, .batch = 3 },
    { MAXP, 2, 2, { 20, 53 }, { 2, 2 }, { 1, 1 }, .batch = 2 },
    { MAXP, 2, 2, { 21, 64 }, { 2, 2 }, { 2, 2 }, .batch = 2 },
    { MAXP, 2, 3, { 17, 61 }, { 3, 3 }, { 1, 1 }, { 2, 2 }, { 1, 1 },
      { 1, 0 }, .batch = 2 },
    { MAXP, 2, 2, { 3, 48 }, { 3, 3 }, { 1, 2 }, .pb = { 1, 0 },
      .pe = { 1, 1 }, .ceil_mode = 1, .batch = 2 },
    { AVGP, 2, 4, { 24, 56 }, { 2, 2 }, { 2, 2 }, .batch = 2 },
    { AVGP, 2, 3, { 19, 50 }, { 3, 3 }, { 1, 1 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .count_include_pad = 0, .batch = 2 },
    { AVGP, 2, 3, { 19, 50 }, { 3, 3 }, { 1, 1 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .count_include_pad = 1, .batch = 2 },
    { AVGP, 2, 2, { 23, 71 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .ceil_mode = 1, .count_include_pad = 1, .batch = 3 },
    { AVGP, 2, 2, { 23, 71 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .ceil_mode = 1, .count_include_pad = 0, .batch = 3 },
    { AVGP, 2, 2, { 1, 1 }, { 1, 1 }, { 1, 1 }, .batch = 2 },
    { MAXP, 2, 2, { 1, 2 }, { 1, 2 }, { 1, 2 }, .batch = 2 },
    { MAXP, 1, 3, { 100 }, { 3 }, { 2 }, .pb = { 1 }, .pe = { 1 },
      .batch = 2 },
    /* over 4096 output rows: several rows per work-item (rpi 3, a short
     * last run), the 3x3/s2 kernel's row reuse */
    { MAXP, 2, 128, { 40, 40 }, { 3, 3 }, { 2, 2 }, .pb = { 1, 1 },
      .pe = { 1, 1 }, .batch = 3 },
    { MAXP, 2, 128, { 41, 38 }, { 3, 3 }, { 2, 2 }, .ceil_mode = 1,
      .batch = 3 },
    { AVGP, 2, 96, { 48, 40 }, { 2, 2 }, { 2, 2 }, .batch = 3 },
    { AVGP, 1, 3, { 100 }, { 3 }, { 1 }, .pb = { 1 }, .pe = { 1 },
      .count_include_pad = 1, .batch = 2 },
};

START_TEST(pool_fixed)
{
    struct cd_harness_case hc;
    char what[64];
    pool_case(&fixed[_i], &hc);
    snprintf(what, sizeof what, "pool fixed %d", _i);
    run_case(&hc, 200 + (unsigned)_i, what);
}
END_TEST

static int rnd(unsigned *s, int lo, int hi)
{
    *s = *s * 1103515245u + 12345u;
    return lo + (int)((*s >> 16) % (unsigned)(hi - lo + 1));
}

START_TEST(pool_random)
{
    unsigned s = (unsigned)_i * 7919u + 3u;
    struct pspec p;
    memset(&p, 0, sizeof p);
    p.op = rnd(&s, 0, 1) ? MAXP : AVGP;
    p.nsp = rnd(&s, 0, 3) ? 2 : 1;
    p.c = rnd(&s, 1, 6);
    for (int i = 0; i < p.nsp; i++) {
        p.k[i] = rnd(&s, 1, 4);
        p.s[i] = rnd(&s, 1, 3);
        p.d[i] = p.op == MAXP && rnd(&s, 0, 2) == 0 ? 2 : 1;
        p.pb[i] = rnd(&s, 0, p.k[i] / 2);
        p.pe[i] = rnd(&s, 0, p.k[i] / 2);
        p.in[i] = rnd(&s, 1, 30) + p.d[i] * (p.k[i] - 1);
    }
    p.ceil_mode = rnd(&s, 0, 1);
    p.count_include_pad = rnd(&s, 0, 1);
    p.batch = rnd(&s, 0, 1) ? 3 : 1;
    struct cd_harness_case hc;
    pool_case(&p, &hc);
    char what[128];
    snprintf(what, sizeof what, "pool random %d (%s nsp %d k %d s %d d %d "
             "ceil %d cip %d)", _i, p.op == MAXP ? "max" : "avg", p.nsp,
             p.k[0], p.s[0], p.d[0], p.ceil_mode, p.count_include_pad);
    run_case(&hc, 300 + (unsigned)_i, what);
}
END_TEST

/* 2-D pools with stride <= 2 along W and rows of 16 to 140 floats: the
 * vectorised kernels' interior and border segments at random offsets. */
START_TEST(pool2d_random_wide)
{
    unsigned s = (unsigned)_i * 104729u + 11u;
    struct pspec p;
    memset(&p, 0, sizeof p);
    p.op = rnd(&s, 0, 1) ? MAXP : AVGP;
    p.nsp = 2;
    p.c = rnd(&s, 1, 4);
    for (int i = 0; i < 2; i++) {
        p.k[i] = rnd(&s, 1, 3);
        p.s[i] = rnd(&s, 1, 2);
        p.d[i] = p.op == MAXP && rnd(&s, 0, 3) == 0 ? 2 : 1;
        p.pb[i] = rnd(&s, 0, p.k[i] / 2);
        p.pe[i] = rnd(&s, 0, p.k[i] / 2);
        p.in[i] = (i == 1 ? rnd(&s, 16, 140) : rnd(&s, 1, 12)) +
                  p.d[i] * (p.k[i] - 1);
    }
    p.ceil_mode = rnd(&s, 0, 1);
    p.count_include_pad = rnd(&s, 0, 1);
    p.batch = rnd(&s, 1, 3);
    struct cd_harness_case hc;
    pool_case(&p, &hc);
    char what[160];
    snprintf(what, sizeof what, "pool2d wide %d (%s %dx%d k %dx%d s %dx%d "
             "d %d pb %d,%d pe %d,%d ceil %d cip %d batch %d)", _i,
             p.op == MAXP ? "max" : "avg", p.in[0], p.in[1], p.k[0], p.k[1],
             p.s[0], p.s[1], p.d[1], p.pb[0], p.pb[1], p.pe[0], p.pe[1],
             p.ceil_mode, p.count_include_pad, p.batch);
    run_case(&hc, 500 + (unsigned)_i, what);
}
END_TEST

static void adaptive(int nsp, const int *in, const int *out, int c, int batch,
                     unsigned seed, const char *what)
{
    struct cd_harness_case hc;
    memset(&hc, 0, sizeof hc);
    hc.op = CD_OP_ADAPTIVE_AVGPOOL;
    cd_attrs_default(&hc.a, hc.op);
    hc.a.nsp = nsp;
    hc.n_in = 1;
    hc.batch = batch;
    hc.in[0].ndim = 2 + nsp;
    hc.in[0].dim[0] = 1;
    hc.in[0].dim[1] = c;
    for (int i = 0; i < nsp; i++) {
        hc.in[0].dim[2 + i] = in[i];
        hc.a.size[i] = out[i];
    }
    run_case(&hc, seed, what);
}

START_TEST(adaptive_cases)
{
    adaptive(2, (int[]){ 7, 7 }, (int[]){ 3, 3 }, 4, 1, 1, "adaptive 7x7->3x3");
    adaptive(2, (int[]){ 5, 9 }, (int[]){ 2, 4 }, 3, 3, 2, "adaptive 5x9->2x4");
    adaptive(2, (int[]){ 6, 6 }, (int[]){ 1, 1 }, 5, 1, 3, "adaptive ->1x1");
    adaptive(2, (int[]){ 3, 4 }, (int[]){ 7, 7 }, 2, 3, 4, "adaptive upscale");
    adaptive(1, (int[]){ 5 }, (int[]){ 2 }, 6, 3, 5, "adaptive 1-D 5->2");
    adaptive(1, (int[]){ 50 }, (int[]){ 7 }, 2, 1, 6, "adaptive 1-D 50->7");
}
END_TEST

static void global_pool(int ndim, const int64_t *dims, int batch,
                        unsigned seed, const char *what)
{
    struct cd_harness_case hc;
    memset(&hc, 0, sizeof hc);
    hc.op = CD_OP_GLOBAL_AVGPOOL;
    cd_attrs_default(&hc.a, hc.op);
    hc.n_in = 1;
    hc.batch = batch;
    hc.in[0] = cd_shape_make(ndim, dims);
    run_case(&hc, seed, what);
}

START_TEST(global_cases)
{
    global_pool(4, (int64_t[]){ 1, 64, 7, 7 }, 3, 1, "global 64x7x7");
    global_pool(4, (int64_t[]){ 1, 5, 1, 1 }, 1, 2, "global 1x1");
    global_pool(4, (int64_t[]){ 1, 3, 33, 35 }, 1, 3, "global 33x35");
    global_pool(3, (int64_t[]){ 1, 7, 100 }, 3, 4, "global 1-D");
    global_pool(5, (int64_t[]){ 1, 2, 3, 4, 5 }, 3, 5, "global 3-D");
}
END_TEST

static Suite *ops_cl_pool_suite(void)
{
    Suite *s = suite_create("ops_cl_pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, pool_fixed, 0,
                        (int)(sizeof fixed / sizeof fixed[0]));
    tcase_add_loop_test(tc, pool_random, 0, 16);
    tcase_add_loop_test(tc, pool2d_random_wide, 0, 24);
    tcase_add_test(tc, adaptive_cases);
    tcase_add_test(tc, global_cases);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(ops_cl_pool_suite)
