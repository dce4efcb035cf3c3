/* eigencam.c — Eigen-CAM (algorithm in eigencam.h): the host half (power
 * iteration, projection, sign, ReLU, normalisation, upsampling) and the glue
 * that asks the backend for the Gram matrix of a kept layer. It never runs
 * the model, never touches OpenCL directly and never aborts on bad input. */
#include "eigencam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEGENERATE_REL 1e-12 /* eigenvalue / sum(A^2) below this: no signal */

static int check_dims(int C, int hw, struct cd_err *err)
{
    size_t n;
    if (C < 1 || C > CD_EIGENCAM_MAX_C || hw < 1 ||
        !cd_size_mul((size_t)C, (size_t)hw, &n) || n > ((size_t)1 << 31))
        return cd_err_set(err, CD_EINVAL, "eigencam: bad layer size C=%d "
                          "hw=%d (C at most %d)", C, hw, CD_EIGENCAM_MAX_C);
    return CD_OK;
}

/* v <- first eigenvector of the symmetric PSD G (C, C) by power iteration. */
static void power_iterate(const float *G, int C, double *v, double *tmp,
                          struct cd_eigencam_info *info)
{
    double nrm = 0.0;
    for (int i = 0; i < C; i++) {
        v[i] = 1.0 + 0.1 * (i + 1) / C;
        nrm += v[i] * v[i];
    }
    for (int i = 0; i < C; i++)
        v[i] /= sqrt(nrm);
    info->iters = 0;
    info->converged = 0;
    for (int it = 0; it < CD_EIGENCAM_MAX_ITERS; it++) {
        nrm = 0.0;
        for (int i = 0; i < C; i++) {
            const float *g = G + (size_t)i * C;
            double s = 0.0;
            for (int j = 0; j < C; j++)
                s += g[j] * v[j];
            tmp[i] = s;
            nrm += s * s;
        }
        info->iters = it + 1;
        if (!(nrm > 0.0) || !isfinite(nrm))
            return; /* G v = 0: G is zero on v; the caller sees eigenvalue 0 */
        nrm = sqrt(nrm);
        double d = 0.0;
        for (int i = 0; i < C; i++) {
            double x = tmp[i] / nrm;
            d += (x - v[i]) * (x - v[i]);
            v[i] = x;
        }
        if (sqrt(d) < CD_EIGENCAM_TOL) {
            info->converged = 1;
            return;
        }
    }
}

void cd_eigencam_peak(const float *map, int h, int w, int *py, int *px)
{
    size_t best = 0, n = (size_t)(h > 0 ? h : 0) * (size_t)(w > 0 ? w : 0);
    for (size_t k = 1; k < n; k++)
        if (map[k] > map[best])
            best = k;
    *py = w > 0 ? (int)(best / (size_t)w) : 0;
    *px = w > 0 ? (int)(best % (size_t)w) : 0;
}

int cd_eigencam_from_gram(const float *A, int C, int hw, const float *gram,
                          float *map, struct cd_eigencam_info *info,
                          struct cd_err *err)
{
    struct cd_eigencam_info dummy;
    if (!info)
        info = &dummy;
    memset(info, 0, sizeof *info);
    if (!A || !gram || !map)
        return cd_err_set(err, CD_EINVAL, "eigencam: NULL buffer");
    int rc = check_dims(C, hw, err);
    if (rc)
        return rc;
    /* v, tmp (C); m channel means (C); p projection, a position means (hw) */
    double *buf = malloc(((size_t)3 * C + (size_t)2 * hw) * sizeof *buf);
    if (!buf)
        return cd_err_set(err, CD_ENOMEM, "eigencam: out of memory");
    double *v = buf, *tmp = v + C, *m = tmp + C, *p = m + C, *a = p + hw;
    double sumsq = 0.0;
    for (int p_ = 0; p_ < hw; p_++)
        a[p_] = 0.0;
    for (int c = 0; c < C; c++) {
        const float *row = A + (size_t)c * hw; /* A is (C, hw) */
        double s = 0.0;
        for (int q = 0; q < hw; q++) {
            s += row[q];
            a[q] += row[q];
            sumsq += (double)row[q] * row[q];
        }
        m[c] = s / hw;
    }
    power_iterate(gram, C, v, tmp, info);
    double lam = 0.0;
    for (int i = 0; i < C; i++) {
        double s = 0.0;
        for (int j = 0; j < C; j++)
            s += gram[(size_t)i * C + j] * v[j];
        lam += v[i] * s;
    }
    info->eigenvalue = lam;
    if (!(lam > DEGENERATE_REL * sumsq) || !isfinite(lam)) {
        info->degenerate = 1;
        memset(map, 0, (size_t)hw * sizeof *map);
        free(buf);
        return CD_OK;
    }
    double corr = 0.0, amax = 0.0;
    int imax = 0;
    for (int q = 0; q < hw; q++) {
        double s = 0.0;
        for (int c = 0; c < C; c++)
            s += (A[(size_t)c * hw + q] - m[c]) * v[c];
        p[q] = s;
        corr += s * (a[q] / C);
        if (fabs(s) > amax) {
            amax = fabs(s);
            imax = q;
        }
    }
    info->flipped = corr < 0.0 || (corr == 0.0 && p[imax] < 0.0);
    double lo = INFINITY, hi = -INFINITY;
    for (int q = 0; q < hw; q++) {
        double x = info->flipped ? -p[q] : p[q];
        p[q] = x > 0.0 ? x : 0.0;
        lo = fmin(lo, p[q]);
        hi = fmax(hi, p[q]);
    }
    double range = hi - lo;
    if (!(range > 1e-12 * (amax > 0.0 ? amax : 1.0))) {
        info->degenerate = 1;
        memset(map, 0, (size_t)hw * sizeof *map);
    } else {
        for (int q = 0; q < hw; q++)
            map[q] = (float)((p[q] - lo) / range);
    }
    free(buf);
    return CD_OK;
}

int cd_eigencam_from_activations(const float *A, int C, int h, int w,
                                 float *map, struct cd_eigencam_info *info,
                                 struct cd_err *err)
{
    if (!A || !map)
        return cd_err_set(err, CD_EINVAL, "eigencam: NULL buffer");
    if (h < 1 || w < 1 || w > INT32_MAX / h)
        return cd_err_set(err, CD_EINVAL, "eigencam: bad map size %dx%d", h, w);
    int hw = h * w, rc = check_dims(C, hw, err);
    if (rc)
        return rc;
    float *G = malloc((size_t)C * (size_t)C * sizeof *G);
    double *m = malloc((size_t)C * sizeof *m);
    if (!G || !m) {
        rc = cd_err_set(err, CD_ENOMEM, "eigencam: out of memory");
        goto fail;
    }
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int q = 0; q < hw; q++)
            s += A[(size_t)c * hw + q];
        m[c] = s / hw;
    }
    for (int i = 0; i < C; i++)
        for (int j = i; j < C; j++) {
            const float *xi = A + (size_t)i * hw, *xj = A + (size_t)j * hw;
            double s = 0.0;
            for (int q = 0; q < hw; q++)
                s += (xi[q] - m[i]) * (xj[q] - m[j]);
            G[(size_t)i * C + j] = G[(size_t)j * C + i] = (float)s;
        }
    rc = cd_eigencam_from_gram(A, C, hw, G, map, info, err);
    if (rc == CD_OK && info)
        cd_eigencam_peak(map, h, w, &info->peak_y, &info->peak_x);
fail:
    free(G);
    free(m);
    return rc;
}

int cd_eigencam_layer_shape(const struct cd_runner *r, const char *layer,
                            int *C, int *h, int *w, struct cd_err *err)
{
    struct cd_tref t;
    int rc = cd_runner_value_ref(r, layer, &t, err);
    if (rc)
        return rc;
    const struct cd_shape *s = &t.shape;
    char b[96];
    if ((s->ndim != 3 && s->ndim != 4) || s->dim[0] != 1 || s->dim[1] < 1 ||
        s->dim[1] > CD_EIGENCAM_MAX_C || s->dim[2] < 1 || s->dim[2] > 65536 ||
        (s->ndim == 4 && (s->dim[3] < 1 || s->dim[3] > 65536)))
        return cd_err_set(err, CD_EINVAL, "layer \"%s\" of shape %s is not "
                          "(C, H, W) or (C, L) with C <= %d", layer,
                          cd_shape_str(s, b, sizeof b), CD_EIGENCAM_MAX_C);
    *C = (int)s->dim[1];
    *h = s->ndim == 4 ? (int)s->dim[2] : 1;
    *w = s->ndim == 4 ? (int)s->dim[3] : (int)s->dim[2];
    return CD_OK;
}

int cd_eigencam_compute(struct cd_runner *r, const char *layer, int sample,
                        int batch, float *map, size_t map_cap, int *h, int *w,
                        struct cd_eigencam_info *info, struct cd_err *err)
{
    int C, hh, ww, rc;
    struct cd_tref t;
    if (!r || !map || !h || !w)
        return cd_err_set(err, CD_EINVAL, "eigencam: NULL argument");
    if (batch < 1 || batch > cd_runner_max_batch(r) || sample < 0 ||
        sample >= batch)
        return cd_err_set(err, CD_ERANGE, "eigencam: sample %d outside batch "
                          "%d", sample, batch);
    if ((rc = cd_eigencam_layer_shape(r, layer, &C, &hh, &ww, err)) ||
        (rc = cd_runner_value_ref(r, layer, &t, err)))
        return rc;
    size_t hw = (size_t)hh * (size_t)ww, n = (size_t)C * hw;
    if (hw > map_cap || (rc = check_dims(C, (int)(hw < INT32_MAX ? hw : 0), err)))
        return rc ? rc : cd_err_set(err, CD_ERANGE, "eigencam: map of %zu "
                                    "floats exceeds room for %zu", hw, map_cap);
    struct cd_backend *be = cd_runner_backend(r);
    size_t off = t.off + (size_t)sample * n;
    float *A = malloc(n * sizeof *A), *G = NULL, *mean = NULL;
    if (!A) {
        rc = cd_err_set(err, CD_ENOMEM, "eigencam: out of memory");
        goto fail;
    }
    if ((rc = be->i->read(be, off, A, n, err)))
        goto fail;
    if (!be->i->gram) {
        rc = cd_eigencam_from_activations(A, C, hh, ww, map, info, err);
        goto done;
    }
    G = malloc((size_t)C * (size_t)C * sizeof *G);
    mean = malloc((size_t)C * sizeof *mean);
    if (!G || !mean) {
        rc = cd_err_set(err, CD_ENOMEM, "eigencam: out of memory");
        goto fail;
    }
    if ((rc = be->i->gram(be, off, C, (int)hw, G, mean, err)))
        goto fail;
    rc = cd_eigencam_from_gram(A, C, (int)hw, G, map, info, err);
    if (rc == CD_OK && info)
        cd_eigencam_peak(map, hh, ww, &info->peak_y, &info->peak_x);
done:
    if (rc == CD_OK) {
        *h = hh;
        *w = ww;
    }
fail:
    if (rc)
        cd_err_wrap(err, "eigencam at \"%s\"", layer ? layer : "");
    free(A);
    free(G);
    free(mean);
    return rc;
}

/* PyTorch's source index for align_corners=False: half-pixel centres,
 * clamped at 0; i0/i1 the neighbours and f the weight of i1. */
static void src_index(int d, int out_n, int in_n, int *i0, int *i1, float *f)
{
    float scale = (float)in_n / (float)out_n;
    float x = ((float)d + 0.5f) * scale - 0.5f;
    if (x < 0.0f)
        x = 0.0f;
    int k = (int)x;
    if (k > in_n - 1)
        k = in_n - 1;
    *i0 = k;
    *i1 = k < in_n - 1 ? k + 1 : k;
    *f = x - (float)k;
}

int cd_eigencam_upsample(const float *map, int h, int w, float *out, int H,
                         int W, struct cd_err *err)
{
    if (!map || !out || h < 1 || w < 1 || H < 1 || W < 1 || H > 65536 ||
        W > 65536)
        return cd_err_set(err, CD_EINVAL, "upsample: bad sizes %dx%d -> %dx%d",
                          h, w, H, W);
    for (int y = 0; y < H; y++) {
        int y0, y1, x0, x1;
        float fy, fx;
        src_index(y, H, h, &y0, &y1, &fy);
        for (int x = 0; x < W; x++) {
            src_index(x, W, w, &x0, &x1, &fx);
            float top = map[(size_t)y0 * w + x0] * (1.0f - fx) +
                        map[(size_t)y0 * w + x1] * fx;
            float bot = map[(size_t)y1 * w + x0] * (1.0f - fx) +
                        map[(size_t)y1 * w + x1] * fx;
            out[(size_t)y * W + x] = top * (1.0f - fy) + bot * fy;
        }
    }
    return CD_OK;
}
