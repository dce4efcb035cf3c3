/* api_classify.c — POST /v1/models/{m}/classify: the curl-friendly endpoint.
 * Takes one image (raw body or multipart file) — or a WAV for audio
 * models — queues it, and answers the
 * top-K softmax classes with labels and timings. Bad requests are answered
 * at once; the handler never waits for the device. */
#include "server/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_job.h"
#include "server/audio_input.h"
#include "server/image_input.h"
#include "server/topk.h"

#define DEFAULT_TOP 5

static size_t n_classes(const struct cd_served *s)
{
    struct cd_shape sh = cd_runner_output_shape(s->runner, 0);
    int64_t n = cd_shape_numel(&sh);
    return n > 0 ? (size_t)n : 0;
}

int cd_api_parse_top(const char *q, int max, int *out)
{
    long v = 0;
    if (!q) {
        *out = DEFAULT_TOP < max ? DEFAULT_TOP : max;
        return 0;
    }
    if (!*q || strlen(q) > 9)
        return -1;
    for (const char *p = q; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

json_t *cd_api_predictions(const struct cd_model *m, const float *logits,
                           size_t n_logits, int k)
{
    struct cd_topk_item *top = k > 0 ? calloc((size_t)k, sizeof *top) : NULL;
    json_t *preds = json_array();
    if (!top || !preds || !logits) {
        free(top);
        json_decref(preds);
        return NULL;
    }
    int n = cd_topk_softmax(logits, n_logits, k, top);
    for (int i = 0; i < n; i++) {
        int idx = top[i].index;
        json_t *label = idx < m->n_labels && m->labels[idx] ?
                        json_string(m->labels[idx]) : json_null();
        json_array_append_new(preds, json_pack("{s:i, s:o, s:f}", "index", idx,
                                               "label", label, "score",
                                               (double)top[i].score));
    }
    free(top);
    return preds;
}

static void format_classify(struct cd_api_call *c)
{
    const struct cd_job *j = &c->jobs[0];
    json_t *preds = NULL, *root = NULL;
    if (j->n_out < 1 || !j->out[0] ||
        !(preds = cd_api_predictions(c->served->model, j->out[0], j->out_numel[0],
                                     c->arg)))
        goto fail;
    double now = cd_now();
    root = json_pack("{s:s, s:o, s:{s:f, s:f, s:f}}", "model", c->served->name,
                     "predictions", preds, "timing_ms",
                     "queue", (j->t_start - j->t_submit) * 1e3,
                     "inference", (j->t_end - j->t_start) * 1e3,
                     "total", (now - c->t_arrival) * 1e3);
    preds = NULL; /* stolen by json_pack, even on failure */
    if (!root)
        goto fail;
    cd_http_respond_json(c->r, 200, root);
    return;
fail:
    json_decref(preds);
    cd_http_respond_error(c->r, 500, "cannot format the classification answer");
}

/* The call for an image model's request, or NULL once answered. */
static struct cd_api_call *classify_image(struct cd_http_req *r,
                                          struct cd_server *srv,
                                          struct cd_served *s, double t0)
{
    struct cd_err err = {0};
    const struct cd_model *m = s->model;
    size_t numel = cd_image_input_numel(&m->pre);
    if (numel == 0) {
        cd_http_respond_error(r, 400, "model %s does not take images", s->name);
        return NULL;
    }
    if (numel != cd_served_input_numel(s)) {
        cd_http_respond_error(r, 500, "model %s: preprocessing does not match its input",
                              s->name);
        return NULL;
    }
    size_t len = 0, img_len = 0;
    const void *body = cd_http_body(r, &len), *img = NULL;
    int st = cd_image_input_find(cd_http_header(r, "Content-Type"), body, len, "file",
                                 &img, &img_len, &err);
    if (st) {
        cd_http_respond_error(r, st, "%s", err.msg);
        return NULL;
    }
    struct cd_api_call *c = cd_api_call_new(r, srv, s, 1, NULL, t0);
    if (!c) {
        cd_http_respond_error(r, 500, "out of memory");
        return NULL;
    }
    st = cd_image_input_tensor(img, img_len, &m->pre, srv->cfg.max_image_pixels,
                               c->input, &err);
    if (st) {
        cd_http_respond_error(r, st, "%s", err.msg);
        cd_api_call_free(c);
        return NULL;
    }
    return c;
}

/* The call for an audio model's request (a WAV), or NULL once answered. */
static struct cd_api_call *classify_audio(struct cd_http_req *r,
                                          struct cd_server *srv,
                                          struct cd_served *s, double t0)
{
    struct cd_err err = {0};
    if (!s->audio) {
        cd_http_respond_error(r, 500, "model %s has no audio front-end", s->name);
        return NULL;
    }
    size_t len = 0, wav_len = 0;
    const void *body = cd_http_body(r, &len), *wav = NULL;
    int st = cd_audio_input_find(cd_http_header(r, "Content-Type"), body, len, "file",
                                 &wav, &wav_len, &err);
    if (st) {
        cd_http_respond_error(r, st, "%s", err.msg);
        return NULL;
    }
    struct cd_api_call *c = cd_api_call_new(r, srv, s, 1, NULL, t0);
    if (!c) {
        cd_http_respond_error(r, 500, "out of memory");
        return NULL;
    }
    st = cd_audio_input_tensor(wav, wav_len, srv->cfg.max_audio_seconds, s->audio, c->input,
                               c->numel, &err);
    if (st) {
        cd_http_respond_error(r, st, "%s", err.msg);
        cd_api_call_free(c);
        return NULL;
    }
    return c;
}

CD_API_FN(v1_classify)
{
    double t0 = cd_now();
    struct cd_api_call *c = NULL;
    struct cd_served *s = cd_api_model(r, srv, params[0], "classify", true);
    if (!s)
        return;
    const struct cd_model *m = s->model;
    if (!m->task || strcmp(m->task, "classification") != 0) {
        cd_http_respond_error(r, 400, "model %s is not a classification model", s->name);
        goto done;
    }
    size_t classes = n_classes(s);
    int max = srv->cfg.max_top_k;
    if ((size_t)max > classes)
        max = (int)classes;
    int top;
    if (max < 1 || cd_api_parse_top(cd_http_query(r, "top"), max, &top) != 0) {
        cd_http_respond_error(r, 400, "top must be an integer from 1 to %d", max);
        goto done;
    }
    if (m->pre.kind == CD_INPUT_AUDIO) {
        c = classify_audio(r, srv, s, t0);
        if (!c)
            goto done;
    } else {
        c = classify_image(r, srv, s, t0);
        if (!c)
            goto done;
    }
    c->arg = top;
    cd_api_call_submit(c, format_classify);
done:
    cd_served_unref(s);
}
