/* bench_multidilated.c — GFLOP/s of the multidilated_conv kernel (D3Net
 * layers, 2-D and 1-D) on the OpenCL device, next to a plain conv of the same
 * size (dilation 1, the tiled conv kernel) for scale. Random inputs; prints
 * one line per case; never writes files. */
#include "micro.h"

struct bcase {
    const char *name;
    int nsp, cin, cout, in[2], k, m, dil[4], batch;
};

static void setup(const struct bcase *b, struct cd_harness_case *c, int plain)
{
    memset(c, 0, sizeof *c);
    c->op = plain ? CD_OP_CONV : CD_OP_MULTIDILATED_CONV;
    cd_attrs_default(&c->a, c->op);
    c->a.nsp = b->nsp;
    c->a.n_dilations = b->m;
    for (int i = 0; i < b->m; i++)
        c->a.dilations[i] = b->dil[i];
    c->n_in = 1;
    c->batch = b->batch;
    c->in[0].ndim = c->w[0].ndim = 2 + b->nsp;
    c->in[0].dim[0] = 1;
    c->in[0].dim[1] = b->cin;
    c->w[0].dim[0] = b->cout;
    c->w[0].dim[1] = b->cin;
    for (int i = 0; i < b->nsp; i++) {
        c->in[0].dim[2 + i] = b->in[i];
        c->w[0].dim[2 + i] = b->k;
        c->a.pad_begin[i] = c->a.pad_end[i] = (b->k - 1) / 2;
    }
    c->w[1] = cd_shape_make(1, (int64_t[]){ b->cout });
}

int main(void)
{
    static const struct bcase cases[] = {
        { "2d 64->32 3x3 d=1,2,4,8 64x64", 2, 64, 32, { 64, 64 }, 3, 4,
          { 1, 2, 4, 8 }, 4 },
        { "2d 96->32 3x3 d=1,2,4 33x47", 2, 96, 32, { 33, 47 }, 3, 3,
          { 1, 2, 4 }, 4 },
        { "1d 96->64 k3 d=1,2,4 L4096", 1, 96, 64, { 4096 }, 3, 3,
          { 1, 2, 4 }, 4 },
    };
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_multidilated: no OpenCL device\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bcase *b = &cases[i];
        struct cd_harness_case c;
        double sp = b->nsp == 2 ? (double)b->in[0] * b->in[1] : b->in[0];
        double kk = b->nsp == 2 ? b->k * b->k : b->k;
        double flop = 2.0 * b->batch * b->cout * b->cin * kk * sp;
        setup(b, &c, 0);
        double t = cd_micro_time(&c, 7);
        setup(b, &c, 1);
        double tp = cd_micro_time(&c, 7);
        if (t <= 0 || tp <= 0)
            return 1;
        printf("multidilated_conv %-32s batch %d: %7.2f ms %6.1f GFLOP/s "
               "(plain conv same size: %6.1f GFLOP/s)\n", b->name, b->batch,
               t * 1e3, flop / t * 1e-9, flop / tp * 1e-9);
    }
    return 0;
}
