/* audio_input.c — turns the WAV in a request body (or a raw waveform) into an
 * audio model's input features: Content-Type dispatch, WAV decoding with the
 * duration limit, the model's front-end. It returns HTTP statuses but never
 * touches a request or a response, and never trusts the body's sizes (the
 * WAV decoder checks every chunk against the buffer). */
#include "server/audio_input.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "media/audio_features.h"
#include "media/wav.h"
#include "server/multipart.h"

static bool media_type_is(const char *ct, const char *want)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == 0 || *ct == ';';
}

static void media_type_copy(const char *ct, char *out, size_t cap)
{
    size_t k = 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    for (; *ct && *ct != ';' && k + 1 < cap; ct++)
        out[k++] = isprint((unsigned char)*ct) ? *ct : '?';
    out[k] = 0;
}

bool cd_audio_input_is_wav_type(const char *ct)
{
    return ct && (media_type_is(ct, "audio/wav") || media_type_is(ct, "audio/x-wav") ||
                  media_type_is(ct, "audio/wave") ||
                  media_type_is(ct, "audio/vnd.wave"));
}

int cd_audio_input_find(const char *content_type, const void *body, size_t len,
                        const char *field, const void **wav, size_t *wav_len,
                        struct cd_err *err)
{
    *wav = NULL;
    *wav_len = 0;
    if (!content_type || !*content_type || cd_audio_input_is_wav_type(content_type) ||
        media_type_is(content_type, "application/octet-stream")) {
        if (!body || len == 0) {
            cd_err_set(err, CD_EINVAL, "empty body: send the WAV file as the request body");
            return 400;
        }
        *wav = body;
        *wav_len = len;
        return 0;
    }
    if (media_type_is(content_type, "multipart/form-data")) {
        char part_type[128] = "";
        const void *d = NULL;
        size_t dl = 0;
        if (!body || len == 0) {
            cd_err_set(err, CD_EINVAL, "empty multipart body");
            return 400;
        }
        int rc = cd_multipart_find_file(content_type, body, len, field, &d, &dl,
                                        part_type, sizeof part_type, err);
        if (rc != CD_OK && field)
            rc = cd_multipart_find_file(content_type, body, len, NULL, &d, &dl,
                                        part_type, sizeof part_type, err);
        if (rc != CD_OK) {
            cd_err_wrap(err, "multipart body");
            return 400;
        }
        if (part_type[0] && !cd_audio_input_is_wav_type(part_type) &&
            !media_type_is(part_type, "application/octet-stream")) {
            char t[64];
            media_type_copy(part_type, t, sizeof t);
            cd_err_set(err, CD_EUNSUPPORTED,
                       "unsupported file part type '%s': send audio/wav", t);
            return 415;
        }
        if (dl == 0) {
            cd_err_set(err, CD_EINVAL, "the file part is empty");
            return 400;
        }
        *wav = d;
        *wav_len = dl;
        return 0;
    }
    char t[64];
    media_type_copy(content_type, t, sizeof t);
    cd_err_set(err, CD_EUNSUPPORTED,
               "unsupported Content-Type '%s' for an audio model: send audio/wav, "
               "application/octet-stream or multipart/form-data", t);
    return 415;
}

int cd_audio_input_tensor(const void *wav, size_t len,
                          const struct cd_audio_frontend *fe, float *out,
                          size_t out_numel, struct cd_err *err)
{
    struct cd_audio a = {0};
    if (!fe) {
        cd_err_set(err, CD_EINVAL, "the model does not take audio");
        return 400;
    }
    int rc = cd_wav_decode(wav, len, CD_AUDIO_INPUT_MAX_SECONDS, &a, err);
    if (rc != CD_OK) {
        cd_err_wrap(err, rc == CD_ENOMEM ? "decoding the WAV"
                                         : "cannot decode the WAV");
        return rc == CD_ENOMEM ? 500 : 400;
    }
    rc = cd_audio_frontend_run_audio(fe, &a, out, out_numel, err);
    cd_audio_free(&a);
    if (rc != CD_OK) {
        cd_err_wrap(err, "audio features");
        return rc == CD_ENOMEM ? 500 : rc == CD_EINVAL || rc == CD_ERANGE ||
               rc == CD_EFORMAT ? 400 : 500;
    }
    return 0;
}

int cd_audio_input_wave(const float *wave, size_t n,
                        const struct cd_audio_frontend *fe, float *out,
                        size_t out_numel, struct cd_err *err)
{
    if (!fe) {
        cd_err_set(err, CD_EINVAL, "the model does not take audio");
        return 400;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(wave[i])) {
            cd_err_set(err, CD_EINVAL, "waveform sample %zu is not finite", i);
            return 400;
        }
    int rc = cd_audio_frontend_run(fe, wave, n, out, out_numel, err);
    if (rc != CD_OK) {
        cd_err_wrap(err, "audio features");
        return rc == CD_ENOMEM ? 500 : 400;
    }
    return 0;
}
