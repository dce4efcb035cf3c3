/* bench_dw.c — the OpenCL depthwise convolution kernels side by side, per
 * layer shape of mobilenet_v2 (3x3, stride 1 and 2), convnext_tiny (7x7) and
 * UniRepLKNet-like large kernels (13x13, 31x31), at batch 8 (or the batch
 * given as the first argument): for every depthwise variant that fits
 * (generic, large, fixed), GFLOP/s of the best of 15 runs (CD_REPS) and its share of
 * the roofline-attainable rate min(548 GFLOP/s, bandwidth x intensity),
 * bandwidth from CD_BW_GBS (default 34.5 GB/s, bench/stream.c's figure on
 * the development machine). Bytes = input + output + weights, once each.
 * CD_PER_CPU=1 divides by CPU seconds instead (roof per core: half of
 * both); CD_ONLY_LAYER=<substring> runs the matching layers only,
 * CD_ONLY_VARIANT=<name> that variant only. Prints;
 * never judges. */
#include "micro.h"

#include "engine/cl_backend.h"
#include "engine/ops_cl_conv.h"

#include <stdlib.h>

struct layer {
    const char *what;
    int c, hw, k, s;
};

static const struct layer layers[] = {
    { "mbv2 3x3 32 112", 32, 112, 3, 1 },
    { "mbv2 3x3 s2 96 112", 96, 112, 3, 2 },
    { "mbv2 3x3 144 56", 144, 56, 3, 1 },
    { "mbv2 3x3 s2 144 56", 144, 56, 3, 2 },
    { "mbv2 3x3 192 28", 192, 28, 3, 1 },
    { "mbv2 3x3 384 14", 384, 14, 3, 1 },
    { "mbv2 3x3 s2 576 14", 576, 14, 3, 2 },
    { "mbv2 3x3 960 7", 960, 7, 3, 1 },
    { "5x5 128 28", 128, 28, 5, 1 },
    { "cnxt 7x7 96 56", 96, 56, 7, 1 },
    { "cnxt 7x7 192 28", 192, 28, 7, 1 },
    { "cnxt 7x7 384 14", 384, 14, 7, 1 },
    { "cnxt 7x7 768 7", 768, 7, 7, 1 },
    { "lk 13x13 128 56", 128, 56, 13, 1 },
    { "lk 31x31 128 28", 128, 28, 31, 1 },
};

static void dw_case(struct cd_harness_case *hc, const struct layer *l,
                    int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_CONV;
    cd_attrs_default(&hc->a, CD_OP_CONV);
    hc->a.nsp = 2;
    hc->a.groups = l->c;
    for (int i = 0; i < 2; i++) {
        hc->a.stride[i] = l->s;
        hc->a.pad_begin[i] = hc->a.pad_end[i] = l->k / 2;
    }
    hc->a.act = CD_ACT_RELU6;
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, l->c, l->hw, l->hw });
    hc->w[0] = cd_shape_make(4, (int64_t[]){ l->c, 1, l->k, l->k });
    hc->w[1] = cd_shape_make(1, (int64_t[]){ l->c });
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 8;
    const char *bw_s = getenv("CD_BW_GBS");
    double bw = bw_s ? atof(bw_s) : 34.5, peak = 548.0;
    if (batch < 1 || batch > 64 || bw <= 0) {
        fprintf(stderr, "usage: bench_dw [batch 1..64] (CD_BW_GBS > 0)\n");
        return 2;
    }
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_dw: no OpenCL device\n");
        return 1;
    }
    struct cd_cl_backend *be = cd_harness_cl()->impl;
    /* CD_PER_CPU=1: FLOPs per CPU second of the process (per busy core,
     * steadier on a shared machine; the roof is then per core too) */
    bool per_cpu = getenv("CD_PER_CPU") && !strcmp(getenv("CD_PER_CPU"), "1");
    const char *only = getenv("CD_ONLY_LAYER"); /* substring of a name */
    const char *only_v = getenv("CD_ONLY_VARIANT"); /* e.g. for perf */
    const char *reps_s = getenv("CD_REPS");
    int reps = reps_s ? atoi(reps_s) : 15;
    if (reps < 1 || reps > 1000)
        reps = 15;
    if (per_cpu) {
        bw /= 2;
        peak /= 2;
    }
    printf("# depthwise, batch %d, GFLOP/s (%% of roof) per variant, %s, "
           "bandwidth %.1f GB/s\n%-20s %8s", batch,
           per_cpu ? "per CPU second" : "best run", bw, "layer", "roof");
    for (int v = CD_DW_GENERIC; v < CD_DW_VARIANT_COUNT; v++)
        printf(" %15s", cd_dw_variant_name(v));
    printf("\n");
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const struct layer *l = &layers[i];
        if (only && !strstr(l->what, only))
            continue;
        int p = l->k / 2, o = (l->hw + 2 * p - l->k) / l->s + 1;
        struct cd_cl_conv_geo g = { .cin = l->c, .cout = l->c,
                                    .groups = l->c, .nsp = 2,
                                    .in = { 1, l->hw, l->hw },
                                    .out = { 1, o, o },
                                    .k = { 1, l->k, l->k },
                                    .s = { 1, l->s, l->s },
                                    .d = { 1, 1, 1 }, .p = { 0, p, p } };
        double fl = 2.0 * batch * l->c * (double)o * o * l->k * l->k;
        double bytes = 4.0 * ((double)batch * l->c *
                              ((double)l->hw * l->hw + (double)o * o) +
                              (double)l->c * (l->k * l->k + 1));
        double roof = fl / bytes * bw < peak ? fl / bytes * bw : peak;
        struct cd_harness_case hc;
        dw_case(&hc, l, batch);
        printf("%-20s %8.1f", l->what, roof);
        for (int v = CD_DW_GENERIC; v < CD_DW_VARIANT_COUNT; v++) {
            if (!cd_cl_conv_dw_variant_ok(be, &g, v) ||
                (only_v && strcmp(only_v, cd_dw_variant_name(v)))) {
                printf(" %15s", "-");
                continue;
            }
            cd_cl_conv_dw_force(be, v);
            double t = cd_micro_time(&hc, reps);
            cd_cl_conv_dw_force(be, CD_DW_AUTO);
            if (t <= 0)
                return 1;
            double gf = fl / (per_cpu ? cd_micro_cpu_per_run_s
                                      : cd_micro_best_s) * 1e-9;
            printf(" %7.1f (%3.0f%%)", gf, 100.0 * gf / roof);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
