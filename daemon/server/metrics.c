/* metrics.c — process metrics held in C11 atomics and rendered in the
 * Prometheus text exposition format 0.0.4. Series tables are fixed arrays:
 * a new (model, endpoint, code) cell is created once under a mutex, after
 * which recording is lock-free. Recording must never allocate or block for
 * long; only cd_metrics_render allocates (the returned buffer). */
#include "server/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_CAP 128
#define ENDPOINT_CAP 32
#define NONE_SLOT CD_METRICS_MAX_MODELS          /* model="" */
#define N_SLOTS (CD_METRICS_MAX_MODELS + 1)
#define MAX_REQ_CELLS 1024
#define MAX_DUR_CELLS 256
#define MAX_BUCKETS 16

struct hist {
    _Atomic uint64_t bucket[MAX_BUCKETS + 1];  /* per bucket; last is +Inf */
    _Atomic uint64_t sum_bits;                 /* double, updated by CAS */
};

static const double dur_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25, 0.5, 1, 2.5, 5, 10};
#define N_DUR (sizeof dur_le / sizeof dur_le[0])
static const double batch_le[] = {1, 2, 4, 8, 16, 32, 64};
#define N_BATCH (sizeof batch_le / sizeof batch_le[0])
_Static_assert(N_DUR <= MAX_BUCKETS && N_BATCH <= MAX_BUCKETS, "buckets");

struct req_cell {        /* convd_requests_total{model,endpoint,code} */
    int slot, code;
    char endpoint[ENDPOINT_CAP];
    _Atomic uint64_t n;
};

struct dur_cell {        /* convd_request_duration_seconds{model,endpoint} */
    int slot;
    char endpoint[ENDPOINT_CAP];
    struct hist h;
};

struct slot {
    char name[NAME_CAP];
    struct hist queue_wait, inference, batch;
    _Atomic int64_t queue_depth;
    _Atomic uint64_t bytes_in, bytes_out;
};

static struct {
    pthread_mutex_t mu;                 /* guards creation of slots and cells */
    _Atomic int n_models;
    _Atomic bool none_used;             /* a request with model="" was seen */
    struct slot slots[N_SLOTS];
    _Atomic int n_req;
    struct req_cell req[MAX_REQ_CELLS];
    _Atomic int n_dur;
    struct dur_cell dur[MAX_DUR_CELLS];
    _Atomic int64_t models_loaded, models_failed;
    _Atomic uint64_t dropped;           /* events lost because a table was full */
    double start_time;
} M = {.mu = PTHREAD_MUTEX_INITIALIZER};

void cd_metrics_init(void)
{
    pthread_mutex_lock(&M.mu);
    atomic_store(&M.n_models, 0);
    atomic_store(&M.none_used, false);
    atomic_store(&M.n_req, 0);
    atomic_store(&M.n_dur, 0);
    memset(M.slots, 0, sizeof M.slots);
    memset(M.req, 0, sizeof M.req);
    memset(M.dur, 0, sizeof M.dur);
    atomic_store(&M.models_loaded, 0);
    atomic_store(&M.models_failed, 0);
    atomic_store(&M.dropped, 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    M.start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    pthread_mutex_unlock(&M.mu);
}

int cd_metrics_model(const char *name)
{
    if (!name)
        return -1;
    int n = atomic_load_explicit(&M.n_models, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (!strncmp(M.slots[i].name, name, NAME_CAP - 1))
            return i;
    pthread_mutex_lock(&M.mu);
    n = atomic_load(&M.n_models);
    int slot = -1;
    for (int i = 0; i < n; i++)
        if (!strncmp(M.slots[i].name, name, NAME_CAP - 1))
            slot = i;
    if (slot < 0 && n < CD_METRICS_MAX_MODELS) {
        snprintf(M.slots[n].name, NAME_CAP, "%s", name);
        slot = n;
        atomic_store_explicit(&M.n_models, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&M.mu);
    return slot;
}

/* A registered model's slot, or -1. */
static int model_slot(int s)
{
    return s >= 0 && s < atomic_load_explicit(&M.n_models, memory_order_acquire)
               ? s : -1;
}

static void add_double(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed), nw;
    do {
        double d;
        memcpy(&d, &old, sizeof d);
        d += v;
        memcpy(&nw, &d, sizeof nw);
    } while (!atomic_compare_exchange_weak_explicit(
        bits, &old, nw, memory_order_relaxed, memory_order_relaxed));
}

static void hist_observe(struct hist *h, const double *le, size_t n_le, double v)
{
    if (!(v >= 0))      /* NaN or negative: clamp, never poison the sum */
        v = 0;
    size_t i = 0;
    while (i < n_le && v > le[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    add_double(&h->sum_bits, v);
}

static struct req_cell *req_cell(int slot, const char *endpoint, int code)
{
    int n = atomic_load_explicit(&M.n_req, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        struct req_cell *c = &M.req[i];
        if (c->slot == slot && c->code == code &&
            !strncmp(c->endpoint, endpoint, ENDPOINT_CAP - 1))
            return c;
    }
    struct req_cell *found = NULL;
    pthread_mutex_lock(&M.mu);
    n = atomic_load(&M.n_req);
    for (int i = 0; i < n && !found; i++) {
        struct req_cell *c = &M.req[i];
        if (c->slot == slot && c->code == code &&
            !strncmp(c->endpoint, endpoint, ENDPOINT_CAP - 1))
            found = c;
    }
    if (!found && n < MAX_REQ_CELLS) {
        found = &M.req[n];
        found->slot = slot;
        found->code = code;
        snprintf(found->endpoint, ENDPOINT_CAP, "%s", endpoint);
        atomic_store(&found->n, 0);
        atomic_store_explicit(&M.n_req, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&M.mu);
    return found;
}

static struct dur_cell *dur_cell(int slot, const char *endpoint)
{
    int n = atomic_load_explicit(&M.n_dur, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (M.dur[i].slot == slot &&
            !strncmp(M.dur[i].endpoint, endpoint, ENDPOINT_CAP - 1))
            return &M.dur[i];
    struct dur_cell *found = NULL;
    pthread_mutex_lock(&M.mu);
    n = atomic_load(&M.n_dur);
    for (int i = 0; i < n && !found; i++)
        if (M.dur[i].slot == slot &&
            !strncmp(M.dur[i].endpoint, endpoint, ENDPOINT_CAP - 1))
            found = &M.dur[i];
    if (!found && n < MAX_DUR_CELLS) {
        found = &M.dur[n];
        memset(found, 0, sizeof *found);
        found->slot = slot;
        snprintf(found->endpoint, ENDPOINT_CAP, "%s", endpoint);
        atomic_store_explicit(&M.n_dur, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&M.mu);
    return found;
}

void cd_metrics_request(int slot, const char *endpoint, int status,
                        double seconds, size_t bytes_in, size_t bytes_out)
{
    int s = model_slot(slot);
    if (s < 0) {
        s = NONE_SLOT;
        atomic_store_explicit(&M.none_used, true, memory_order_relaxed);
    }
    if (!endpoint)
        endpoint = "";
    struct req_cell *rc = req_cell(s, endpoint, status);
    if (rc)
        atomic_fetch_add_explicit(&rc->n, 1, memory_order_relaxed);
    struct dur_cell *dc = dur_cell(s, endpoint);
    if (dc)
        hist_observe(&dc->h, dur_le, N_DUR, seconds);
    if (!rc || !dc)
        atomic_fetch_add_explicit(&M.dropped, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.slots[s].bytes_in, bytes_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&M.slots[s].bytes_out, bytes_out, memory_order_relaxed);
}

void cd_metrics_queue_wait(int slot, double seconds)
{
    int s = model_slot(slot);
    if (s >= 0)
        hist_observe(&M.slots[s].queue_wait, dur_le, N_DUR, seconds);
}

void cd_metrics_batch(int slot, int batch_size, double inference_seconds)
{
    int s = model_slot(slot);
    if (s < 0)
        return;
    hist_observe(&M.slots[s].batch, batch_le, N_BATCH, (double)batch_size);
    hist_observe(&M.slots[s].inference, dur_le, N_DUR, inference_seconds);
}

void cd_metrics_queue_depth(int slot, int delta)
{
    int s = model_slot(slot);
    if (s >= 0)
        atomic_fetch_add_explicit(&M.slots[s].queue_depth, delta,
                                  memory_order_relaxed);
}

void cd_metrics_models(int loaded, int failed)
{
    atomic_store(&M.models_loaded, loaded);
    atomic_store(&M.models_failed, failed);
}

/* ---- rendering ---------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t need = b->len + (size_t)n + 1;
        size_t ncap = b->cap * 2 > need ? b->cap * 2 : need;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

/* Escapes a label value: backslash, double quote and line feed. */
static const char *esc(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 3 < cap; s++) {
        if (*s == '\\' || *s == '"') {
            out[o++] = '\\';
            out[o++] = *s;
        } else if (*s == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

/* Shortest text that reads back as the same double (Go/Python style). */
static const char *fmt_double(double v, char *out, size_t cap)
{
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    if (isnan(v))
        return "NaN";
    if (v == floor(v) && fabs(v) < 1e15) {     /* integers without exponent */
        snprintf(out, cap, "%.0f", v);
        return out;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return out;
}

static void family(struct sbuf *b, const char *name, const char *type,
                   const char *help)
{
    sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* labels is the already-formatted "model=\"m\"" or "model=\"m\",endpoint=..." */
static void hist_render(struct sbuf *b, const char *name, const char *labels,
                        const struct hist *h, const double *le, size_t n_le)
{
    uint64_t cum = 0;
    char num[40];
    for (size_t i = 0; i <= n_le; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        sb_printf(b, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels,
                  i < n_le ? fmt_double(le[i], num, sizeof num) : "+Inf",
                  (unsigned long long)cum);
    }
    uint64_t bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    double sum;
    memcpy(&sum, &bits, sizeof sum);
    sb_printf(b, "%s_sum{%s} %s\n", name, labels, fmt_double(sum, num, sizeof num));
    sb_printf(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
}

static const char *slot_name(int s)
{
    return s == NONE_SLOT ? "" : M.slots[s].name;
}

char *cd_metrics_render(size_t *len)
{
    struct sbuf b = {.cap = 16384};
    b.p = malloc(b.cap);
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    char e1[2 * NAME_CAP + 4], e2[2 * ENDPOINT_CAP + 4];
    char labels[sizeof e1 + sizeof e2 + 32];
    char num[40];

    int n_models = atomic_load_explicit(&M.n_models, memory_order_acquire);
    int n_req = atomic_load_explicit(&M.n_req, memory_order_acquire);
    int n_dur = atomic_load_explicit(&M.n_dur, memory_order_acquire);
    bool none_used = atomic_load(&M.none_used);

    family(&b, "convd_requests_total", "counter",
           "Answered HTTP requests by model, endpoint and status code.");
    for (int i = 0; i < n_req; i++) {
        const struct req_cell *c = &M.req[i];
        sb_printf(&b, "convd_requests_total{model=\"%s\",endpoint=\"%s\",code=\"%d\"} %llu\n",
                  esc(slot_name(c->slot), e1, sizeof e1),
                  esc(c->endpoint, e2, sizeof e2), c->code,
                  (unsigned long long)atomic_load(&c->n));
    }

    family(&b, "convd_request_duration_seconds", "histogram",
           "Time from request arrival to answer, in seconds.");
    for (int i = 0; i < n_dur; i++) {
        const struct dur_cell *c = &M.dur[i];
        snprintf(labels, sizeof labels, "model=\"%s\",endpoint=\"%s\"",
                 esc(slot_name(c->slot), e1, sizeof e1),
                 esc(c->endpoint, e2, sizeof e2));
        hist_render(&b, "convd_request_duration_seconds", labels, &c->h,
                    dur_le, N_DUR);
    }

    static const struct {
        const char *name, *help;
        size_t off;
        const double *le;
        size_t n_le;
    } hists[] = {
        {"convd_queue_wait_seconds", "Time a job waited in its model's queue, in seconds.",
         offsetof(struct slot, queue_wait), dur_le, N_DUR},
        {"convd_inference_duration_seconds", "Time one batch took on the device, in seconds.",
         offsetof(struct slot, inference), dur_le, N_DUR},
        {"convd_batch_size", "Jobs per batch run on the device.",
         offsetof(struct slot, batch), batch_le, N_BATCH},
    };
    for (size_t k = 0; k < sizeof hists / sizeof hists[0]; k++) {
        family(&b, hists[k].name, "histogram", hists[k].help);
        for (int s = 0; s < n_models; s++) {
            snprintf(labels, sizeof labels, "model=\"%s\"",
                     esc(M.slots[s].name, e1, sizeof e1));
            const struct hist *h =
                (const struct hist *)((const char *)&M.slots[s] + hists[k].off);
            hist_render(&b, hists[k].name, labels, h, hists[k].le, hists[k].n_le);
        }
    }

    family(&b, "convd_queue_depth", "gauge", "Jobs waiting in the model's queue.");
    for (int s = 0; s < n_models; s++)
        sb_printf(&b, "convd_queue_depth{model=\"%s\"} %lld\n",
                  esc(M.slots[s].name, e1, sizeof e1),
                  (long long)atomic_load(&M.slots[s].queue_depth));

    static const struct {
        const char *name, *help;
        bool in;
    } bytes[] = {
        {"convd_request_bytes_total", "Request body bytes received.", true},
        {"convd_response_bytes_total", "Response body bytes sent.", false},
    };
    for (size_t k = 0; k < 2; k++) {
        family(&b, bytes[k].name, "counter", bytes[k].help);
        for (int s = 0; s < N_SLOTS; s++) {
            if (s >= n_models && !(s == NONE_SLOT && none_used))
                continue;
            const struct slot *sl = &M.slots[s];
            sb_printf(&b, "%s{model=\"%s\"} %llu\n", bytes[k].name,
                      esc(slot_name(s), e1, sizeof e1),
                      (unsigned long long)atomic_load(bytes[k].in ? &sl->bytes_in
                                                                  : &sl->bytes_out));
        }
    }

    family(&b, "convd_models_loaded", "gauge", "Models loaded and ready to serve.");
    sb_printf(&b, "convd_models_loaded %lld\n", (long long)atomic_load(&M.models_loaded));
    family(&b, "convd_models_failed", "gauge", "Models that failed to load.");
    sb_printf(&b, "convd_models_failed %lld\n", (long long)atomic_load(&M.models_failed));
    family(&b, "convd_metrics_dropped_total", "counter",
           "Events not recorded because a metrics table was full.");
    sb_printf(&b, "convd_metrics_dropped_total %llu\n",
              (unsigned long long)atomic_load(&M.dropped));
    family(&b, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
    snprintf(num, sizeof num, "%.3f", M.start_time);
    sb_printf(&b, "process_start_time_seconds %s\n", num);

    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}
