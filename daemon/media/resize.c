/* resize.c — separable triangle-filter (bilinear) resampling of uint8
 * interleaved images into planar float windows, PyTorch/PIL semantics
 * (see resize.h): per-axis weight tables, a horizontal pass over the
 * source rows the window needs, then a vertical pass. Must not normalise,
 * crop policy or pad: that is preprocess.c's job. */
#include "resize.h"

#include <math.h>
#include <stdlib.h>

#include "engine/tensor.h"

/* Weights for window outputs k = 0..n-1 of one axis: output k reads source
 * samples start[k] .. start[k]+count[k]-1 with weights w[off[k] + t]. */
struct axis {
    int *start, *count;
    size_t *off;
    float *w;
};

static void axis_free(struct axis *a)
{
    free(a->start);
    free(a->count);
    free(a->off);
    free(a->w);
}

static double tri(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* The PyTorch _upsample_bilinear2d_aa / PIL ImagingResample index rule. */
static void window_of(int in, double scale, double support, int i, int *lo,
                      int *hi)
{
    double center = scale * (i + 0.5);
    long a = (long)(center - support + 0.5), b = (long)(center + support + 0.5);
    *lo = a < 0 ? 0 : (int)a;
    *hi = b > in ? in : (int)b;
    if (*hi <= *lo) { /* cannot happen for support >= 1; stay safe */
        *lo = (int)fmin(fmax(floor(center), 0), in - 1);
        *hi = *lo + 1;
    }
}

static int axis_init(struct axis *a, int in, int virt, int off, int n, int aa)
{
    double scale = (double)in / virt;
    double support = (aa && scale > 1.0) ? scale : 1.0;
    double inv = 1.0 / support;
    size_t total = 0;

    a->start = malloc((size_t)n * sizeof *a->start);
    a->count = malloc((size_t)n * sizeof *a->count);
    a->off = malloc((size_t)n * sizeof *a->off);
    if (!a->start || !a->count || !a->off)
        return CD_ENOMEM;
    for (int k = 0; k < n; k++) {
        int lo, hi;
        window_of(in, scale, support, off + k, &lo, &hi);
        a->start[k] = lo;
        a->count[k] = hi - lo;
        a->off[k] = total;
        total += (size_t)(hi - lo);
    }
    a->w = malloc(total * sizeof *a->w);
    if (!a->w)
        return CD_ENOMEM;
    for (int k = 0; k < n; k++) {
        double center = scale * (off + k + 0.5), sum = 0;
        float *w = a->w + a->off[k];
        for (int t = 0; t < a->count[k]; t++)
            sum += tri((a->start[k] + t - center + 0.5) * inv);
        for (int t = 0; t < a->count[k]; t++) {
            double v = tri((a->start[k] + t - center + 0.5) * inv);
            w[t] = (float)(sum > 0 ? v / sum : 1.0 / a->count[k]);
        }
    }
    return CD_OK;
}

static int check_job(const struct cd_image *src, const struct cd_resize_job *j,
                     const float *dst, size_t row_stride, size_t plane_stride,
                     struct cd_err *err)
{
    if (!src || !src->pixels || src->width <= 0 || src->height <= 0 ||
        (src->channels != 1 && src->channels != 3))
        return cd_err_set(err, CD_EINVAL, "resize: bad source image");
    if (!j || !dst)
        return cd_err_set(err, CD_EINVAL, "resize: no job or destination");
    if (j->virt_w <= 0 || j->virt_h <= 0 || j->virt_w > CD_RESIZE_MAX_DIM ||
        j->virt_h > CD_RESIZE_MAX_DIM)
        return cd_err_set(err, CD_EINVAL, "resize: bad target size %dx%d",
                          j->virt_w, j->virt_h);
    if (j->win_w <= 0 || j->win_h <= 0 || j->win_x < 0 || j->win_y < 0 ||
        j->win_x > j->virt_w - j->win_w || j->win_y > j->virt_h - j->win_h)
        return cd_err_set(err, CD_EINVAL,
                          "resize: window %dx%d+%d+%d outside %dx%d", j->win_w,
                          j->win_h, j->win_x, j->win_y, j->virt_w, j->virt_h);
    if (row_stride < (size_t)j->win_w ||
        plane_stride < (size_t)(j->win_h - 1) * row_stride + (size_t)j->win_w)
        return cd_err_set(err, CD_EINVAL, "resize: strides too small");
    return CD_OK;
}

int cd_resize_bilinear(const struct cd_image *src,
                       const struct cd_resize_job *job, float *dst,
                       size_t row_stride, size_t plane_stride,
                       struct cd_err *err)
{
    struct axis ax = {0}, ay = {0};
    float *tmp = NULL;
    int rc = check_job(src, job, dst, row_stride, plane_stride, err);
    if (rc != CD_OK)
        return rc;
    const int C = src->channels, W = job->win_w, H = job->win_h;
    if (axis_init(&ax, src->width, job->virt_w, job->win_x, W, job->antialias) ||
        axis_init(&ay, src->height, job->virt_h, job->win_y, H, job->antialias)) {
        rc = cd_err_set(err, CD_ENOMEM, "resize: out of memory");
        goto fail;
    }
    /* Source rows the window reads: windows move forward with k. */
    int r0 = ay.start[0], r1 = ay.start[H - 1] + ay.count[H - 1];
    size_t tmp_n;
    if (!cd_size_mul((size_t)(r1 - r0), (size_t)W * C, &tmp_n) ||
        !cd_size_mul(tmp_n, sizeof *tmp, &tmp_n) || !(tmp = malloc(tmp_n))) {
        rc = cd_err_set(err, CD_ENOMEM, "resize: out of memory");
        goto fail;
    }
    /* tmp is (r1 - r0, W, C): horizontally resampled source rows. */
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = src->pixels + (size_t)r * src->width * C;
        float *t = tmp + (size_t)(r - r0) * W * C;
        for (int x = 0; x < W; x++) {
            const float *w = ax.w + ax.off[x];
            const uint8_t *s = row + (size_t)ax.start[x] * C;
            const int n = ax.count[x];
            if (C == 3) { /* the common case, one pass over the taps */
                float a0 = 0, a1 = 0, a2 = 0;
                for (int k = 0; k < n; k++) {
                    a0 += w[k] * s[3 * k];
                    a1 += w[k] * s[3 * k + 1];
                    a2 += w[k] * s[3 * k + 2];
                }
                t[3 * x] = a0;
                t[3 * x + 1] = a1;
                t[3 * x + 2] = a2;
            } else {
                float a = 0;
                for (int k = 0; k < n; k++)
                    a += w[k] * s[k];
                t[x] = a;
            }
        }
    }
    for (int y = 0; y < H; y++) {
        const float *w = ay.w + ay.off[y];
        const float *t0 = tmp + (size_t)(ay.start[y] - r0) * W * C;
        for (int c = 0; c < C; c++) {
            float *restrict out = dst + (size_t)c * plane_stride + (size_t)y * row_stride;
            for (int x = 0; x < W; x++)
                out[x] = 0;
            for (int k = 0; k < ay.count[y]; k++) {
                const float wk = w[k], *restrict t = t0 + (size_t)k * W * C + c;
                for (int x = 0; x < W; x++)
                    out[x] += wk * t[(size_t)x * C];
            }
        }
    }
fail:
    axis_free(&ax);
    axis_free(&ay);
    free(tmp);
    return rc;
}
