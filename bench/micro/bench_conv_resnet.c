/* bench_conv_resnet.c — GFLOP/s of every distinct convolution of resnet18 at
 * 224x224 (plus a few pointwise/narrow layers of mobilenet_v2, convnext_tiny
 * and densenet121) on the OpenCL device, at batch 1 and 8 (or the batches given as
 * arguments), with each layer's share of the summed conv time (layers
 * weighted by how often they occur) under the default (heuristic) kernel
 * choice, then the GFLOP/s of every kernel variant that fits each layer,
 * side by side in the same run. FLOPs = 2 * MACs. Prints; never judges. */
#include "micro.h"

#include "engine/cl_backend.h"
#include "engine/conv_select.h"

#include <stdlib.h>

struct layer {
    const char *what;
    int cin, cout, hw, k, s, count;
};

static const struct layer layers[] = {
    { "stem 7x7 s2 3->64", 3, 64, 224, 7, 2, 1 },
    { "3x3 64->64 56", 64, 64, 56, 3, 1, 4 },
    { "3x3 s2 64->128 56", 64, 128, 56, 3, 2, 1 },
    { "1x1 s2 64->128 56", 64, 128, 56, 1, 2, 1 },
    { "3x3 128->128 28", 128, 128, 28, 3, 1, 3 },
    { "3x3 s2 128->256 28", 128, 256, 28, 3, 2, 1 },
    { "1x1 s2 128->256 28", 128, 256, 28, 1, 2, 1 },
    { "3x3 256->256 14", 256, 256, 14, 3, 1, 3 },
    { "3x3 s2 256->512 14", 256, 512, 14, 3, 2, 1 },
    { "1x1 s2 256->512 14", 256, 512, 14, 1, 2, 1 },
    { "3x3 512->512 7", 512, 512, 7, 3, 1, 3 },
    /* not in resnet18 (count 0): pointwise and narrow layers of
     * mobilenet_v2, convnext_tiny and densenet121 */
    { "1x1 96->384 56", 96, 384, 56, 1, 1, 0 },
    { "1x1 384->96 56", 384, 96, 56, 1, 1, 0 },
    { "1x1 16->96 112", 16, 96, 112, 1, 1, 0 },
    { "1x1 144->24 56", 144, 24, 56, 1, 1, 0 },
    { "1x1 320->1280 7", 320, 1280, 7, 1, 1, 0 },
    { "1x1 256->128 28", 256, 128, 28, 1, 1, 0 },
    { "3x3 128->32 28", 128, 32, 28, 3, 1, 0 },
    { "2x2 s2 96->192 56", 96, 192, 56, 2, 2, 0 },
    { "2x2 s2 384->768 14", 384, 768, 14, 2, 2, 0 },
};
#define N_LAYERS ((int)(sizeof layers / sizeof layers[0]))

static void conv_case(struct cd_harness_case *hc, const struct layer *l,
                      int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_CONV;
    cd_attrs_default(&hc->a, CD_OP_CONV);
    hc->a.nsp = 2;
    hc->a.groups = 1;
    hc->a.act = CD_ACT_RELU;
    for (int i = 0; i < 2; i++) {
        hc->a.stride[i] = l->s;
        hc->a.pad_begin[i] = hc->a.pad_end[i] = l->k % 2 ? l->k / 2 : 0;
    }
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, l->cin, l->hw, l->hw });
    hc->w[0] = cd_shape_make(4, (int64_t[]){ l->cout, l->cin, l->k, l->k });
    hc->w[1] = cd_shape_make(1, (int64_t[]){ l->cout });
}

static int run_batch(int batch, int reps)
{
    double t[N_LAYERS], fl[N_LAYERS], total = 0, total_fl = 0;
    for (int i = 0; i < N_LAYERS; i++) {
        const struct layer *l = &layers[i];
        struct cd_harness_case hc;
        conv_case(&hc, l, batch);
        t[i] = cd_micro_time(&hc, reps);
        if (t[i] <= 0)
            return 1;
        int o = (l->hw + 2 * (l->k % 2 ? l->k / 2 : 0) - l->k) / l->s + 1;
        fl[i] = 2.0 * batch * l->cout * (double)o * o * l->cin * l->k * l->k;
        total += t[i] * l->count;
        total_fl += fl[i] * l->count;
    }
    printf("# resnet18 convs, batch %d\n", batch);
    for (int i = 0; i < N_LAYERS; i++)
        if (layers[i].count)
            printf("%-22s x%d %8.3f ms %7.1f GFLOP/s %5.1f%%\n", layers[i].what,
               layers[i].count, t[i] * 1e3, fl[i] / t[i] * 1e-9,
               100.0 * t[i] * layers[i].count / total);
    printf("all convs: %.2f ms per batch, %.2f ms per image, %.1f GFLOP/s\n",
           total * 1e3, total * 1e3 / batch, total_fl / total * 1e-9);
    if (getenv("CD_VARIANTS") && !strcmp(getenv("CD_VARIANTS"), "0"))
        return 0;
    struct cd_cl_backend *be = cd_harness_cl()->impl;
    /* CD_PER_CPU=1: FLOPs per CPU second of the process (per busy core),
     * steadier on a shared machine; else per wall second of the best run */
    bool per_cpu = getenv("CD_PER_CPU") && !strcmp(getenv("CD_PER_CPU"), "1");
    printf("# GFLOP/s per variant (%s), batch %d\n%-22s",
           per_cpu ? "per CPU second" : "best run", batch, "layer");
    for (int v = 0; v < CD_CONV_VARIANT_COUNT; v++)
        printf(" %8s", cd_conv_variant_name(v));
    printf("\n");
    const char *only = getenv("CD_ONLY_VARIANT"); /* for perf stat */
    for (int i = 0; i < N_LAYERS; i++) {
        struct cd_harness_case hc;
        conv_case(&hc, &layers[i], batch);
        printf("%-22s", layers[i].what);
        for (int v = 0; v < CD_CONV_VARIANT_COUNT; v++) {
            struct cd_cl_conv_geo g = { .cin = layers[i].cin,
                                        .cout = layers[i].cout, .groups = 1,
                                        .nsp = 2,
                                        .k = { 1, layers[i].k, layers[i].k },
                                        .s = { 1, layers[i].s, layers[i].s },
                                        .d = { 1, 1, 1 },
                                        .p = { 0, layers[i].k % 2 ?
                                               layers[i].k / 2 : 0,
                                               layers[i].k % 2 ?
                                               layers[i].k / 2 : 0 } };
            if (!cd_cl_conv_variant_ok(&g, v) ||
                (only && strcmp(only, cd_conv_variant_name(v)))) {
                printf(" %8s", "-");
                continue;
            }
            cd_conv_select_force(be, v);
            double tv = cd_micro_time(&hc, reps);
            cd_conv_select_force(be, -1);
            if (tv <= 0)
                return 1;
            if (per_cpu)
                printf(" %8.1f", fl[i] / cd_micro_cpu_per_run_s * 1e-9);
            else
                printf(" %8.1f", fl[i] / cd_micro_best_s * 1e-9);
        }
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_conv_resnet: no OpenCL device\n");
        return 1;
    }
    int reps = getenv("CD_REPS") ? atoi(getenv("CD_REPS")) : 7;
    if (argc < 2)
        return run_batch(1, reps) || run_batch(8, reps);
    for (int i = 1; i < argc; i++) {
        int b = atoi(argv[i]);
        if (b < 1 || b > 64 || run_batch(b, reps)) {
            fprintf(stderr, "bench_conv_resnet: bad batch %s\n", argv[i]);
            return 1;
        }
    }
    return 0;
}
