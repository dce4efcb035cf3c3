/* bench_norm_act.c — GB/s of inference batchnorm (with a fused relu where
 * the build supports it) next to a plain relu of the same tensor, on the
 * OpenCL device at densenet121's batch-8 pre-activation shapes (56x56 down
 * to 7x7, whose rows are not multiples of 8 or 16 floats). Bytes = input
 * read once + output written once. Optional argument: only the cases whose
 * name contains it. Prints one line per case; never judges: compare two
 * builds side by side. */
#include "micro.h"

static void bn_case(struct cd_harness_case *hc, int c, int hw, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_BATCHNORM;
    cd_attrs_default(&hc->a, hc->op);
    hc->a.act = CD_ACT_RELU;
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, c, hw, hw });
    for (int j = 0; j < 4; j++)
        hc->w[j] = cd_shape_make(1, (int64_t[]){ c });
}

static void relu_case(struct cd_harness_case *hc, int c, int hw, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_RELU;
    cd_attrs_default(&hc->a, hc->op);
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, c, hw, hw });
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_norm_act: no OpenCL device\n");
        return 1;
    }
    static const int shapes[][2] = { { 256, 56 }, { 128, 56 }, { 512, 28 },
                                     { 1024, 14 }, { 512, 14 }, { 1024, 7 } };
    int rc = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        for (int k = 0; k < 2; k++) {
            struct cd_harness_case hc;
            int c = shapes[i][0], hw = shapes[i][1], b = 8;
            char what[64];
            snprintf(what, sizeof what, "%s %dx%dx%d", k ? "relu" :
                     "batchnorm+relu", c, hw, hw);
            if (only && !strstr(what, only))
                continue;
            if (k)
                relu_case(&hc, c, hw, b);
            else
                bn_case(&hc, c, hw, b);
            double t = cd_micro_time(&hc, 25);
            if (t <= 0) {
                rc = 1;
                continue;
            }
            double bytes = 8.0 * c * hw * hw * b;
            printf("%-30s median %7.3f ms %6.2f GB/s  best %7.3f ms %6.2f "
                   "GB/s\n", what, t * 1e3, bytes / t * 1e-9,
                   cd_micro_best_s * 1e3, bytes / cd_micro_best_s * 1e-9);
        }
    }
    return rc;
}
