/* bench_scnn.c — the OpenCL scnn op (one cd_scnn_slice launch per slice):
 * GFLOP/s on SCNN's lane-detection size (128 channels, 36 x 100, width 9)
 * and smaller maps, FLOPs = 2 * N * C * C * w * (2 (H-1) W + 2 (W-1) H);
 * and the per-slice launch overhead, from a 1-channel width-1 map where
 * the work is negligible: time / (2 (H-1) + 2 (W-1)) launches. Prints one
 * line per case; never judges. */
#include "micro.h"

static void scnn_case(struct cd_harness_case *hc, int n, int c, int h, int w,
                      int k)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_SCNN;
    cd_attrs_default(&hc->a, hc->op);
    hc->n_in = 1;
    hc->batch = n;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, c, h, w });
    hc->w[0] = cd_shape_make(4, (int64_t[]){ c, c, 1, k });
    hc->w[1] = hc->w[0];
    hc->w[2] = cd_shape_make(4, (int64_t[]){ c, c, k, 1 });
    hc->w[3] = hc->w[2];
}

int main(void)
{
    static const int cases[][5] = { /* n, c, h, w, k */
        { 1, 128, 36, 100, 9 }, { 2, 64, 37, 51, 9 }, { 1, 32, 64, 64, 5 },
    };
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_scnn: no OpenCL device\n");
        return 1;
    }
    struct cd_harness_case hc;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *p = cases[i];
        scnn_case(&hc, p[0], p[1], p[2], p[3], p[4]);
        double t = cd_micro_time(&hc, 5);
        if (t <= 0)
            return 1;
        double fl = 2.0 * p[0] * p[1] * p[1] * p[4] *
                    (2.0 * (p[2] - 1) * p[3] + 2.0 * (p[3] - 1) * p[2]);
        int launches = 2 * (p[2] - 1) + 2 * (p[3] - 1);
        printf("scnn (%d,%d,%d,%d) w=%d  %d launches  %8.3f ms  %7.2f "
               "GFLOP/s\n", p[0], p[1], p[2], p[3], p[4], launches, t * 1e3,
               fl / t * 1e-9);
    }
    scnn_case(&hc, 1, 1, 65, 65, 1);
    double t = cd_micro_time(&hc, 7);
    if (t <= 0)
        return 1;
    printf("scnn launch overhead (1,1,65,65) w=1: %.3f ms / 256 launches = "
           "%.2f us per slice\n", t * 1e3, t / 256 * 1e6);
    return 0;
}
