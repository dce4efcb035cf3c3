/* model_preprocess.c — parses model.json's inputs[0] "preprocess" object:
 * image (size, resize, colour, scale, mean/std) and audio front-end (the keys
 * of media/audio_features.h) specs, checked against the input shape. It must
 * not read files, allocate, keep references to the JSON, or abort on any
 * content: every refusal names the key. */
#include "model_preprocess.h"

#include "json_util.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define DIM_MAX CD_MODEL_DIM_MAX

/* A finite number (> 0 when positive). */
static int one_float(const json_t *e, const char *key, bool positive,
                     float *out, struct cd_err *err)
{
    double v = json_number_value(e);
    if (!json_is_number(e) || !isfinite(v) || fabs(v) > 1e30 ||
        (positive && !(v > 0.0)))
        return cd_err_set(err, CD_EINVAL, "preprocess \"%s\": expected a "
                          "finite number%s", key, positive ? " > 0" : "");
    *out = (float)v;
    return CD_OK;
}

/* A list of exactly n finite numbers, one per channel. */
static int float_list(const json_t *j, const char *key, int n, bool positive,
                      float *out, struct cd_err *err)
{
    if (!json_is_array(j) || json_array_size(j) != (size_t)n)
        return cd_err_set(err, CD_EINVAL, "preprocess \"%s\": expected a list "
                          "of %d numbers (one per channel)", key, n);
    for (int i = 0; i < n; i++)
        if (one_float(json_array_get(j, (size_t)i), key, positive, &out[i],
                      err))
            return CD_EINVAL;
    return CD_OK;
}

static int pos_int(const json_t *pp, const char *key, int64_t max, int *out,
                   struct cd_err *err)
{
    json_t *j = json_object_get(pp, key);
    if (!j)
        return CD_OK;
    if (!json_is_integer(j) || json_integer_value(j) < 1 ||
        json_integer_value(j) > max)
        return cd_err_set(err, CD_EINVAL, "preprocess \"%s\": expected a "
                          "positive integer", key);
    *out = (int)json_integer_value(j);
    return CD_OK;
}

static int parse_image(const json_t *pp, const struct cd_shape *s,
                       struct cd_preprocess *p, struct cd_err *err)
{
    int rc = cd_json_check_keys(pp, "kind,size,resize,resize_to,color,scale,mean,std,"
                        "pad_value", "preprocess", err);
    if (rc)
        return rc;
    if (s->ndim != 4 || (s->dim[1] != 1 && s->dim[1] != 3))
        return cd_err_set(err, CD_EINVAL, "preprocess image needs input shape "
                          "[C, H, W] with C 1 or 3");
    p->channels = (int)s->dim[1];
    p->height = (int)s->dim[2];
    p->width = (int)s->dim[3];
    json_t *j = json_object_get(pp, "size");
    if (j && (!json_is_array(j) || json_array_size(j) != 2 ||
              json_integer_value(json_array_get(j, 0)) != p->height ||
              json_integer_value(json_array_get(j, 1)) != p->width))
        return cd_err_set(err, CD_EINVAL, "preprocess \"size\": expected "
                          "[%d, %d] as in the input shape", p->height,
                          p->width);
    const char *str = json_string_value(json_object_get(pp, "resize"));
    if (json_object_get(pp, "resize")) {
        static const char *const names[CD_RESIZE_COUNT] = {
            "stretch", "shorter_center_crop", "letterbox" };
        int r = 0;
        while (r < CD_RESIZE_COUNT && (!str || strcmp(str, names[r])))
            r++;
        if (r == CD_RESIZE_COUNT)
            return cd_err_set(err, CD_EINVAL, "preprocess \"resize\": expected "
                              "stretch, shorter_center_crop or letterbox");
        p->resize = (enum cd_resize)r;
    }
    int big = p->height > p->width ? p->height : p->width;
    p->resize_to = p->height < p->width ? p->height : p->width;
    if ((rc = pos_int(pp, "resize_to", DIM_MAX, &p->resize_to, err)))
        return rc;
    if (p->resize == CD_RESIZE_SHORTER_CROP && p->resize_to < big)
        return cd_err_set(err, CD_EINVAL, "preprocess \"resize_to\" %d is "
                          "smaller than the crop %dx%d", p->resize_to,
                          p->height, p->width);
    if ((j = json_object_get(pp, "color"))) {
        str = json_string_value(j);
        if (!str || strcmp(str, p->channels == 3 ? "rgb" : "gray"))
            return cd_err_set(err, CD_EINVAL, "preprocess \"color\": expected "
                              "\"%s\" for %d channels",
                              p->channels == 3 ? "rgb" : "gray", p->channels);
    }
    if ((j = json_object_get(pp, "scale")) &&
        (rc = one_float(j, "scale", true, &p->scale, err)))
        return rc;
    if ((j = json_object_get(pp, "pad_value")) &&
        (rc = one_float(j, "pad_value", false, &p->pad_value, err)))
        return rc;
    if ((j = json_object_get(pp, "mean")) &&
        (rc = float_list(j, "mean", p->channels, false, p->mean, err)))
        return rc;
    if ((j = json_object_get(pp, "std")) &&
        (rc = float_list(j, "std", p->channels, true, p->std, err)))
        return rc;
    return CD_OK;
}

/* A string key with one of the values in names (NULL-terminated list);
 * *out keeps its default when the key is absent. */
static int enum_key(const json_t *pp, const char *key,
                    const char *const *names, int *out, struct cd_err *err)
{
    json_t *j = json_object_get(pp, key);
    if (!j)
        return CD_OK;
    const char *v = json_string_value(j);
    for (int i = 0; v && names[i]; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return CD_OK;
        }
    return cd_err_set(err, CD_EINVAL, "preprocess \"%s\": expected %s%s%s",
                      key, names[0], names[1] ? " or " : "",
                      names[1] ? names[1] : "");
}

/* Audio front-end (media/audio_features.h); the input shape must hold the
 * (C, T) features it produces. */
static int parse_audio(const json_t *pp, const struct cd_shape *s,
                       struct cd_preprocess *p, struct cd_err *err)
{
    static const char *const feats[] = { "logmel", "stft", NULL };
    static const char *const fits[] = { "center", "start", NULL };
    static const char *const hann[] = { "hann", NULL }, *const htk[] = {
        "htk", NULL };
    int rc = cd_json_check_keys(pp, "kind,sample_rate,n_mels,n_fft,hop,win,seconds,"
                        "features,window,mel_scale,fmin,fmax,log_offset,"
                        "center,fit", "preprocess", err);
    int feat = -1, fit = CD_AUDIO_FIT_CENTER, dummy = 0;
    json_t *j;
    p->sample_rate = 16000;
    p->seconds = 1.0f;
    p->log_offset = 1e-6f;
    if (rc || (rc = pos_int(pp, "sample_rate", 768000, &p->sample_rate, err)) ||
        (rc = pos_int(pp, "n_mels", 4096, &p->n_mels, err)) ||
        (rc = pos_int(pp, "n_fft", 1 << 16, &p->n_fft, err)) ||
        (rc = pos_int(pp, "hop", 1 << 16, &p->hop, err)) ||
        (rc = pos_int(pp, "win", 1 << 16, &p->win, err)) ||
        (rc = enum_key(pp, "features", feats, &feat, err)) ||
        (rc = enum_key(pp, "fit", fits, &fit, err)) ||
        (rc = enum_key(pp, "window", hann, &dummy, err)) ||
        (rc = enum_key(pp, "mel_scale", htk, &dummy, err)))
        return rc;
    if (!p->n_fft || !p->hop)
        return cd_err_set(err, CD_EINVAL, "preprocess audio needs \"n_fft\" "
                          "and \"hop\"");
    if (!p->win)
        p->win = p->n_fft;
    if (p->win > p->n_fft)
        return cd_err_set(err, CD_EINVAL, "preprocess \"win\" %d exceeds "
                          "n_fft %d", p->win, p->n_fft);
    p->features = feat >= 0 ? (enum cd_audio_feat)feat
                  : p->n_mels ? CD_AUDIO_LOGMEL : CD_AUDIO_STFT;
    p->fit = (enum cd_audio_fit)fit;
    bool mel = p->features == CD_AUDIO_LOGMEL;
    if (mel != (p->n_mels > 0))
        return cd_err_set(err, CD_EINVAL, "preprocess: \"n_mels\" is %s for "
                          "features %s", mel ? "required" : "not allowed",
                          mel ? "logmel" : "stft");
    if (!mel && (json_object_get(pp, "fmin") || json_object_get(pp, "fmax") ||
                 json_object_get(pp, "log_offset") ||
                 json_object_get(pp, "mel_scale")))
        return cd_err_set(err, CD_EINVAL, "preprocess: fmin, fmax, "
                          "log_offset and mel_scale only apply to logmel");
    p->fmax = p->sample_rate / 2.0f;
    if ((j = json_object_get(pp, "seconds")) &&
        (rc = one_float(j, "seconds", true, &p->seconds, err)))
        return rc;
    if ((j = json_object_get(pp, "fmin")) &&
        (rc = one_float(j, "fmin", false, &p->fmin, err)))
        return rc;
    if ((j = json_object_get(pp, "fmax")) &&
        (rc = one_float(j, "fmax", true, &p->fmax, err)))
        return rc;
    if ((j = json_object_get(pp, "log_offset")) &&
        (rc = one_float(j, "log_offset", true, &p->log_offset, err)))
        return rc;
    if (!(p->fmin >= 0.0f && p->fmin < p->fmax &&
          p->fmax <= p->sample_rate / 2.0f))
        return cd_err_set(err, CD_EINVAL, "preprocess: expected 0 <= fmin < "
                          "fmax <= sample_rate / 2");
    if ((j = json_object_get(pp, "center"))) {
        if (!json_is_boolean(j))
            return cd_err_set(err, CD_EINVAL, "preprocess \"center\": "
                              "expected true or false");
        p->center = json_is_true(j);
    }
    /* the clip, its frames and the feature shape (as audio_features.c) */
    double len = (double)p->seconds * p->sample_rate;
    if (len > (double)(1 << 26) || len < 1.0)
        return cd_err_set(err, CD_EINVAL, "preprocess: seconds x sample_rate "
                          "must be 1 .. 2^26 samples");
    int64_t n = (int64_t)lround(len), pad = p->center ? p->n_fft / 2 : 0;
    if ((p->center && n <= pad) || n + 2 * pad < p->n_fft)
        return cd_err_set(err, CD_EINVAL, "preprocess: a %lld-sample clip is "
                          "too short for n_fft %d", (long long)n, p->n_fft);
    int64_t t = 1 + (n + 2 * pad - p->n_fft) / p->hop;
    int64_t c = mel ? p->n_mels : 2 * (p->n_fft / 2 + 1);
    if (cd_shape_numel(s) != c * t || s->dim[s->ndim - 1] != t)
        return cd_err_set(err, CD_EINVAL, "preprocess audio makes (%lld, %lld) "
                          "features; the input shape must hold that many "
                          "elements with %lld last", (long long)c,
                          (long long)t, (long long)t);
    return CD_OK;
}

int cd_model_preprocess_parse(const json_t *pp, const struct cd_shape *s,
                              struct cd_preprocess *p, struct cd_err *err)
{
    memset(p, 0, sizeof *p);
    p->kind = CD_INPUT_TENSOR;
    p->scale = 255.0f;
    for (int i = 0; i < 3; i++)
        p->std[i] = 1.0f;
    if (!pp)
        return CD_OK;
    if (!json_is_object(pp))
        return cd_err_set(err, CD_EINVAL, "\"preprocess\" is not an object");
    const char *kind = json_string_value(json_object_get(pp, "kind"));
    if (kind && !strcmp(kind, "image")) {
        p->kind = CD_INPUT_IMAGE;
        return parse_image(pp, s, p, err);
    }
    if (kind && !strcmp(kind, "tensor"))
        return cd_json_check_keys(pp, "kind", "preprocess", err);
    if (!kind || strcmp(kind, "audio"))
        return cd_err_set(err, CD_EINVAL, "preprocess \"kind\": expected "
                          "image, audio or tensor");
    p->kind = CD_INPUT_AUDIO;
    return parse_audio(pp, s, p, err);
}
