/* config.h — the daemon's configuration: one table of keys (name, type,
 * offset, default, bounds, reloadable, help) drives defaults, the JSON config
 * file, command-line flags and the documentation. Precedence: defaults <
 * file < flags. A bad value is refused with a message naming the key. */
#ifndef CD_CONFIG_H
#define CD_CONFIG_H

#include "engine/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Batching settings; the defaults apply to every model, and the config key
 * "models" may override them per model name. */
struct cd_batch_cfg {
    int max_batch;      /* largest batch a worker runs */
    int max_delay_us;   /* how long the first job waits for company */
    int max_queue;      /* queued jobs per model before 503 */
    int timeout_ms;     /* deadline of a job from arrival; 504 after it */
};

#define CD_CONFIG_MAX_MODEL_OVERRIDES 64

struct cd_model_override {
    char name[128];
    struct cd_batch_cfg batch;   /* fields < 0 mean "not overridden" */
};

struct cd_config {
    char host[128];              /* listen address, "127.0.0.1", "::1", "0.0.0.0" */
    int port;                    /* 0 = ephemeral (the chosen port is logged) */
    char models_dir[1024];
    char device[64];             /* auto | gpu | cpu | ref | P:D */
    char cache_dir[1024];        /* OpenCL program cache; "" = none */
    char log_level[16];          /* error | warn | info | debug */
    int threads;                 /* HTTP thread pool size */
    int max_connections;
    int connection_timeout_s;    /* idle connection timeout */
    int max_connections_per_ip;  /* 0 = no per-address limit */
    int body_timeout_s;          /* request line to end of body */
    size_t max_body_bytes;       /* 413 above this, refused on Content-Length */
    size_t max_image_pixels;     /* decoded width*height limit */
    int max_audio_seconds;       /* WAV duration limit */
    int max_top_k;
    struct cd_batch_cfg batch;   /* defaults for every model */
    int n_overrides;
    struct cd_model_override overrides[CD_CONFIG_MAX_MODEL_OVERRIDES];
    char port_file[1024];        /* if set, the bound port is written here (tests) */
    char api_keys_file[1024];    /* API keys, one per line; "" = no keys */
    bool ui_enabled;             /* serve the web console (/, /ui/...) */
};

/* Fills every key with its default. */
void cd_config_defaults(struct cd_config *c);
/* Applies a JSON config file over c. Unknown keys and bad values refused. */
int cd_config_load_file(struct cd_config *c, const char *path, struct cd_err *err);
/* Finds --config FILE in argv (NULL if absent); no other parsing. */
const char *cd_config_find_file_arg(int argc, char **argv);
/* Applies flags (--port 8080, --host ..., --models ..., --device ...,
 * --log-level ..., --threads ..., and generic --set key=value) over c.
 * Returns CD_OK, or CD_EINVAL with a message; *want_help set for --help. */
int cd_config_apply_args(struct cd_config *c, int argc, char **argv,
                         bool *want_help, struct cd_err *err);
/* Effective batching for a model: defaults merged with any override. */
struct cd_batch_cfg cd_config_batch_for(const struct cd_config *c,
                                        const char *model);
/* Writes the usage text with every key, its default and its bounds. */
void cd_config_usage(FILE *f);

#endif
