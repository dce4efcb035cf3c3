/* model.h — a loaded model: metadata from model.json, the graph, and the
 * weight file mapping the graph's weights point into. Reference-counted so a
 * reload never frees what a running batch still uses. Loading validates
 * everything and never aborts on bad files. */
#ifndef CD_MODEL_H
#define CD_MODEL_H

#include "graph.h"

#define CD_MODEL_FORMAT "convd-model"
#define CD_MODEL_VERSION 1

enum cd_resize {
    CD_RESIZE_STRETCH,       /* resize to exactly size, ignoring aspect */
    CD_RESIZE_SHORTER_CROP,  /* scale shorter side to resize_to, centre-crop size */
    CD_RESIZE_LETTERBOX,     /* fit inside size, pad with pad_value */
    CD_RESIZE_COUNT
};

enum cd_input_kind {
    CD_INPUT_TENSOR,         /* raw float tensor, no preprocessing */
    CD_INPUT_IMAGE,
    CD_INPUT_AUDIO,
    CD_INPUT_KIND_COUNT
};

enum cd_audio_feat {
    CD_AUDIO_LOGMEL,         /* (n_mels, T): log(mel power + log_offset) */
    CD_AUDIO_STFT,           /* (2F, T): Re X bins 0..F-1, then Im X */
    CD_AUDIO_FEAT_COUNT
};

enum cd_audio_fit {
    CD_AUDIO_FIT_CENTER,     /* centre-crop a longer clip, centre-pad a shorter */
    CD_AUDIO_FIT_START,      /* keep the start, pad zeros at the end */
    CD_AUDIO_FIT_COUNT
};

struct cd_preprocess {
    enum cd_input_kind kind;
    /* image */
    int width, height;       /* network input size */
    int channels;            /* 1 (gray) or 3 (rgb) */
    enum cd_resize resize;
    int resize_to;           /* shorter side before crop; 0 = same as size */
    float scale;             /* pixel / scale before mean/std (255 by default) */
    float mean[3], std[3];
    float pad_value;
    /* audio: the front-end of media/audio_features.h, as
     * tools/data/audio_features.py computes it */
    int sample_rate, n_mels, n_fft, hop, win;
    float seconds;           /* clip length the network sees */
    enum cd_audio_feat features;
    enum cd_audio_fit fit;   /* how a longer/shorter clip is cut/padded */
    float fmin, fmax;        /* mel band edges in Hz (logmel) */
    float log_offset;        /* added to the mel power before log (logmel) */
    bool center;             /* torch.stft center=True: reflect-pad n_fft/2 */
};

struct cd_model {
    char *dir;               /* owned */
    char *name;              /* owned */
    char *task;              /* owned: classification | segmentation | ... */
    struct cd_preprocess pre;
    int n_labels;
    char **labels;           /* owned */
    char *cam_layer;         /* owned, NULL if none */
    struct cd_graph g;
    struct cd_safetensors *weights_file; /* owned mapping */
    int refcount;            /* atomic */
};

/* Loads dir/model.json and its weights, validates, infers shapes. Does NOT
 * run the rewrite passes (cd_passes_run does). *out is owned (refcount 1). */
int cd_model_load(const char *dir, struct cd_model **out, struct cd_err *err);
void cd_model_ref(struct cd_model *m);
void cd_model_unref(struct cd_model *m); /* frees at zero; NULL ok */

#endif
