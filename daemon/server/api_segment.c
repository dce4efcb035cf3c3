/* api_segment.c — POST /v1/models/{m}/segment: one image in (raw body or
 * multipart file), the class-index map out at the input image's resolution:
 * JSON with per-class pixel counts and the run-length encoded map, or a PNG
 * of class colours (?format=png / Accept: image/png), optionally blended
 * over the input (?overlay=1). Bad requests are answered at once; the
 * handler never waits for the device. */
#include "server/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/colormap.h"
#include "media/rle.h"
#include "server/api_job.h"
#include "server/api_visual.h"
#include "server/image_input.h"

#define OVERLAY_ALPHA 0.5f

struct seg_ctx {
    int K, h, w;          /* logits (K, h, w) per sample */
    struct cd_api_visual v;
};

static void seg_ctx_free(void *p)
{
    struct seg_ctx *x = p;
    if (!x)
        return;
    cd_image_free(&x->v.img);
    free(x);
}

static json_t *classes_json(const struct cd_model *m, const size_t counts[256],
                            size_t total)
{
    json_t *a = json_array();
    for (int k = 0; a && k < 256; k++) {
        if (!counts[k])
            continue;
        json_t *label = k < m->n_labels && m->labels[k] ? json_string(m->labels[k])
                                                       : json_null();
        json_array_append_new(a, json_pack("{s:i, s:o, s:I, s:f}", "index", k,
                                           "label", label, "pixels",
                                           (json_int_t)counts[k], "fraction",
                                           (double)counts[k] / (double)total));
    }
    return a;
}

static json_t *runs_json(const uint32_t *runs, size_t n_runs)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < 2 * n_runs; i++)
        if (json_array_append_new(a, json_integer(runs[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static void format_segment(struct cd_api_call *c)
{
    struct seg_ctx *x = c->ctx;
    const struct cd_job *j = &c->jobs[0];
    struct cd_err err = {0};
    size_t n = (size_t)x->v.W * (size_t)x->v.H, counts[256], n_runs = 0;
    uint8_t *small = malloc((size_t)x->h * (size_t)x->w), *cls = malloc(n);
    uint32_t *runs = NULL;
    struct cd_image pic = {0};
    json_t *root = NULL;
    if (!small || !cls) {
        cd_err_set(&err, CD_ENOMEM, "out of memory");
        goto fail;
    }
    if (j->n_out < 1 || !j->out[0] ||
        j->out_numel[0] != (size_t)x->K * (size_t)x->h * (size_t)x->w) {
        cd_err_set(&err, CD_EINVAL, "the segmenter returned no logits");
        goto fail;
    }
    if (cd_argmax_classes(j->out[0], x->K, x->h, x->w, small, &err) != CD_OK ||
        cd_image_input_classes_to_image(small, x->h, x->w, &c->served->model->pre,
                                        x->v.W, x->v.H, cls, &err) != CD_OK)
        goto fail;
    if (x->v.png) {
        int rc = x->v.overlay
                 ? cd_colormap_blend_classes(&x->v.img, cls, OVERLAY_ALPHA, &pic, &err)
                 : cd_colormap_classes_image(cls, x->v.W, x->v.H, &pic, &err);
        if (rc != CD_OK)
            goto fail;
        cd_api_respond_png(c->r, &pic);
        cd_image_free(&pic);
        goto done;
    }
    cd_classes_count(cls, n, counts);
    if (cd_rle_encode(cls, n, &runs, &n_runs, &err) != CD_OK)
        goto fail;
    json_t *jr = runs_json(runs, n_runs);
    json_t *jc = classes_json(c->served->model, counts, n);
    double now = cd_now();
    root = json_pack("{s:s, s:i, s:i, s:o, s:{s:s, s:s, s:i, s:i, s:o}, "
                     "s:{s:f, s:f, s:f}}",
                     "model", c->served->name, "width", x->v.W, "height", x->v.H,
                     "classes", jc, "mask", "format", "rle", "order", "row-major",
                     "width", x->v.W, "height", x->v.H, "runs", jr, "timing_ms",
                     "queue", (j->t_start - j->t_submit) * 1e3,
                     "inference", (j->t_end - j->t_start) * 1e3,
                     "total", (now - c->t_arrival) * 1e3);
    if (!root) {
        cd_err_set(&err, CD_ENOMEM, "out of memory");
        goto fail;
    }
    cd_http_respond_json(c->r, 200, root);
done:
    free(runs);
    free(small);
    free(cls);
    return;
fail:
    cd_image_free(&pic);
    cd_http_respond_error(c->r, 500, "cannot format the segmentation answer: %s",
                          err.msg);
    goto done;
}

CD_API_FN(v1_segment)
{
    double t0 = cd_now();
    struct cd_api_call *c = NULL;
    struct seg_ctx *x = NULL;
    struct cd_served *s = cd_api_model(r, srv, params[0], "segment", true);
    if (!s)
        return;
    const struct cd_model *m = s->model;
    if (!m->task || strcmp(m->task, "segmentation") != 0) {
        cd_http_respond_error(r, 400, "model %s is not a segmentation model", s->name);
        goto done;
    }
    struct cd_shape sh = cd_runner_output_shape(s->runner, 0);
    if (sh.ndim != 4 || sh.dim[0] != 1 || sh.dim[1] < 1 || sh.dim[1] > 256 ||
        sh.dim[2] < 1 || sh.dim[3] < 1) {
        cd_http_respond_error(r, 500, "model %s: output 0 is not (K, H, W) logits "
                              "with 1..256 classes", s->name);
        goto done;
    }
    if (cd_api_visual_check_model(r, s) != 0)
        goto done;
    if (!(x = calloc(1, sizeof *x))) {
        cd_http_respond_error(r, 500, "out of memory");
        goto done;
    }
    x->K = (int)sh.dim[1];
    x->h = (int)sh.dim[2];
    x->w = (int)sh.dim[3];
    if (cd_api_visual_read(r, srv, s, t0, &x->v, &c) != 0)
        goto done;
    c->ctx = x;
    c->ctx_free = seg_ctx_free;
    x = NULL;
    cd_api_call_submit(c, format_segment);
    c = NULL;
done:
    seg_ctx_free(x);
    cd_api_call_free(c);
    cd_served_unref(s);
}
