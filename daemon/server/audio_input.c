/* audio_input.c — turns the WAV in a request body (or a raw waveform) into an
 * audio model's input features: Content-Type dispatch, WAV decoding with the
 * duration limit, the model's front-end. It returns HTTP statuses but never
 * touches a request or a response, and never trusts the body's sizes (the
 * WAV decoder checks every chunk against the buffer). */
#include "server/audio_input.h"

#include <math.h>
#include <string.h>

#include "media/audio_features.h"
#include "media/wav.h"
#include "server/body_input.h"

bool cd_audio_input_is_wav_type(const char *ct)
{
    return ct && (cd_body_input_type_is(ct, "audio/wav") ||
                  cd_body_input_type_is(ct, "audio/x-wav") ||
                  cd_body_input_type_is(ct, "audio/wave") ||
                  cd_body_input_type_is(ct, "audio/vnd.wave"));
}

static const struct cd_body_kind wav_kind = {
    cd_audio_input_is_wav_type, "the WAV file", "audio/wav", " for an audio model",
    "audio/wav",
};

int cd_audio_input_find(const char *content_type, const void *body, size_t len,
                        const char *field, const void **wav, size_t *wav_len,
                        struct cd_err *err)
{
    return cd_body_input_find(&wav_kind, content_type, body, len, field, wav, wav_len,
                              err);
}

int cd_audio_input_tensor(const void *wav, size_t len, double max_seconds,
                          const struct cd_audio_frontend *fe, float *out,
                          size_t out_numel, struct cd_err *err)
{
    struct cd_audio a = {0};
    if (!fe) {
        cd_err_set(err, CD_EINVAL, "the model does not take audio");
        return 400;
    }
    int rc = cd_wav_decode(wav, len, max_seconds > 0 ? max_seconds : CD_AUDIO_INPUT_MAX_SECONDS,
                           &a, err);
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
