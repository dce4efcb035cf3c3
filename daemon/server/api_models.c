/* api_models.c — model listing and metadata: GET /v1/models, KServe's
 * GET /v2/models/{m} and /v2/models/{m}/ready. Answers at once from the
 * registry's current versions; never queues work or touches the device. */
#include "server/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_job.h"

static const char *const resize_names[CD_RESIZE_COUNT] = {
    [CD_RESIZE_STRETCH] = "stretch",
    [CD_RESIZE_SHORTER_CROP] = "shorter_center_crop",
    [CD_RESIZE_LETTERBOX] = "letterbox",
};
static const char *const kind_names[CD_INPUT_KIND_COUNT] = {
    [CD_INPUT_TENSOR] = "tensor",
    [CD_INPUT_IMAGE] = "image",
    [CD_INPUT_AUDIO] = "audio",
};

/* Per-sample shapes hold dim[0] == 1: write them as [first, dim1, ...]. */
static json_t *shape_json(const struct cd_shape *sh, json_int_t first, bool with_batch)
{
    json_t *a = json_array();
    if (with_batch)
        json_array_append_new(a, json_integer(first));
    for (int d = 1; d < sh->ndim; d++)
        json_array_append_new(a, json_integer((json_int_t)sh->dim[d]));
    return a;
}

static const char *input_name(const struct cd_model *m)
{
    return m->g.n_inputs > 0 ? m->g.values[m->g.inputs[0]].name : "input";
}

static json_t *preprocess_json(const struct cd_preprocess *p)
{
    json_t *o = json_pack("{s:s}", "kind", (unsigned)p->kind < CD_INPUT_KIND_COUNT ?
                          kind_names[p->kind] : "?");
    if (p->kind != CD_INPUT_IMAGE)
        return o;
    json_object_set_new(o, "width", json_integer(p->width));
    json_object_set_new(o, "height", json_integer(p->height));
    json_object_set_new(o, "color", json_string(p->channels == 1 ? "gray" : "rgb"));
    json_object_set_new(o, "resize", json_string((unsigned)p->resize < CD_RESIZE_COUNT ?
                                                 resize_names[p->resize] : "?"));
    if (p->resize == CD_RESIZE_SHORTER_CROP)
        json_object_set_new(o, "resize_to", json_integer(p->resize_to));
    if (p->resize == CD_RESIZE_LETTERBOX)
        json_object_set_new(o, "pad_value", json_real(p->pad_value));
    json_object_set_new(o, "scale", json_real(p->scale));
    json_t *mean = json_array(), *std = json_array();
    for (int c = 0; c < p->channels && c < 3; c++) {
        json_array_append_new(mean, json_real(p->mean[c]));
        json_array_append_new(std, json_real(p->std[c]));
    }
    json_object_set_new(o, "mean", mean);
    json_object_set_new(o, "std", std);
    return o;
}

static json_t *model_entry(const struct cd_served *s)
{
    bool ready = s->state == CD_SERVED_READY && s->model && s->runner;
    json_t *o = json_pack("{s:s, s:s}", "name", s->name, "state",
                          ready ? "ready" : "failed");
    if (!o)
        return NULL;
    if (s->model) {
        json_object_set_new(o, "task", json_string(s->model->task ? s->model->task : ""));
        json_object_set_new(o, "labels", json_integer(s->model->n_labels));
    }
    if (!ready)
        json_object_set_new(o, "reason", json_string(s->reason));
    if (ready) {
        struct cd_shape ish = cd_runner_input_shape(s->runner);
        json_object_set_new(o, "input", json_pack("{s:s, s:o, s:o}", "name",
                                                  input_name(s->model), "shape",
                                                  shape_json(&ish, 0, false), "preprocess",
                                                  preprocess_json(&s->model->pre)));
    }
    json_object_set_new(o, "batching", json_pack("{s:i, s:i, s:i, s:i}",
                                                 "max_batch", s->batch.max_batch,
                                                 "max_delay_us", s->batch.max_delay_us,
                                                 "max_queue", s->batch.max_queue,
                                                 "timeout_ms", s->batch.timeout_ms));
    return o;
}

CD_API_FN(v1_models)
{
    struct cd_served **list = NULL;
    int n = 0;
    cd_http_set_labels(r, NULL, -1, "models");
    if (cd_registry_list(srv->reg, &list, &n) != CD_OK) {
        cd_http_respond_error(r, 500, "cannot list the models");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, model_entry(list[i]));
        cd_served_unref(list[i]);
    }
    free(list);
    cd_http_respond_json(r, 200, json_pack("{s:o}", "models", arr));
}

CD_API_FN(v2_model)
{
    struct cd_served *s = cd_api_model(r, srv, params[0], "metadata", true);
    if (!s)
        return;
    const struct cd_runner *run = s->runner;
    struct cd_shape ish = cd_runner_input_shape(run);
    json_t *outs = json_array();
    for (int i = 0; i < cd_runner_n_outputs(run); i++) {
        struct cd_shape osh = cd_runner_output_shape(run, i);
        json_array_append_new(outs, json_pack("{s:s, s:s, s:o}", "name",
                                              cd_runner_output_name(run, i), "datatype",
                                              "FP32", "shape", shape_json(&osh, -1, true)));
    }
    json_t *in = json_pack("{s:s, s:s, s:o}", "name", input_name(s->model), "datatype",
                           "FP32", "shape", shape_json(&ish, -1, true));
    /* encoded images are accepted as BYTES [B] through the binary extension;
     * the version is the registry's load counter (the repository index's) */
    char version[16];
    snprintf(version, sizeof version, "%d", s->version);
    cd_http_respond_json(r, 200, json_pack("{s:s, s:[s], s:s, s:[o], s:o}", "name",
                                           s->name, "versions", version, "platform", "convd",
                                           "inputs", in, "outputs", outs));
    cd_served_unref(s);
}

CD_API_FN(v2_model_ready)
{
    struct cd_served *s = cd_api_model(r, srv, params[0], "health", false);
    if (!s)
        return;
    bool ready = s->state == CD_SERVED_READY && s->runner;
    json_t *o = json_pack("{s:s, s:b}", "name", s->name, "ready", ready);
    if (!ready && o)
        json_object_set_new(o, "reason", json_string(s->reason));
    cd_http_respond_json(r, ready ? 200 : 503, o);
    cd_served_unref(s);
}
