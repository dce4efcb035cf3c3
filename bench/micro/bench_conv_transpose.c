/* bench_conv_transpose.c — GFLOP/s of conv_transpose
 * (kernels/conv_transpose.cl) on the OpenCL device: WaveMix's k4 stride-2
 * decoder, a k2 stride-2 U-Net upsampler, a stride-3 case and a 1-D one.
 * FLOPs = 2 * Cin * Cout/groups * prod(k) * input positions * batch. */
#include "micro.h"

struct tb {
    const char *what;
    int nsp, cin, cout, k, s, p, op, h, w, batch;
};

int main(void)
{
    static const struct tb cases[] = {
        { "wavemix k4 s2 p1 256->256 28x28", 2, 256, 256, 4, 2, 1, 0, 28, 28, 2 },
        { "wavemix k4 s2 p1 64->64 56x56", 2, 64, 64, 4, 2, 1, 0, 56, 56, 2 },
        { "unet k2 s2 128->64 28x28", 2, 128, 64, 2, 2, 0, 0, 28, 28, 4 },
        { "k3 s3 p1 op2 64->32 20x20", 2, 64, 32, 3, 3, 1, 2, 20, 20, 2 },
        { "1-D k4 s2 p1 64->64 L=2048", 1, 64, 64, 4, 2, 1, 0, 1, 2048, 4 },
    };
    int fail = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tb *c = &cases[i];
        struct cd_harness_case hc;
        memset(&hc, 0, sizeof hc);
        hc.op = CD_OP_CONV_TRANSPOSE;
        cd_attrs_default(&hc.a, hc.op);
        hc.a.nsp = c->nsp;
        hc.n_in = 1;
        hc.batch = c->batch;
        hc.in[0].ndim = hc.w[0].ndim = 2 + c->nsp;
        hc.in[0].dim[0] = 1;
        hc.in[0].dim[1] = c->cin;
        hc.w[0].dim[0] = c->cin;
        hc.w[0].dim[1] = c->cout;
        double pos = 1.0, kk = 1.0;
        for (int j = 0; j < c->nsp; j++) {
            int n = c->nsp == 1 ? c->w : (j == 0 ? c->h : c->w);
            hc.in[0].dim[2 + j] = n;
            hc.w[0].dim[2 + j] = c->k;
            hc.a.stride[j] = c->s;
            hc.a.pad_begin[j] = hc.a.pad_end[j] = c->p;
            hc.a.output_padding[j] = c->op;
            pos *= n;
            kk *= c->k;
        }
        hc.w[1] = (struct cd_shape){ 1, { c->cout } };
        double t = cd_micro_time(&hc, 10);
        if (t <= 0) {
            fail = 1;
            continue;
        }
        double flops = 2.0 * c->cin * c->cout * kk * pos * c->batch;
        printf("%-36s batch %d: %8.3f ms  %7.2f GFLOP/s\n", c->what, c->batch,
               t * 1e3, flops / t * 1e-9);
    }
    return fail;
}
