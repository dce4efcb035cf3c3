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
    /* audio (filled by the audio issue) */
    int sample_rate, n_mels, n_fft, hop, win;
    float seconds;
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
