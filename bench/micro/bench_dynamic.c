/* bench_dynamic.c — GFLOP/s of the OpenCL dynamic_dwconv (per-sample
 * depthwise kernels, ATConv) on typical stage sizes, next to the static
 * depthwise conv of the same size for reference; FLOPs = 2 * N * C * OH *
 * OW * kh * kw. Prints one line per case; never judges. */
#include "micro.h"

static void dyn_case(struct cd_harness_case *hc, int n, int c, int h, int w,
                     int k, int s, bool dynamic)
{
    memset(hc, 0, sizeof *hc);
    hc->op = dynamic ? CD_OP_DYNAMIC_DWCONV : CD_OP_CONV;
    cd_attrs_default(&hc->a, hc->op);
    hc->a.nsp = 2;
    for (int i = 0; i < 2; i++) {
        hc->a.pad_begin[i] = hc->a.pad_end[i] = k / 2;
        hc->a.stride[i] = s;
    }
    hc->n_in = dynamic ? 2 : 1;
    hc->batch = n;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, c, h, w });
    if (dynamic)
        hc->in[1] = cd_shape_make(4, (int64_t[]){ 1, c, k, k });
    else
        hc->w[0] = cd_shape_make(4, (int64_t[]){ c, 1, k, k });
    hc->a.groups = dynamic ? 1 : c;
    hc->w[dynamic ? 0 : 1] = cd_shape_make(1, (int64_t[]){ c });
}

int main(void)
{
    static const int cases[][6] = { /* n, c, h, w, k, stride */
        { 4, 64, 56, 56, 3, 1 }, { 4, 128, 28, 28, 3, 1 },
        { 4, 256, 14, 14, 3, 1 }, { 2, 96, 57, 57, 7, 1 },
        { 4, 64, 56, 56, 3, 2 },
    };
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_dynamic: no OpenCL device\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int d = 1; d >= 0; d--) {
            const int *p = cases[i];
            struct cd_harness_case hc;
            dyn_case(&hc, p[0], p[1], p[2], p[3], p[4], p[5], d);
            double t = cd_micro_time(&hc, 7);
            if (t <= 0)
                return 1;
            int oh = (p[2] + 2 * (p[4] / 2) - p[4]) / p[5] + 1;
            int ow = (p[3] + 2 * (p[4] / 2) - p[4]) / p[5] + 1;
            double fl = 2.0 * p[0] * p[1] * oh * ow * p[4] * p[4];
            printf("%-14s k=%d s=%d (%d,%d,%d,%d)  %8.3f ms  %7.2f GFLOP/s\n",
                   d ? "dynamic_dwconv" : "static dwconv", p[4], p[5], p[0],
                   p[1], p[2], p[3], t * 1e3, fl / t * 1e-9);
        }
    return 0;
}
