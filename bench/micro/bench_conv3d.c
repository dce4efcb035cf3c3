/* bench_conv3d.c — GFLOP/s of pseudo-3-D convs ((1,3,3) spatial and (3,1,1)
 * temporal, P3D sizes) on the OpenCL device, with the fast paths of
 * kernels/conv3d.cl and, for comparison, with them switched off (the
 * generic cd_conv_direct kernel). FLOPs = 2 * Cin/groups * Cout * prod(k) *
 * output positions * batch. */
#include "engine/ops_cl_conv3d.h"
#include "micro.h"

struct b3 {
    const char *what;
    int c, t, h, w, kt, kh, batch;
};

int main(void)
{
    static const struct b3 cases[] = {
        { "S (1,3,3) 64ch 8x56x56", 64, 8, 56, 56, 1, 3, 1 },
        { "T (3,1,1) 64ch 8x56x56", 64, 8, 56, 56, 3, 1, 1 },
        { "S (1,3,3) 128ch 8x28x28", 128, 8, 28, 28, 1, 3, 2 },
        { "T (3,1,1) 128ch 8x28x28", 128, 8, 28, 28, 3, 1, 2 },
        { "S (1,3,3) 256ch 4x14x14", 256, 4, 14, 14, 1, 3, 2 },
        { "T (3,1,1) 256ch 4x7x7", 256, 4, 7, 7, 3, 1, 4 },
    };
    int fail = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct b3 *c = &cases[i];
        struct cd_harness_case hc;
        memset(&hc, 0, sizeof hc);
        hc.op = CD_OP_CONV;
        cd_attrs_default(&hc.a, hc.op);
        hc.a.nsp = 3;
        hc.n_in = 1;
        hc.batch = c->batch;
        hc.in[0] = (struct cd_shape){ 5, { 1, c->c, c->t, c->h, c->w } };
        hc.w[0] = (struct cd_shape){ 5, { c->c, c->c, c->kt, c->kh, c->kh } };
        hc.w[1] = (struct cd_shape){ 1, { c->c } };
        hc.a.pad_begin[0] = hc.a.pad_end[0] = c->kt / 2;
        hc.a.pad_begin[1] = hc.a.pad_end[1] = c->kh / 2;
        hc.a.pad_begin[2] = hc.a.pad_end[2] = c->kh / 2;
        double flops = 2.0 * c->c * c->c * c->kt * c->kh * c->kh * c->t *
                       c->h * c->w * c->batch;
        double t[2];
        for (int fast = 1; fast >= 0; fast--) {
            cd_cl_conv3d_enabled = fast;
            t[fast] = cd_micro_time(&hc, fast ? 10 : 3);
        }
        cd_cl_conv3d_enabled = true;
        if (t[0] <= 0 || t[1] <= 0) {
            fail = 1;
            continue;
        }
        printf("%-26s batch %d: generic %8.2f GFLOP/s  fast %8.2f GFLOP/s "
               "(x%.1f)\n", c->what, c->batch, flops / t[0] * 1e-9,
               flops / t[1] * 1e-9, t[0] / t[1]);
    }
    return fail;
}
