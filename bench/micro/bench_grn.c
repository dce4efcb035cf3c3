/* bench_grn.c — GB/s of the OpenCL grn kernel (global response
 * normalisation) channels-last (UniRepLKNet / ConvNeXt V2 FFN: (N, H, W,
 * 4C)) and channels-first; bytes = 2 passes over the input + 1 write
 * (3 x 4 x numel). Prints one line per case; never judges. */
#include "micro.h"

int main(void)
{
    static const int cases[][5] = {
        /* batch, d1, d2, d3, axis */
        { 2, 28, 28, 384, -1 }, { 2, 14, 14, 768, -1 }, { 2, 56, 56, 128, -1 },
        { 2, 384, 28, 28, 1 }, { 2, 96, 55, 57, 1 },
    };
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_grn: no OpenCL device\n");
        return 1;
    }
    for (int i = 0; i < (int)(sizeof cases / sizeof *cases); i++) {
        const int *p = cases[i];
        struct cd_harness_case hc;
        memset(&hc, 0, sizeof hc);
        hc.op = CD_OP_GRN;
        cd_attrs_default(&hc.a, CD_OP_GRN);
        hc.a.axis = p[4];
        hc.a.eps = 1e-6f;
        hc.n_in = 1;
        hc.batch = p[0];
        hc.in[0] = cd_shape_make(4, (int64_t[]){ 1, p[1], p[2], p[3] });
        int64_t c = p[4] == 1 ? p[1] : p[3];
        hc.w[0] = cd_shape_make(1, &c);
        hc.w[1] = cd_shape_make(1, &c);
        double t = cd_micro_time(&hc, 9);
        if (t <= 0)
            return 1;
        double bytes = 3.0 * 4.0 * p[0] * p[1] * p[2] * p[3];
        printf("grn axis %2d (%d,%d,%d,%d)  %8.3f ms  %7.2f GB/s\n", p[4],
               p[0], p[1], p[2], p[3], t * 1e3, bytes / t * 1e-9);
    }
    return 0;
}
