/* bench_large_dw.c — GFLOP/s of the OpenCL depthwise convolution (stride 1,
 * centred padding) for kernel sizes 3, 7, 13 and 31 (RepLKNet/UniRepLKNet
 * sizes) on (1, 128, 56, 56) and (2, 64, 31, 31); FLOPs = 2 * C * OH * OW *
 * k * k per sample. Prints one line per case; never judges. */
#include "micro.h"

static void dw_case(struct cd_harness_case *hc, int c, int h, int w, int k,
                    int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_CONV;
    cd_attrs_default(&hc->a, CD_OP_CONV);
    hc->a.nsp = 2;
    hc->a.groups = c;
    for (int i = 0; i < 2; i++)
        hc->a.pad_begin[i] = hc->a.pad_end[i] = k / 2;
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, c, h, w });
    hc->w[0] = cd_shape_make(4, (int64_t[]){ c, 1, k, k });
    hc->w[1] = cd_shape_make(1, (int64_t[]){ c });
}

int main(void)
{
    static const int ks[] = { 3, 7, 13, 31 };
    static const int shapes[][4] = { { 1, 128, 56, 56 }, { 2, 64, 31, 31 } };
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_large_dw: no OpenCL device\n");
        return 1;
    }
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 4; i++) {
            struct cd_harness_case hc;
            const int *p = shapes[s];
            dw_case(&hc, p[1], p[2], p[3], ks[i], p[0]);
            double t = cd_micro_time(&hc, 5);
            if (t <= 0)
                return 1;
            double fl = 2.0 * p[0] * p[1] * p[2] * p[3] * ks[i] * ks[i];
            printf("depthwise k=%2d  (%d,%d,%d,%d)  %8.3f ms  %7.2f GFLOP/s\n",
                   ks[i], p[0], p[1], p[2], p[3], t * 1e3, fl / t * 1e-9);
        }
    return 0;
}
