/* server.h — the daemon's shared state, handed to every route handler. */
#ifndef CD_SERVER_H
#define CD_SERVER_H

#include "batcher.h"
#include "config.h"
#include "http.h"
#include "registry.h"

struct cd_auth;
struct cd_tasks;

struct cd_server {
    struct cd_config cfg;
    struct cd_registry *reg;
    struct cd_batcher *batcher;
    struct cd_http *http;
    struct cd_auth *auth;        /* API keys (auth.h); no keys = open */
    struct cd_tasks *tasks;      /* model loads/unloads off the HTTP threads */
    double started_wall;         /* unix time, for process_start_time_seconds */
    volatile int stopping;       /* set on SIGTERM/SIGINT */
};

#endif
