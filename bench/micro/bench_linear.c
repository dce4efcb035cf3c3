/* bench_linear.c — GFLOP/s of the linear layers of convnext_tiny (the two
 * MLP layers of each stage, GELU fused into the first, as the converted
 * model runs them) and of classifier heads, on the OpenCL device: first
 * under the default per-shape choice, then every kernel variant side by
 * side in the same run. Batch 8 unless batches are given as arguments.
 * FLOPs = 2 * MACs. Prints; never judges. */
#include "micro.h"

#include "engine/cl_backend.h"
#include "engine/conv_select.h"

#include <stdlib.h>

struct layer {
    const char *what;
    int hw, k, n, act; /* rows per sample = hw * hw */
};

static const struct layer layers[] = {
    { "56x56 96->384 gelu", 56, 96, 384, CD_ACT_GELU },
    { "56x56 384->96", 56, 384, 96, CD_ACT_NONE },
    { "28x28 192->768 gelu", 28, 192, 768, CD_ACT_GELU },
    { "28x28 768->192", 28, 768, 192, CD_ACT_NONE },
    { "14x14 384->1536 gelu", 14, 384, 1536, CD_ACT_GELU },
    { "14x14 1536->384", 14, 1536, 384, CD_ACT_NONE },
    { "7x7 768->3072 gelu", 7, 768, 3072, CD_ACT_GELU },
    { "7x7 3072->768", 7, 3072, 768, CD_ACT_NONE },
    { "head 768->1000", 1, 768, 1000, CD_ACT_NONE },
    { "head 512->10", 1, 512, 10, CD_ACT_NONE },
};
#define N_LAYERS ((int)(sizeof layers / sizeof layers[0]))

static void linear_case(struct cd_harness_case *hc, const struct layer *l,
                        int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_LINEAR;
    cd_attrs_default(&hc->a, CD_OP_LINEAR);
    /* CD_NO_ACT=1: without the fused activation (its cost alone) */
    bool no_act = getenv("CD_NO_ACT") && !strcmp(getenv("CD_NO_ACT"), "1");
    hc->a.act = no_act ? CD_ACT_NONE : l->act;
    if (l->act != CD_ACT_NONE && getenv("CD_ACT")) /* another activation */
        hc->a.act = atoi(getenv("CD_ACT"));
    hc->n_in = 1;
    hc->batch = batch;
    if (l->hw > 1)
        hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, l->hw, l->hw, l->k });
    else
        hc->in[0] = cd_shape_make(2, (int64_t[]){ 1, l->k });
    hc->w[0] = cd_shape_make(2, (int64_t[]){ l->n, l->k });
    hc->w[1] = cd_shape_make(1, (int64_t[]){ l->n });
}

static int run_batch(int batch, int reps)
{
    struct cd_cl_backend *be = cd_harness_cl()->impl;
    bool per_cpu = getenv("CD_PER_CPU") && !strcmp(getenv("CD_PER_CPU"), "1");
    printf("# linear GFLOP/s (%s), batch %d\n%-22s %8s",
           per_cpu ? "per CPU second" : "best run", batch, "layer",
           "default");
    for (int v = 0; v < CD_LINEAR_VARIANT_COUNT; v++)
        printf(" %8s", cd_linear_variant_name(v));
    printf("\n");
    const char *only = getenv("CD_ONLY_LAYER"); /* substring of `what` */
    /* CD_TILING=j,r: packed variants with j column x r row tiles per
     * work-item instead of the automatic tiling */
    struct cd_cl_linear_tiling tl = { 0, 0 };
    if (getenv("CD_TILING"))
        sscanf(getenv("CD_TILING"), "%d,%d", &tl.jper, &tl.rper);
    for (int i = 0; i < N_LAYERS; i++) {
        const struct layer *l = &layers[i];
        struct cd_harness_case hc;
        if (only && !strstr(l->what, only))
            continue;
        double fl = 2.0 * batch * l->hw * l->hw * (double)l->k * l->n;
        linear_case(&hc, l, batch);
        printf("%-22s", l->what);
        for (int v = -1; v < CD_LINEAR_VARIANT_COUNT; v++) {
            cd_conv_select_force_linear(be, v, &tl);
            double t = cd_micro_time(&hc, reps);
            cd_conv_select_force_linear(be, -1, NULL);
            if (t <= 0)
                return 1;
            printf(" %8.1f", fl * 1e-9 / (per_cpu ? cd_micro_cpu_per_run_s
                                                   : cd_micro_best_s));
            fflush(stdout);
        }
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_linear: no OpenCL device\n");
        return 1;
    }
    int reps = getenv("CD_REPS") ? atoi(getenv("CD_REPS")) : 5;
    if (argc < 2)
        return run_batch(8, reps);
    for (int i = 1; i < argc; i++) {
        int b = atoi(argv[i]);
        if (b < 1 || b > 64 || run_batch(b, reps)) {
            fprintf(stderr, "bench_linear: bad batch %s\n", argv[i]);
            return 1;
        }
    }
    return 0;
}
