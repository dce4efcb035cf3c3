/* http.c — the libmicrohttpd glue: starts the daemon (thread pool + epoll +
 * suspend/resume), builds a request object per HTTP request (method, raw
 * path, query, headers, body within the size limit), hands it to the router,
 * and turns stored answers into MHD responses, resuming suspended
 * connections. It is the only file that includes <microhttpd.h>; it knows
 * nothing of models or routes, and it never blocks in an MHD callback. */
#include "server/http.h"

#include "engine/err.h"
#include "server/backlog.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/routes.h"
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY_INITIAL (16u * 1024u)   /* first body buffer */
#define CD_HTTP_MAX_FIELDS 1024      /* headers, and query parameters, per request */
/* MHD's per-connection memory pool: the request line, headers and their
 * parsed records (10000 query parameters need ~0.5 MiB; larger requests get
 * MHD's own 414/431). Pages are touched only as a request uses them. */
#define CD_HTTP_CONN_MEMORY (1024u * 1024u)

struct kv {
    char *key, *value;
};

struct cd_http {
    struct MHD_Daemon *d;
    struct cd_server *srv;
    int port;
    int quiesced_fd;             /* returned by MHD_quiesce_daemon, closed at stop */
    int activated;               /* listening socket passed by systemd (fd 3) */
    atomic_int quiescing;
    atomic_int in_flight;
    pthread_mutex_t mu;          /* guards the deferred list */
    struct cd_http_req *deferred; /* suspended, not yet answered */
};

struct cd_http_req {
    struct cd_http *h;
    struct MHD_Connection *conn;
    pthread_mutex_t mu;          /* guards the answer and the flags below */
    atomic_int refs;             /* MHD holds one; a deferral holds one */
    double t0;
    char *method, *path;
    struct kv *hdr, *arg, *extra;
    int n_hdr, n_arg, n_extra;
    char *body;
    size_t body_len, body_cap, body_declared, discarded, bytes_in;
    bool started, counted, dispatched, too_large, too_many;
    /* answer: */
    bool responded, queued, suspended, defer_ref, on_list;
    int status;
    char *resp;
    size_t resp_len;
    char ctype[96];
    /* labels: */
    char model[128];
    int slot, batch;
    const char *endpoint;
    void *state;
    void (*state_free)(void *);
    struct cd_http_req *dnext, *dprev;   /* deferred list, under h->mu */
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void kv_free(struct kv *v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

static bool kv_add(struct kv **v, int *n, const char *key, const char *value)
{
    if (*n >= CD_HTTP_MAX_FIELDS)
        return false;
    struct kv *nv = realloc(*v, (size_t)(*n + 1) * sizeof **v);
    if (!nv)
        return false;
    *v = nv;
    nv[*n].key = strdup(key ? key : "");
    nv[*n].value = strdup(value ? value : "");
    if (!nv[*n].key || !nv[*n].value) {
        free(nv[*n].key);
        free(nv[*n].value);
        return false;
    }
    (*n)++;
    return true;
}

static void req_unref(struct cd_http_req *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    if (r->state_free)
        r->state_free(r->state);
    pthread_mutex_destroy(&r->mu);
    free(r->method);
    free(r->path);
    kv_free(r->hdr, r->n_hdr);
    kv_free(r->arg, r->n_arg);
    kv_free(r->extra, r->n_extra);
    free(r->body);
    free(r->resp);
    free(r);
}

/* ---- request accessors (http.h) ---- */

const char *cd_http_method(const struct cd_http_req *r) { return r->method ? r->method : ""; }
const char *cd_http_path(const struct cd_http_req *r) { return r->path ? r->path : "/"; }

const char *cd_http_query(const struct cd_http_req *r, const char *key)
{
    for (int i = 0; i < r->n_arg; i++)
        if (strcmp(r->arg[i].key, key) == 0)
            return r->arg[i].value;
    return NULL;
}

const char *cd_http_header(const struct cd_http_req *r, const char *name)
{
    for (int i = 0; i < r->n_hdr; i++)
        if (strcasecmp(r->hdr[i].key, name) == 0)
            return r->hdr[i].value;
    return NULL;
}

const void *cd_http_body(const struct cd_http_req *r, size_t *len)
{
    if (len)
        *len = r->body_len;
    return r->body ? r->body : "";
}

/* model NULL clears it; endpoint NULL keeps the router's label. */
void cd_http_set_labels(struct cd_http_req *r, const char *model,
                        int metrics_slot, const char *endpoint)
{
    snprintf(r->model, sizeof r->model, "%s", model ? model : "");
    r->slot = metrics_slot;
    if (endpoint)
        r->endpoint = endpoint;
}

void cd_http_set_batch(struct cd_http_req *r, int batch_size) { r->batch = batch_size; }

void cd_http_set_state(struct cd_http_req *r, void *state, void (*free_fn)(void *))
{
    r->state = state;
    r->state_free = free_fn;
}

void *cd_http_get_state(const struct cd_http_req *r) { return r->state; }

void cd_http_add_header(struct cd_http_req *r, const char *name, const char *value)
{
    pthread_mutex_lock(&r->mu);
    if (!r->responded)
        kv_add(&r->extra, &r->n_extra, name, value);
    pthread_mutex_unlock(&r->mu);
}

/* ---- answers ---- */

/* Stores the answer; resumes the connection if it is suspended. owner: the
 * call comes from the handler side (drops the deferral reference); the stop
 * path answers leftovers with owner = false. */
static void respond(struct cd_http_req *r, int status, const char *ctype,
                    void *body, size_t len, bool owner)
{
    bool resume = false, drop = false;
    pthread_mutex_lock(&r->mu);
    if (!r->responded) {
        r->responded = true;
        r->status = status;
        r->resp = body;
        r->resp_len = body ? len : 0;
        body = NULL;
        snprintf(r->ctype, sizeof r->ctype, "%s", ctype ? ctype : "application/octet-stream");
        resume = r->suspended;
        r->suspended = false;
        if (r->on_list) {
            struct cd_http *h = r->h;
            pthread_mutex_lock(&h->mu);
            if (r->dprev)
                r->dprev->dnext = r->dnext;
            else
                h->deferred = r->dnext;
            if (r->dnext)
                r->dnext->dprev = r->dprev;
            r->on_list = false;
            pthread_mutex_unlock(&h->mu);
        }
    }
    if (owner && r->defer_ref) {
        r->defer_ref = false;
        drop = true;
    }
    pthread_mutex_unlock(&r->mu);
    free(body);   /* a second answer: dropped */
    /* The connection stays suspended (and r->conn valid) until resumed. */
    if (resume)
        MHD_resume_connection(r->conn);
    if (drop)
        req_unref(r);
}

void cd_http_respond(struct cd_http_req *r, int status, const char *content_type,
                     void *body, size_t len)
{
    respond(r, status, content_type, body, len, true);
}

void cd_http_respond_json(struct cd_http_req *r, int status, json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(obj);
    if (!s) {
        cd_http_respond_error(r, 500, "could not encode the answer");
        return;
    }
    size_t n = strlen(s);
    s[n] = '\n';   /* json_dumps leaves room: replace the NUL, length n+1 */
    respond(r, status, "application/json", s, n + 1, true);
}

static char *error_body(int status, const char *msg, size_t *len)
{
    char clean[512];
    snprintf(clean, sizeof clean, "%s", msg);
    json_t *m = json_string(clean);
    if (!m) {   /* not UTF-8: keep ASCII only */
        for (char *p = clean; *p; p++)
            if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
                *p = '?';
        m = json_string(clean);
    }
    json_t *o = json_pack("{s:{s:i,s:o}}", "error", "code", status, "message",
                          m ? m : json_string(""));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        s = strdup("{\"error\":{\"code\":500,\"message\":\"out of memory\"}}");
    *len = 0;
    if (s) {   /* json_dumps leaves room: the NUL becomes a newline */
        *len = strlen(s);
        s[(*len)++] = '\n';
    }
    return s;
}

void cd_http_respond_error(struct cd_http_req *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len;
    char *body = error_body(status, msg, &len);
    respond(r, status, "application/json", body, len, true);
}

void cd_http_defer(struct cd_http_req *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->defer_ref && !r->responded) {
        r->defer_ref = true;
        atomic_fetch_add(&r->refs, 1);
    }
    pthread_mutex_unlock(&r->mu);
}

/* Turns the stored answer into an MHD response (MHD thread only). */
static enum MHD_Result queue_answer(struct cd_http_req *r, struct MHD_Connection *c)
{
    struct MHD_Response *resp;
    if (r->resp_len)
        resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
    else
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    if (r->resp_len)
        r->resp = NULL;   /* MHD frees it now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "convd");
    for (int i = 0; i < r->n_extra; i++)
        MHD_add_response_header(resp, r->extra[i].key, r->extra[i].value);
    if (atomic_load(&r->h->quiescing))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES)
        r->queued = true;
    return ok;
}

/* ---- MHD callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct cd_http_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->h = cls;
    r->conn = c;
    r->slot = -1;
    r->t0 = now_mono();
    atomic_init(&r->refs, 1);
    pthread_mutex_init(&r->mu, NULL);
    size_t n = strcspn(uri ? uri : "", "?#");
    r->path = strndup(uri ? uri : "", n);
    return r;
}

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
    struct cd_http_req *r = cls;
    bool ok = kind == MHD_HEADER_KIND ? kv_add(&r->hdr, &r->n_hdr, key, value)
                                      : kv_add(&r->arg, &r->n_arg, key, value);
    if (!ok) {   /* over CD_HTTP_MAX_FIELDS (or out of memory): refused below */
        r->too_many = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/* Answers at once from the MHD thread (no deferral). */
static enum MHD_Result answer_now(struct cd_http_req *r, struct MHD_Connection *c,
                                  int status, const char *msg)
{
    size_t len;
    char *body = error_body(status, msg, &len);
    respond(r, status, "application/json", body, len, true);
    return queue_answer(r, c);
}

static enum MHD_Result first_call(struct cd_http *h, struct cd_http_req *r,
                                  struct MHD_Connection *c, const char *method)
{
    r->started = true;
    r->counted = true;
    atomic_fetch_add(&h->in_flight, 1);
    r->method = strdup(method ? method : "");
    if (!r->path || !r->method)
        return MHD_NO;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect, r);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, r);
    if (atomic_load(&h->quiescing))
        return answer_now(r, c, 503, "the server is shutting down");
    if (r->too_many) {
        char msg[128];
        snprintf(msg, sizeof msg, "more than %d headers or query parameters",
                 CD_HTTP_MAX_FIELDS);
        return answer_now(r, c, 400, msg);
    }
    const char *cl = cd_http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && *cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno || *end || cl[0] == '-')
            return answer_now(r, c, 400, "invalid Content-Length");
        if (v > h->srv->cfg.max_body_bytes) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body of %llu bytes is over the limit of %zu bytes",
                     v, h->srv->cfg.max_body_bytes);
            return answer_now(r, c, 413, msg);
        }
        r->body_declared = (size_t)v;
    }
    return MHD_YES;
}

static enum MHD_Result take_body(struct cd_http *h, struct cd_http_req *r,
                                 const char *data, size_t *size)
{
    size_t n = *size, max = h->srv->cfg.max_body_bytes;
    *size = 0;
    r->bytes_in += n;
    /* MHD's timeout is per idle period: a slow drip never trips it. The
     * whole upload gets body_timeout_s; a slower sender is cut off. */
    if (h->srv->cfg.body_timeout_s > 0 &&
        now_mono() - r->t0 > (double)h->srv->cfg.body_timeout_s) {
        cd_log(CD_LOG_INFO, "http_slow_body", "bytes_in=%zu seconds=%d", r->bytes_in,
               h->srv->cfg.body_timeout_s);
        return MHD_NO;
    }
    if (r->too_large) {
        /* MHD cannot answer mid-upload: discard the rest and answer 413 at
         * the final call; a sender that goes on and on is cut off. */
        size_t cap = max > (1u << 20) ? max : (1u << 20);
        r->discarded += n;
        return r->discarded > cap ? MHD_NO : MHD_YES;
    }
    if (n > max || r->body_len > max - n) {
        r->too_large = true;
        free(r->body);
        r->body = NULL;
        r->body_len = r->body_cap = 0;
        return MHD_YES;
    }
    if (r->body_len + n > r->body_cap) {
        /* Geometric growth, so a declared length costs nothing until the
         * bytes arrive; never past the declared length or the limit. */
        size_t want = r->body_len + n, cap = r->body_cap ? r->body_cap : BODY_INITIAL;
        while (cap < want)
            cap = cap > max / 2 ? max : cap * 2;
        if (r->body_declared >= want && cap > r->body_declared)
            cap = r->body_declared;
        char *nb = realloc(r->body, cap + 1);
        if (!nb)
            return MHD_NO;
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return MHD_YES;
}

static void list_add(struct cd_http_req *r)
{
    struct cd_http *h = r->h;
    pthread_mutex_lock(&h->mu);
    r->dprev = NULL;
    r->dnext = h->deferred;
    if (h->deferred)
        h->deferred->dprev = r;
    h->deferred = r;
    r->on_list = true;
    pthread_mutex_unlock(&h->mu);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    struct cd_http *h = cls;
    struct cd_http_req *r = *con_cls;
    if (!r)
        return MHD_NO;   /* allocation failed in on_uri */
    if (!r->started)
        return first_call(h, r, c, method);
    if (r->queued) {             /* an early answer went out: drop the rest */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size)
        return take_body(h, r, upload_data, upload_data_size);

    if (!r->dispatched) {
        r->dispatched = true;
        if (r->too_large) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body is over the limit of %zu bytes",
                     h->srv->cfg.max_body_bytes);
            return answer_now(r, c, 413, msg);
        }
        cd_routes_dispatch(h->srv, r);
    }
    pthread_mutex_lock(&r->mu);
    if (r->responded) {
        pthread_mutex_unlock(&r->mu);
        return queue_answer(r, c);
    }
    if (r->defer_ref) {
        /* Under r->mu: a responder on another thread waits, then resumes. */
        r->suspended = true;
        list_add(r);
        MHD_suspend_connection(c);
        pthread_mutex_unlock(&r->mu);
        return MHD_YES;
    }
    pthread_mutex_unlock(&r->mu);
    return answer_now(r, c, 500, "the handler gave no answer");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct cd_http *h = cls;
    struct cd_http_req *r = *con_cls;
    *con_cls = NULL;
    if (!r)
        return;
    if (r->counted)
        atomic_fetch_sub(&h->in_flight, 1);
    if (r->started) {
        double secs = now_mono() - r->t0;
        int status = r->queued ? r->status : 499;   /* 499: client went away */
        size_t out = r->queued && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? r->resp_len : 0;
        char qp[256], qm[160];
        cd_log(CD_LOG_INFO, "request",
               "method=%s path=%s model=%s status=%d bytes_in=%zu bytes_out=%zu "
               "duration_ms=%.3f batch=%d",
               r->method ? r->method : "-", cd_log_quote(r->path ? r->path : "", qp, sizeof qp),
               r->model[0] ? cd_log_quote(r->model, qm, sizeof qm) : "-", status, r->bytes_in,
               out, secs * 1e3, r->batch);
        cd_metrics_request(r->slot, r->endpoint ? r->endpoint : "other", status, secs,
                           r->bytes_in, out);
    }
    req_unref(r);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512], q[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* What a client did wrong (or left) is routine: debug. */
    bool client = strstr(msg, "remote side") || strstr(msg, "Closing connection") ||
                  strstr(msg, "malformed") || strstr(msg, "timed out");
    cd_log(client ? CD_LOG_DEBUG : CD_LOG_WARN, "http_error", "msg=%s",
           cd_log_quote(msg, q, sizeof q));
}

/* ---- lifecycle ---- */

static int write_port_file(const char *path, int port)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* systemd socket activation: sockets passed from fd 3 on, for this pid.
 * Returns 3 when exactly one listening stream socket was passed, -1 when
 * none was (bind host:port), -2 with a message when what was passed cannot
 * be served. */
static int activated_fd(char *errbuf, size_t errlen)
{
    const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
    if (!fds || !pid)
        return -1;
    char *end;
    long p = strtol(pid, &end, 10);
    if (*end != '\0' || p != (long)getpid())
        return -1;
    long n = strtol(fds, &end, 10);
    if (*end != '\0' || n != 1) {
        snprintf(errbuf, errlen, "socket activation: LISTEN_FDS=%.16s, but convd serves "
                 "exactly one socket (one ListenStream= in convd.socket)", fds);
        return -2;
    }
    int listening = 0, type = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
        (len = sizeof type, getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len)) != 0 ||
        type != SOCK_STREAM) {
        snprintf(errbuf, errlen, "socket activation: fd 3 is not a listening stream socket");
        return -2;
    }
    /* Not for children (the OpenCL compiler's linker, say). */
    fcntl(3, F_SETFD, FD_CLOEXEC);
    return 3;
}

int cd_http_start(struct cd_http **out, struct cd_server *srv, char *errbuf, size_t errlen)
{
    *out = NULL;
    const struct cd_config *cfg = &srv->cfg;
    struct cd_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(errbuf, errlen, "out of memory");
        return CD_ENOMEM;
    }
    h->srv = srv;
    h->quiesced_fd = -1;
    pthread_mutex_init(&h->mu, NULL);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL
                                                                  : MHD_USE_AUTO;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *sa = NULL;
    int lfd = activated_fd(errbuf, errlen);
    if (lfd == -2)
        goto fail;
    h->activated = lfd >= 0;
    if (cfg->port < 0 || cfg->port > 65535) {
        snprintf(errbuf, errlen, "port: %d is not in 0..65535", cfg->port);
        goto fail;
    }
    if (lfd < 0) {
        memset(&a4, 0, sizeof a4);
        memset(&a6, 0, sizeof a6);
        if (inet_pton(AF_INET, cfg->host, &a4.sin_addr) == 1) {
            a4.sin_family = AF_INET;
            a4.sin_port = htons((uint16_t)cfg->port);
            sa = (struct sockaddr *)&a4;
        } else if (inet_pton(AF_INET6, cfg->host, &a6.sin6_addr) == 1) {
            a6.sin6_family = AF_INET6;
            a6.sin6_port = htons((uint16_t)cfg->port);
            sa = (struct sockaddr *)&a6;
            flags |= IN6_IS_ADDR_UNSPECIFIED(&a6.sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
        } else {
            snprintf(errbuf, errlen, "host: \"%s\" is not an IPv4 or IPv6 address", cfg->host);
            goto fail;
        }
    }
    unsigned threads = cfg->threads > 1 ? (unsigned)cfg->threads : 0;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, h},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h},
        {MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections > 0 ? cfg->max_connections : 1024, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s > 0 ? cfg->connection_timeout_s : 0, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip > 0 ? cfg->max_connections_per_ip : 0, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, CD_HTTP_CONN_MEMORY, NULL},
        {threads ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (lfd >= 0)
        h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h,
                                MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                MHD_OPTION_LISTEN_SOCKET, lfd,
                                MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    else
        h->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_access, h,
                                MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                MHD_OPTION_SOCK_ADDR, sa,
                                MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!h->d) {
        if (lfd >= 0)
            snprintf(errbuf, errlen, "cannot serve on the activated socket (fd 3)");
        else
            snprintf(errbuf, errlen, "cannot listen on %s port %d (in use, or not allowed?)",
                     cfg->host, cfg->port);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : cfg->port;
    if (cfg->port_file[0] && write_port_file(cfg->port_file, h->port) != 0) {
        snprintf(errbuf, errlen, "port_file: cannot write %s: %s", cfg->port_file,
                 strerror(errno));
        goto fail;
    }
    *out = h;
    return CD_OK;
fail:
    if (h->d)
        MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return CD_EIO;
}

int cd_http_port(const struct cd_http *h) { return h ? h->port : 0; }

void cd_http_quiesce(struct cd_http *h)
{
    if (!h || atomic_exchange(&h->quiescing, 1))
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd == MHD_INVALID_SOCKET)
        return;
    /* MHD stops accepting but the socket must stay open until stop; shut it
     * down so that new clients are refused instead of waiting in the
     * backlog, after answering the ones already waiting there with 503 (a
     * shutdown would reset them). Not a socket systemd passed: systemd
     * shares it and keeps it listening for the next instance, whose clients
     * wait in the backlog. */
    if (!h->activated) {
        int n = cd_backlog_refuse(fd, 256, 2.0);
        if (n > 0)
            cd_log(CD_LOG_INFO, "backlog_refused", "connections=%d", n);
        shutdown(fd, SHUT_RDWR);
    }
    h->quiesced_fd = fd;
}

int cd_http_in_flight(const struct cd_http *h)
{
    return h ? atomic_load(&((struct cd_http *)h)->in_flight) : 0;
}

void cd_http_stop(struct cd_http *h)
{
    if (!h)
        return;
    atomic_store(&h->quiescing, 1);
    /* MHD must not stop with suspended connections: answer leftovers. Their
     * owners still respond later (ignored) and drop their reference then. */
    int left = 0;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        struct cd_http_req *r = h->deferred;
        if (r)
            atomic_fetch_add(&r->refs, 1);
        pthread_mutex_unlock(&h->mu);
        if (!r)
            break;
        size_t len;
        char *body = error_body(503, "the server is shutting down", &len);
        respond(r, 503, "application/json", body, len, false);
        req_unref(r);
        left++;
    }
    if (left)
        cd_log(CD_LOG_WARN, "http_stop", "unanswered=%d", left);
    MHD_stop_daemon(h->d);
    if (h->quiesced_fd >= 0)
        close(h->quiesced_fd);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
