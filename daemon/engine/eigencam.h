/* eigencam.h — Eigen-CAM: a class-agnostic heatmap from the first principal
 * component of one layer's activations (Muhammad & Yeasin, 2020).
 *
 * For one sample, with A the activations (C, h, w) of the chosen layer:
 *   1. X = A viewed as (hw x C); centre each channel: Xc[p,c] = X[p,c] - m[c]
 *      with m[c] the mean of channel c over the hw positions;
 *   2. G = Xc^T Xc (C x C), computed on the device through the backend's
 *      `gram` hook (backend.h) when it has one, on the host otherwise;
 *   3. v = first eigenvector of G by power iteration on the host, in double:
 *      start v0[i] = 1 + 0.1 (i+1)/C, normalised; v <- G v / |G v| until
 *      |v_new - v_old| < CD_EIGENCAM_TOL or CD_EIGENCAM_MAX_ITERS iterations;
 *   4. p = Xc v (hw);
 *   5. sign: an eigenvector is defined up to sign, so p is negated when
 *      sum_p p[p] * a[p] < 0, a[p] = mean over channels of A[:, p] (the map
 *      then correlates positively with the layer's average activation, which
 *      after a ReLU is where the network "sees" something); since the
 *      columns of Xc sum to zero this is sign(v . 1): the component is
 *      oriented to add the channels up rather than subtract them. On an
 *      exact tie the entry of largest |p| is made positive;
 *   6. ReLU, then min-max normalisation to [0, 1]; a constant map (including
 *      G = 0: every channel constant, C = 1 with a constant plane, hw = 1)
 *      gives all zeros;
 *   7. optionally bilinear upsampling to the input size (PyTorch
 *      F.interpolate(mode="bilinear", align_corners=False)).
 * The layer must be (C, H, W) per sample (a (C, L) layer is taken as h = 1). */
#ifndef CD_EIGENCAM_H
#define CD_EIGENCAM_H

#include "err.h"
#include "runner.h"

#define CD_EIGENCAM_MAX_ITERS 1000
#define CD_EIGENCAM_TOL 1e-7
#define CD_EIGENCAM_MAX_C 4096 /* the Gram matrix is C*C floats */

struct cd_eigencam_info {
    int iters;        /* power iterations run */
    int converged;    /* 1 if the tolerance was reached */
    int flipped;      /* 1 if the sign convention negated the projection */
    int degenerate;   /* 1 if the map is all zeros by rule 6 */
    double eigenvalue;/* Rayleigh quotient v^T G v */
    int peak_y, peak_x; /* first maximum of the h x w map (row-major) */
};

/* Steps 3-6 from a precomputed Gram matrix: A (C, hw) the raw activations,
 * gram (C, C) of the centred rows. Writes map (hw floats). info may be NULL. */
int cd_eigencam_from_gram(const float *A, int C, int hw, const float *gram,
                          float *map, struct cd_eigencam_info *info,
                          struct cd_err *err);

/* Pure host Eigen-CAM of A (C, h, w): steps 1-6, Gram in double. Writes map
 * (h*w floats, borrowed). info may be NULL. */
int cd_eigencam_from_activations(const float *A, int C, int h, int w,
                                 float *map, struct cd_eigencam_info *info,
                                 struct cd_err *err);

/* Shape of a readable layer of r as (C, h, w). */
int cd_eigencam_layer_shape(const struct cd_runner *r, const char *layer,
                            int *C, int *h, int *w, struct cd_err *err);

/* Eigen-CAM of sample `sample` (< batch, the batch of the last
 * cd_runner_run) at `layer` (must be kept: the model's cam_layer, an output,
 * or a value marked keep before cd_passes_run). Gram on the device when the
 * backend offers the hook. map has room for map_cap floats; *h, *w receive
 * the map size. info may be NULL. */
int cd_eigencam_compute(struct cd_runner *r, const char *layer, int sample,
                        int batch, float *map, size_t map_cap, int *h, int *w,
                        struct cd_eigencam_info *info, struct cd_err *err);

/* Bilinear resize of map (h, w) to out (H, W), align_corners=False. */
int cd_eigencam_upsample(const float *map, int h, int w, float *out, int H,
                         int W, struct cd_err *err);

/* First maximum of map (h, w), row-major. */
void cd_eigencam_peak(const float *map, int h, int w, int *py, int *px);

#endif
