/* bench_wavelet.c — GB/s of haar_dwt and haar_idwt (kernels/wavelet.cl) on
 * the OpenCL device for WaveMix-sized feature maps; bytes = input + output
 * floats x 4. Prints one line per case; exits non-zero on any error. */
#include "micro.h"

static struct cd_harness_case haar(enum cd_op op, int c, int h, int w, int b)
{
    struct cd_harness_case hc;
    memset(&hc, 0, sizeof hc);
    hc.op = op;
    cd_attrs_default(&hc.a, op);
    hc.n_in = 1;
    hc.in[0] = (struct cd_shape){ 4, { 1, c, h, w } };
    hc.batch = b;
    return hc;
}

int main(void)
{
    static const int sz[][4] = { { 64, 112, 112, 4 }, { 128, 56, 56, 8 },
                                 { 256, 28, 28, 8 }, { 16, 18, 22, 2 } };
    int fail = 0;
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
        for (int inv = 0; inv < 2; inv++) {
            int c = sz[i][0], h = sz[i][1], w = sz[i][2], b = sz[i][3];
            struct cd_harness_case hc = inv
                ? haar(CD_OP_HAAR_IDWT, 4 * c, h / 2, w / 2, b)
                : haar(CD_OP_HAAR_DWT, c, h, w, b);
            double t = cd_micro_time(&hc, 20);
            if (t <= 0) {
                fail = 1;
                continue;
            }
            double bytes = 2.0 * 4.0 * c * h * w * b;
            printf("%-9s C=%-4d %4dx%-4d batch %d: %8.3f ms  %6.2f GB/s\n",
                   inv ? "haar_idwt" : "haar_dwt", c, h, w, b, t * 1e3,
                   bytes / t * 1e-9);
        }
    }
    return fail;
}
