/* api_cam.c — POST /v1/models/{m}/cam: Eigen-CAM of one image at the
 * model's cam_layer (or ?layer=NODE, which must be readable), computed by the
 * device worker right after the batch the job ran in, so CAM and classify
 * requests of a model share forward passes. Answers the h x w map as JSON
 * (with ?top=K predictions) or a colour-mapped heatmap PNG at the input
 * image's size, optionally blended over it (?overlay=1). Bad requests are
 * answered at once; the handler never waits for the device. */
#include "server/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eigencam.h"
#include "media/colormap.h"
#include "server/api_job.h"
#include "server/api_visual.h"
#include "server/image_input.h"

#define OVERLAY_ALPHA 0.5f

struct cam_ctx {
    char layer[128];
    int top;              /* predictions to return, 0: none */
    struct cd_api_visual v;
};

static void cam_ctx_free(void *p)
{
    struct cam_ctx *x = p;
    if (!x)
        return;
    cd_image_free(&x->v.img);
    free(x);
}

/* Comma-separated readable (C, H, W) values of the model, for messages. */
static void readable_layers(const struct cd_served *s, char *out, size_t cap)
{
    const struct cd_graph *g = &s->model->g;
    size_t k = 0;
    out[0] = 0;
    for (int v = 0; v < g->n_values; v++) {
        const struct cd_value *val = &g->values[v];
        struct cd_err e = {0};
        int C, h, w;
        if (val->is_input || (!val->keep && !val->is_output) ||
            cd_eigencam_layer_shape(s->runner, val->name, &C, &h, &w, &e) != CD_OK)
            continue;
        int n = snprintf(out + k, cap - k, "%s%s", k ? ", " : "", val->name);
        if (n < 0 || (size_t)n >= cap - k) {
            out[k] = 0;
            break;
        }
        k += (size_t)n;
    }
    if (!out[0])
        snprintf(out, cap, "none");
}

/* Resolves and checks the layer; answers 400 and returns -1 on failure. */
static int pick_layer(struct cd_http_req *r, const struct cd_served *s,
                      struct cam_ctx *x)
{
    struct cd_err err = {0};
    char list[400];
    int C, h, w;
    const char *q = cd_http_query(r, "layer");
    const char *layer = q ? q : s->model->cam_layer;
    if (!layer || !*layer) {
        readable_layers(s, list, sizeof list);
        cd_http_respond_error(r, 400, "model %s has no cam_layer: pass ?layer=NODE "
                              "(readable layers: %s)", s->name, list);
        return -1;
    }
    if (strlen(layer) >= sizeof x->layer ||
        cd_graph_find_value(&s->model->g, layer) < 0) {
        readable_layers(s, list, sizeof list);
        cd_http_respond_error(r, 400, "model %s has no node '%.127s' (readable "
                              "layers: %s)", s->name, layer, list);
        return -1;
    }
    if (cd_eigencam_layer_shape(s->runner, layer, &C, &h, &w, &err) != CD_OK) {
        readable_layers(s, list, sizeof list);
        cd_http_respond_error(r, 400, "layer '%s' cannot be used for CAM: %s "
                              "(readable layers: %s)", layer, err.msg, list);
        return -1;
    }
    snprintf(x->layer, sizeof x->layer, "%s", layer);
    return 0;
}

static json_t *map_json(const float *map, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real((double)map[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static void format_cam(struct cd_api_call *c)
{
    struct cam_ctx *x = c->ctx;
    const struct cd_job *j = &c->jobs[0];
    const struct cd_preprocess *p = &c->served->model->pre;
    struct cd_err err = {0};
    struct cd_image pic = {0};
    float *up = NULL;
    json_t *preds = NULL, *jm = NULL, *root = NULL;
    if (!j->cam || j->cam_h < 1 || j->cam_w < 1) {
        cd_err_set(&err, CD_EINVAL, "the worker computed no map");
        goto fail;
    }
    if (x->v.png) {
        size_t n = (size_t)x->v.W * (size_t)x->v.H;
        if (!(up = malloc(n * sizeof *up))) {
            cd_err_set(&err, CD_ENOMEM, "out of memory");
            goto fail;
        }
        if (cd_image_input_heat_to_image(j->cam, j->cam_h, j->cam_w, p, x->v.W, x->v.H,
                                         up, &err) != CD_OK)
            goto fail;
        int rc = x->v.overlay
                 ? cd_colormap_blend_heat(&x->v.img, up, OVERLAY_ALPHA, &pic, &err)
                 : cd_colormap_heat_image(up, x->v.W, x->v.H, &pic, &err);
        if (rc != CD_OK)
            goto fail;
        cd_api_respond_png(c->r, &pic);
        cd_image_free(&pic);
        free(up);
        return;
    }
    int py, px, ix, iy;
    cd_eigencam_peak(j->cam, j->cam_h, j->cam_w, &py, &px);
    cd_image_input_map_point(p, x->v.W, x->v.H, j->cam_h, j->cam_w, py, px, &ix, &iy);
    if (x->top > 0 &&
        (j->n_out < 1 || !j->out[0] ||
         !(preds = cd_api_predictions(c->served->model, j->out[0], j->out_numel[0],
                                      x->top)))) {
        cd_err_set(&err, CD_ENOMEM, "out of memory");
        goto fail;
    }
    if (!(jm = map_json(j->cam, (size_t)j->cam_h * (size_t)j->cam_w))) {
        cd_err_set(&err, CD_ENOMEM, "out of memory");
        goto fail;
    }
    double now = cd_now();
    root = json_pack("{s:s, s:s, s:i, s:i, s:o, s:i, s:i, s:{s:i, s:i}, "
                     "s:{s:i, s:i}, s:{s:f, s:f, s:f}}",
                     "model", c->served->name, "layer", x->layer,
                     "h", j->cam_h, "w", j->cam_w, "map", jm,
                     "width", x->v.W, "height", x->v.H,
                     "peak", "x", ix, "y", iy, "peak_cell", "x", px, "y", py,
                     "timing_ms", "queue", (j->t_start - j->t_submit) * 1e3,
                     "inference", (j->t_end - j->t_start) * 1e3,
                     "total", (now - c->t_arrival) * 1e3);
    jm = NULL; /* stolen */
    if (!root) {
        cd_err_set(&err, CD_ENOMEM, "out of memory");
        goto fail;
    }
    if (preds) {
        json_object_set_new(root, "predictions", preds);
        preds = NULL;
    }
    cd_http_respond_json(c->r, 200, root);
    return;
fail:
    json_decref(preds);
    json_decref(jm);
    cd_image_free(&pic);
    free(up);
    cd_http_respond_error(c->r, 500, "cannot format the CAM answer: %s", err.msg);
}

/* ?top=K for classification models; 0 when absent. 0 or -1 (answered). */
static int pick_top(struct cd_http_req *r, struct cd_server *srv,
                    const struct cd_served *s, int *top)
{
    const char *q = cd_http_query(r, "top");
    *top = 0;
    if (!q)
        return 0;
    const struct cd_model *m = s->model;
    if (!m->task || strcmp(m->task, "classification") != 0) {
        cd_http_respond_error(r, 400, "top: model %s is not a classification model",
                              s->name);
        return -1;
    }
    struct cd_shape sh = cd_runner_output_shape(s->runner, 0);
    int64_t classes = cd_shape_numel(&sh);
    int max = srv->cfg.max_top_k;
    if (classes < max)
        max = (int)(classes > 0 ? classes : 0);
    if (max < 1 || cd_api_parse_top(q, max, top) != 0) {
        cd_http_respond_error(r, 400, "top must be an integer from 1 to %d", max);
        return -1;
    }
    return 0;
}

CD_API_FN(v1_cam)
{
    double t0 = cd_now();
    struct cd_api_call *c = NULL;
    struct cam_ctx *x = NULL;
    struct cd_served *s = cd_api_model(r, srv, params[0], "cam", true);
    if (!s)
        return;
    if (cd_api_visual_check_model(r, s) != 0)
        goto done;
    if (!(x = calloc(1, sizeof *x))) {
        cd_http_respond_error(r, 500, "out of memory");
        goto done;
    }
    if (pick_layer(r, s, x) != 0 || pick_top(r, srv, s, &x->top) != 0 ||
        cd_api_visual_read(r, srv, s, t0, &x->v, &c) != 0)
        goto done;
    c->jobs[0].want_cam = true;
    c->jobs[0].cam_layer = x->layer;
    c->ctx = x;
    c->ctx_free = cam_ctx_free;
    x = NULL;
    cd_api_call_submit(c, format_cam);
    c = NULL;
done:
    cam_ctx_free(x);
    cd_api_call_free(c);
    cd_served_unref(s);
}
