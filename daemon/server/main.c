/* main.c — the convd daemon's lifecycle: configuration, model registry,
 * batcher, HTTP server, signals. SIGTERM/SIGINT: stop accepting, answer
 * everything accepted, exit 0. SIGHUP: reload models. Request handling lives
 * in api_*.c; nothing here touches a request. */
#include "auth.h"
#include "batcher.h"
#include "config.h"
#include "engine/cl_program.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "registry.h"
#include "server.h"
#include "tasks.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_term, got_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_term = 1;
}

/* Empty cache_dir: $CACHE_DIRECTORY (systemd), else ~/.cache/convd. */
static void default_cache_dir(struct cd_config *c)
{
    if (c->cache_dir[0])
        return;
    const char *sd = getenv("CACHE_DIRECTORY");
    const char *home = getenv("HOME");
    if (sd && *sd)
        snprintf(c->cache_dir, sizeof c->cache_dir, "%s", sd);
    else if (home && *home)
        snprintf(c->cache_dir, sizeof c->cache_dir, "%s/.cache/convd", home);
}

/* mkdir -p DIR (mode 0700); 0 if DIR is then a directory we may write in,
 * else -1 with errno set. */
static int usable_dir(const char *dir)
{
    char p[1100];
    if (!dir || !*dir || strlen(dir) >= sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0700);
            *s = '/';
        }
    mkdir(p, 0700);
    return access(p, W_OK | X_OK);
}

/* POCL compiles kernels into shared objects under its own cache directory
 * ($POCL_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache/pocl) and finds no
 * device at all when it cannot write there, as under systemd's DynamicUser
 * with a read-only /. Unless the operator chose a directory, POCL's files go
 * to cache_dir/pocl when that is writable; otherwise POCL keeps its default
 * and the reason is logged. Called before any thread starts (setenv). */
static void setup_pocl_cache_dir(const struct cd_config *c)
{
    const char *set = getenv("POCL_CACHE_DIR");
    char dir[sizeof c->cache_dir + 8], q1[1200], q2[200];
    if (set && *set) {
        if (usable_dir(set) != 0)
            cd_log(CD_LOG_WARN, "pocl_cache_unwritable", "path=%s reason=%s effect=%s",
                   cd_log_quote(set, q1, sizeof q1), cd_log_quote(strerror(errno), q2, sizeof q2),
                   "\"POCL will report no OpenCL CPU device (POCL_CACHE_DIR)\"");
        return;
    }
    if (!c->cache_dir[0])
        return;
    snprintf(dir, sizeof dir, "%s/pocl", c->cache_dir);
    if (usable_dir(dir) == 0) {
        setenv("POCL_CACHE_DIR", dir, 1);
        return;
    }
    cd_log(CD_LOG_WARN, "pocl_cache_unwritable", "path=%s reason=%s effect=%s",
           cd_log_quote(dir, q1, sizeof q1), cd_log_quote(strerror(errno), q2, sizeof q2),
           "\"POCL keeps its default cache (~/.cache/pocl); if that is not writable "
           "either, it reports no OpenCL CPU device\"");
}

/* The kernel cache is optional: the first failed write (disk full, an
 * unwritable cache_dir) is logged once, and convd goes on without caching. */
static void log_cache_failure_once(void)
{
    static bool logged;
    char reason[512], q[600];
    if (logged || !cd_cl_program_cache_error(reason, sizeof reason))
        return;
    logged = true;
    cd_log(CD_LOG_WARN, "kernel_cache_unwritable", "reason=%s",
           cd_log_quote(reason, q, sizeof q));
}

static int load_config(struct cd_config *c, int argc, char **argv)
{
    struct cd_err err = { 0 };
    bool help = false;
    cd_config_defaults(c);
    const char *file = cd_config_find_file_arg(argc, argv);
    if (file && cd_config_load_file(c, file, &err) != CD_OK) {
        fprintf(stderr, "convd: %s\n", err.msg);
        return 2;
    }
    if (cd_config_apply_args(c, argc, argv, &help, &err) != CD_OK) {
        fprintf(stderr, "convd: %s\n", err.msg);
        return 2;
    }
    if (help) {
        cd_config_usage(stdout);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct cd_server srv;
    int rc = load_config(&srv.cfg, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    default_cache_dir(&srv.cfg);
    cd_log_set_level(cd_log_parse_level(srv.cfg.log_level));
    setup_pocl_cache_dir(&srv.cfg);
    struct cd_err auth_err = { 0 };
    if (cd_auth_init(&srv.auth, srv.cfg.api_keys_file, &auth_err) != CD_OK) {
        fprintf(stderr, "convd: %s\n", auth_err.msg);
        return 2;
    }
    static struct cd_notify notify;
    cd_notify_init(&notify);
    cd_metrics_init();
    srv.started_wall = (double)time(NULL);

    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char q1[1100], q2[160];
    cd_log(CD_LOG_INFO, "starting", "models_dir=%s device=%s pid=%d",
           cd_log_quote(srv.cfg.models_dir, q1, sizeof q1),
           cd_log_quote(srv.cfg.device, q2, sizeof q2), (int)getpid());

    struct cd_err err = { 0 };
    double t0 = cd_now();
    if (cd_batcher_init(&srv.batcher, &err) != CD_OK ||
        cd_tasks_init(&srv.tasks, &err) != CD_OK ||
        cd_registry_init(&srv.reg, &srv.cfg, &err) != CD_OK) {
        cd_log(CD_LOG_ERR, "start_failed", "reason=%s",
               cd_log_quote(err.msg, q1, sizeof q1));
        cd_tasks_free(srv.tasks);
        cd_registry_free(srv.reg);
        cd_batcher_free(srv.batcher);
        return 1;
    }
    int ready = 0, failed = 0;
    cd_registry_counts(srv.reg, &ready, &failed);
    cd_log(CD_LOG_INFO, "models_loaded", "ready=%d failed=%d load_ms=%.0f", ready,
           failed, (cd_now() - t0) * 1e3);

    char ebuf[512];
    if (cd_http_start(&srv.http, &srv, ebuf, sizeof ebuf) != CD_OK) {
        cd_log(CD_LOG_ERR, "start_failed", "reason=%s",
               cd_log_quote(ebuf, q1, sizeof q1));
        cd_tasks_free(srv.tasks);
        cd_registry_free(srv.reg);
        cd_batcher_free(srv.batcher);
        return 1;
    }
    cd_log(CD_LOG_INFO, "listening", "host=%s port=%d",
           cd_log_quote(srv.cfg.host, q2, sizeof q2), cd_http_port(srv.http));
    cd_notify_ready(&notify, ready, failed);

    while (!got_term) {
        if (got_hup) {
            got_hup = 0;
            cd_log(CD_LOG_INFO, "reload", "models_dir=%s",
                   cd_log_quote(srv.cfg.models_dir, q1, sizeof q1));
            cd_notify_reloading(&notify, 600.0);
            if (cd_registry_reload(srv.reg, cd_batcher_retire, srv.batcher, &err))
                cd_log(CD_LOG_ERR, "reload_failed", "reason=%s",
                       cd_log_quote(err.msg, q1, sizeof q1));
            cd_registry_counts(srv.reg, &ready, &failed);
            cd_log(CD_LOG_INFO, "reloaded", "ready=%d failed=%d", ready, failed);
            cd_notify_ready(&notify, ready, failed);
        }
        cd_notify_watchdog_tick(&notify, cd_now());
        log_cache_failure_once();
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }

    /* Quiesce: no new connections; everything accepted gets its answer. */
    srv.stopping = 1;
    cd_notify_stopping();
    cd_log(CD_LOG_INFO, "stopping", "in_flight=%d", cd_http_in_flight(srv.http));
    cd_http_quiesce(srv.http);
    cd_tasks_stop(srv.tasks);   /* a running model load finishes first */
    cd_batcher_stop(srv.batcher);
    double deadline = cd_now() + 10.0;
    while (cd_http_in_flight(srv.http) > 0 && cd_now() < deadline) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    cd_http_stop(srv.http);
    cd_batcher_free(srv.batcher);
    cd_registry_free(srv.reg);
    cd_tasks_free(srv.tasks);
    cd_auth_free(srv.auth);
    cd_log(CD_LOG_INFO, "stopped", "status=0");
    return 0;
}
