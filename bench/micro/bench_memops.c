/* bench_memops.c — GB/s of the memory-bound "other" ops on the OpenCL
 * device at the shapes of resnet18, densenet121 and convnext_tiny (batch
 * 8): max/avg pooling, global average pooling, permute (NCHW <-> NHWC),
 * layernorm over channels or the last dim, and add/mul (same shape, and
 * convnext's (C, 1, 1) layer scale). Bytes = input read once + output
 * written once (what a single pass must move); median and best of 25
 * runs, and CPU time per run (steadier on a shared machine). Optional argument: only the cases whose name contains it. Prints
 * one line per case; never judges: compare two builds side by side. */
#include "micro.h"

static void pool_case(struct cd_harness_case *hc, enum cd_op op, int c,
                      int h, int w, int k, int s, int p, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = op;
    cd_attrs_default(&hc->a, op);
    hc->a.nsp = 2;
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, c, h, w });
    for (int i = 0; i < 2; i++) {
        hc->a.kernel[i] = k;
        hc->a.stride[i] = s;
        hc->a.dilation[i] = 1;
        hc->a.pad_begin[i] = p;
        hc->a.pad_end[i] = p;
    }
}

static void global_case(struct cd_harness_case *hc, int c, int h, int w,
                        int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_GLOBAL_AVGPOOL;
    cd_attrs_default(&hc->a, hc->op);
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, (int64_t[]){ 1, c, h, w });
}

static void permute_case(struct cd_harness_case *hc, const int64_t *dims,
                         const int *perm, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_PERMUTE;
    cd_attrs_default(&hc->a, hc->op);
    hc->a.n_perm = 4;
    for (int i = 0; i < 4; i++)
        hc->a.perm[i] = perm[i];
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, dims);
}

static void layernorm_case(struct cd_harness_case *hc, const int64_t *dims,
                           int axis, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = CD_OP_LAYERNORM;
    cd_attrs_default(&hc->a, hc->op);
    hc->a.axis = axis;
    hc->a.eps = 1e-6f;
    hc->n_in = 1;
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, dims);
    int64_t c = dims[axis < 0 ? 3 : axis];
    hc->w[0] = cd_shape_make(1, &c);
    hc->w[1] = cd_shape_make(1, &c);
}

static const char *only;

/* a (op) b: b the same shape as a (two inputs) or a (C, 1, 1) weight. */
static void binary_case(struct cd_harness_case *hc, enum cd_op op,
                        const int64_t *dims, int per_channel, int batch)
{
    memset(hc, 0, sizeof *hc);
    hc->op = op;
    cd_attrs_default(&hc->a, op);
    hc->batch = batch;
    hc->in[0] = cd_shape_make(4, dims);
    if (per_channel) {
        hc->n_in = 1;
        hc->w[0] = cd_shape_make(3, (int64_t[]){ dims[1], 1, 1 });
    } else {
        hc->n_in = 2;
        hc->in[1] = hc->in[0];
    }
}

static int report(const char *what, const struct cd_harness_case *hc,
                  double out_floats)
{
    if (only && !strstr(what, only))
        return 0;
    double t = cd_micro_time(hc, 25);
    if (t <= 0)
        return 1;
    double bytes = 4.0 * ((double)cd_shape_numel(&hc->in[0]) * hc->batch *
                              hc->n_in + out_floats);
    printf("%-34s median %7.3f ms %6.2f GB/s  best %7.3f ms %6.2f GB/s  "
           "cpu %7.3f ms\n", what, t * 1e3, bytes / t * 1e-9,
           cd_micro_best_s * 1e3, bytes / cd_micro_best_s * 1e-9,
           cd_micro_cpu_per_run_s * 1e3);
    return 0;
}

int main(int argc, char **argv)
{
    only = argc > 1 ? argv[1] : NULL;
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_memops: no OpenCL device\n");
        return 1;
    }
    const int b = 8;
    struct cd_harness_case hc;
    int rc = 0;
    pool_case(&hc, CD_OP_MAXPOOL, 64, 112, 112, 3, 2, 1, b);
    rc |= report("maxpool 3x3/s2/p1 64x112x112", &hc, 64.0 * 56 * 56 * b);
    pool_case(&hc, CD_OP_AVGPOOL, 128, 56, 56, 2, 2, 0, b);
    rc |= report("avgpool 2x2/s2 128x56x56", &hc, 128.0 * 28 * 28 * b);
    pool_case(&hc, CD_OP_AVGPOOL, 256, 28, 28, 2, 2, 0, b);
    rc |= report("avgpool 2x2/s2 256x28x28", &hc, 256.0 * 14 * 14 * b);
    pool_case(&hc, CD_OP_AVGPOOL, 64, 56, 56, 3, 1, 1, b);
    rc |= report("avgpool 3x3/s1/p1 64x56x56", &hc, 64.0 * 56 * 56 * b);
    pool_case(&hc, CD_OP_MAXPOOL, 64, 56, 56, 2, 2, 0, b);
    rc |= report("maxpool 2x2/s2 64x56x56", &hc, 64.0 * 28 * 28 * b);
    global_case(&hc, 1024, 7, 7, b);
    rc |= report("global_avgpool 1024x7x7", &hc, 1024.0 * b);
    global_case(&hc, 768, 7, 7, b);
    rc |= report("global_avgpool 768x7x7", &hc, 768.0 * b);
    global_case(&hc, 64, 56, 56, b);
    rc |= report("global_avgpool 64x56x56", &hc, 64.0 * b);
    static const int to_nhwc[4] = { 0, 2, 3, 1 }, to_nchw[4] = { 0, 3, 1, 2 };
    permute_case(&hc, (int64_t[]){ 1, 96, 56, 56 }, to_nhwc, b);
    rc |= report("permute NCHW->NHWC 96x56x56", &hc, 96.0 * 56 * 56 * b);
    permute_case(&hc, (int64_t[]){ 1, 56, 56, 96 }, to_nchw, b);
    rc |= report("permute NHWC->NCHW 56x56x96", &hc, 96.0 * 56 * 56 * b);
    permute_case(&hc, (int64_t[]){ 1, 384, 14, 14 }, to_nhwc, b);
    rc |= report("permute NCHW->NHWC 384x14x14", &hc, 384.0 * 14 * 14 * b);
    permute_case(&hc, (int64_t[]){ 1, 7, 7, 768 }, to_nchw, b);
    rc |= report("permute NHWC->NCHW 7x7x768", &hc, 768.0 * 7 * 7 * b);
    layernorm_case(&hc, (int64_t[]){ 1, 96, 56, 56 }, 1, b);
    rc |= report("layernorm channels 96x56x56", &hc, 96.0 * 56 * 56 * b);
    layernorm_case(&hc, (int64_t[]){ 1, 56, 56, 96 }, -1, b);
    rc |= report("layernorm last dim 56x56x96", &hc, 96.0 * 56 * 56 * b);
    layernorm_case(&hc, (int64_t[]){ 1, 7, 7, 768 }, -1, b);
    rc |= report("layernorm last dim 7x7x768", &hc, 768.0 * 7 * 7 * b);
    binary_case(&hc, CD_OP_ADD, (int64_t[]){ 1, 96, 56, 56 }, 0, b);
    rc |= report("add same shape 96x56x56", &hc, 96.0 * 56 * 56 * b);
    binary_case(&hc, CD_OP_MUL, (int64_t[]){ 1, 96, 56, 56 }, 1, b);
    rc |= report("mul (C,1,1) 96x56x56", &hc, 96.0 * 56 * 56 * b);
    binary_case(&hc, CD_OP_MUL, (int64_t[]){ 1, 384, 14, 14 }, 1, b);
    rc |= report("mul (C,1,1) 384x14x14", &hc, 384.0 * 14 * 14 * b);
    binary_case(&hc, CD_OP_MUL, (int64_t[]){ 1, 768, 7, 7 }, 1, b);
    rc |= report("mul (C,1,1) 768x7x7", &hc, 768.0 * 7 * 7 * b);
    return rc;
}
