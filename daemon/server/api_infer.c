/* api_infer.c — POST /v2/models/{m}/infer (KServe v2 / Open Inference
 * Protocol): parses the request with the kserve codec, turns tensors or BYTES
 * images (for audio models: raw waveforms or WAV files) into B per-sample
 * jobs, and answers every requested output for the whole batch in JSON or
 * binary form. Never waits for the device. */
#include "server/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_job.h"
#include "media/audio_features.h"
#include "server/audio_input.h"
#include "server/image_input.h"
#include "server/kserve.h"

struct infer_ctx {
    char id[CD_KSERVE_MAX_ID];
    bool has_id;
    int n_sel;
    int sel[CD_KSERVE_MAX_OUTPUTS];
    bool sel_binary[CD_KSERVE_MAX_OUTPUTS];
};

static void format_infer(struct cd_api_call *c)
{
    const struct infer_ctx *x = c->ctx;
    const struct cd_runner *run = c->served->runner;
    struct cd_kserve_out outs[CD_KSERVE_MAX_OUTPUTS];
    float *bufs[CD_KSERVE_MAX_OUTPUTS] = {0};
    char *body = NULL;
    size_t len = 0, json_len = 0;
    struct cd_err err = {0};
    for (int o = 0; o < x->n_sel; o++) {
        int k = x->sel[o];
        struct cd_shape sh = cd_runner_output_shape(run, k);
        int64_t per = cd_shape_numel(&sh);
        if (per <= 0 || sh.ndim < 1 || sh.ndim > CD_KSERVE_MAX_DIMS) {
            cd_err_set(&err, CD_EINVAL, "output %d has a bad shape", k);
            goto fail;
        }
        size_t n = (size_t)per * (size_t)c->n_jobs;
        bufs[o] = malloc(n * sizeof(float));
        if (!bufs[o]) {
            cd_err_set(&err, CD_ENOMEM, "out of memory");
            goto fail;
        }
        for (int i = 0; i < c->n_jobs; i++) {
            const struct cd_job *j = &c->jobs[i];
            if (k >= j->n_out || !j->out[k] || j->out_numel[k] != (size_t)per) {
                cd_err_set(&err, CD_EINVAL, "output %d: worker returned %zu elements, "
                           "expected %lld", k, k < j->n_out ? j->out_numel[k] : 0,
                           (long long)per);
                goto fail;
            }
            memcpy(bufs[o] + (size_t)i * (size_t)per, j->out[k],
                   (size_t)per * sizeof(float));
        }
        outs[o] = (struct cd_kserve_out){
            .name = cd_runner_output_name(run, k),
            .ndim = sh.ndim,
            .data = bufs[o],
            .numel = n,
            .binary = x->sel_binary[o],
        };
        /* per-sample shapes carry dim[0] == 1; the answer's is the batch */
        outs[o].shape[0] = c->n_jobs;
        for (int d = 1; d < sh.ndim; d++)
            outs[o].shape[d] = sh.dim[d];
    }
    if (cd_kserve_response(c->served->name, "1", x->has_id ? x->id : NULL, outs,
                           x->n_sel, &body, &len, &json_len, &err) != CD_OK)
        goto fail;
    for (int o = 0; o < x->n_sel; o++)
        free(bufs[o]);
    if (json_len) {
        char hl[32];
        snprintf(hl, sizeof hl, "%zu", json_len);
        cd_http_add_header(c->r, "Inference-Header-Content-Length", hl);
        cd_http_respond(c->r, 200, "application/octet-stream", body, len);
    } else {
        cd_http_respond(c->r, 200, "application/json", body, len);
    }
    return;
fail:
    for (int o = 0; o < x->n_sel; o++)
        free(bufs[o]);
    cd_http_respond_error(c->r, 500, "cannot format the answer: %s", err.msg);
}

/* Audio models: BYTES elements are WAV files; FP32 [B, L] tensors are raw
 * waveforms at the model's rate (wave != NULL). */
static int audio_to_input(struct cd_api_call *c, const struct cd_kserve_input *in,
                          const struct cd_served *s, const float *wave, size_t L,
                          struct cd_err *err)
{
    for (int64_t i = 0; i < in->batch; i++) {
        float *dst = c->input + (size_t)i * c->numel;
        int st = wave ? cd_audio_input_wave(wave + (size_t)i * L, L, s->audio, dst,
                                            c->numel, err)
                      : cd_audio_input_tensor(in->elem[i], in->elem_len[i],
                                              c->srv->cfg.max_audio_seconds, s->audio,
                                              dst, c->numel, err);
        if (st) {
            cd_err_wrap(err, "input '%s' element %lld", in->name, (long long)i);
            return st;
        }
    }
    return 0;
}

/* Decodes and preprocesses each BYTES element into the call's input. */
static int images_to_input(struct cd_api_call *c, const struct cd_kserve_input *in,
                           const struct cd_model *m, size_t max_pixels,
                           struct cd_err *err)
{
    size_t numel = cd_image_input_numel(&m->pre);
    if (numel == 0) {
        cd_err_set(err, CD_EINVAL, "model %s does not take images: send %s as a "
                   "numeric tensor", m->name, in->name);
        return 400;
    }
    if (numel != c->numel) {
        cd_err_set(err, CD_EINVAL, "model %s: preprocessing does not match its input",
                   m->name);
        return 500;
    }
    for (size_t i = 0; i < in->n_elem; i++) {
        int st = cd_image_input_tensor(in->elem[i], in->elem_len[i], &m->pre, max_pixels,
                                       c->input + i * numel, err);
        if (st) {
            cd_err_wrap(err, "input '%s' element %zu", in->name, i);
            return st;
        }
    }
    return 0;
}

CD_API_FN(v2_infer)
{
    double t0 = cd_now();
    struct cd_err err = {0};
    struct cd_kserve_req req;
    struct cd_api_call *c = NULL;
    struct infer_ctx *x = NULL;
    memset(&req, 0, sizeof req);
    struct cd_served *s = cd_api_model(r, srv, params[0], "infer", true);
    if (!s)
        return;
    const struct cd_model *m = s->model;
    const struct cd_runner *run = s->runner;

    struct cd_shape ish = cd_runner_input_shape(run);
    int n_out = cd_runner_n_outputs(run);
    const char *names[CD_KSERVE_MAX_OUTPUTS];
    size_t numel = cd_served_input_numel(s), max_el;
    if (ish.ndim < 1 || n_out < 1 || n_out > CD_KSERVE_MAX_OUTPUTS || numel == 0) {
        cd_http_respond_error(r, 500, "model %s cannot be served over v2", s->name);
        goto done;
    }
    for (int i = 0; i < n_out; i++)
        names[i] = cd_runner_output_name(run, i);
    int64_t max_b = s->batch.max_queue > 0 ? s->batch.max_queue : 1;
    if (!cd_size_mul((size_t)max_b, numel, &max_el))
        max_el = SIZE_MAX / sizeof(float);
    const struct cd_graph *g = &m->g;
    struct cd_kserve_spec spec = {
        .input_name = g->n_inputs > 0 ? g->values[g->inputs[0]].name : NULL,
        .sample_ndim = ish.ndim - 1,
        .sample_dims = ish.dim + 1,
        .n_outputs = n_out,
        .output_names = names,
        .max_batch = max_b,
        .max_elements = max_el,
    };

    size_t len = 0, header_len = 0;
    const void *body = cd_http_body(r, &len);
    const char *hl = cd_http_header(r, "Inference-Header-Content-Length");
    if (hl && cd_kserve_parse_header_len(hl, &header_len, &err) != CD_OK) {
        cd_http_respond_error(r, 400, "%s", err.msg);
        goto done;
    }
    /* Audio models take [B, L] waveforms (L samples at the model's rate) or
     * WAV files as BYTES; their feature tensor is still accepted as is. */
    bool wave = false;
    int rc;
    if (s->audio) {
        int fc, ft;
        size_t L = 0, wave_max;
        cd_audio_frontend_dims(s->audio, &fc, &ft, &L);
        int64_t wdim = (int64_t)L;
        struct cd_kserve_spec wspec = spec;
        wspec.sample_ndim = 1;
        wspec.sample_dims = &wdim;
        if (!cd_size_mul((size_t)max_b, L, &wave_max))
            wave_max = SIZE_MAX / sizeof(float);
        wspec.max_elements = wave_max;
        rc = cd_kserve_parse(&req, body, len, header_len, &wspec, &err);
        if (rc == CD_OK) {
            wave = true;
        } else if (rc != CD_ENOMEM) {
            struct cd_err e2 = {0};
            if (cd_kserve_parse(&req, body, len, header_len, &spec, &e2) == CD_OK)
                rc = CD_OK;
        }
    } else {
        rc = cd_kserve_parse(&req, body, len, header_len, &spec, &err);
    }
    if (rc != CD_OK) {
        cd_http_respond_error(r, rc == CD_ENOMEM ? 500 : 400, "%s", err.msg);
        goto done;
    }
    int B = (int)req.in.batch;
    bool bytes = req.in.dtype == CD_KSERVE_BYTES;
    bool convert = bytes || wave;
    c = cd_api_call_new(r, srv, s, B, convert ? NULL : req.in.data, t0);
    if (c && !convert)
        req.in.data = NULL;   /* owned by the call now */
    x = calloc(1, sizeof *x);
    if (!c || !x) {
        cd_http_respond_error(r, 500, "out of memory");
        goto done;
    }
    if (convert) {
        int st = s->audio ? audio_to_input(c, &req.in, s, bytes ? NULL : req.in.data,
                                           bytes ? 0 : req.in.numel / (size_t)B, &err)
                          : images_to_input(c, &req.in, m, srv->cfg.max_image_pixels,
                                            &err);
        if (st) {
            cd_http_respond_error(r, st, "%s", err.msg);
            goto done;
        }
    }
    memcpy(x->id, req.id, sizeof x->id);
    x->has_id = req.has_id;
    x->n_sel = req.n_sel;
    memcpy(x->sel, req.sel, sizeof x->sel);
    memcpy(x->sel_binary, req.sel_binary, sizeof x->sel_binary);
    c->ctx = x;
    c->ctx_free = free;
    x = NULL;
    cd_api_call_submit(c, format_infer);
    c = NULL;
done:
    free(x);
    cd_api_call_free(c);
    cd_kserve_req_free(&req);
    cd_served_unref(s);
}
