/* poisson.c — open-loop HTTP load generator: POSTs one body to one URL on a
 * fixed Poisson schedule (exponential gaps at --rate per second, seeded),
 * whatever the server's answers are doing, so queueing delay shows up in the
 * latencies instead of being hidden by a closed loop. Latency is measured
 * from each request's SCHEDULED send time to its full response; a request
 * waiting for a free connection keeps its clock running. Keep-alive
 * HTTP/1.1 over up to --conns loopback connections, opened on demand.
 * Bounded: --duration seconds of schedule (and at most --count requests),
 * then at most --drain seconds for stragglers (counted as timeouts).
 *
 *   poisson --port P --path /v1/models/M/classify --body FILE
 *           [--host 127.0.0.1] [--type image/png] [--rate 20] [--duration 10]
 *           [--count N] [--conns 64] [--drain 10] [--seed 1]
 *
 * Prints one line:
 *   RESULT scheduled=N completed=N ok=N errors=N timeouts=N offered_rps=R
 *          achieved_rps=R p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. mean_ms=..
 * (latencies over the 2xx answers). Exit 0 when the run completed (whatever
 * the server answered), 2 on bad arguments, 1 on a local failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_REQUESTS 1000000

struct args {
    const char *host, *path, *body_file, *type;
    int port, conns, count;
    double rate, duration, drain;
    unsigned long long seed;
};

enum conn_state { C_CLOSED, C_CONNECTING, C_IDLE, C_SENDING, C_RECEIVING };

struct conn {
    int fd;
    enum conn_state st;
    int req;            /* request index in flight, -1 if none */
    size_t sent;        /* bytes of the request written */
    char *buf;          /* response bytes so far */
    size_t len, cap;
};

struct run {
    const struct args *a;
    char *req;          /* full request: header + body */
    size_t req_len;
    double *sched;      /* scheduled send times, seconds from start */
    double *lat;        /* latency of each 2xx answer */
    int n_sched, next_sched, n_lat;
    int *pending;       /* FIFO of due requests waiting for a connection */
    int p_head, p_tail;
    int completed, ok, errors;
    struct conn c[MAX_CONNS];
    struct sockaddr_in addr;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* splitmix64: a small seeded generator, so runs are reproducible. */
static double uniform01(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    *a = (struct args){ .host = "127.0.0.1", .type = "image/png", .conns = 64,
                        .count = MAX_REQUESTS, .rate = 20, .duration = 10,
                        .drain = 10, .seed = 1 };
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (!v) {
            fprintf(stderr, "poisson: %s needs a value\n", k);
            return 0;
        }
        i++;
        if (!strcmp(k, "--host"))
            a->host = v;
        else if (!strcmp(k, "--path"))
            a->path = v;
        else if (!strcmp(k, "--body"))
            a->body_file = v;
        else if (!strcmp(k, "--type"))
            a->type = v;
        else if (!strcmp(k, "--port") && parse_num(v, 1, 65535, &d))
            a->port = (int)d;
        else if (!strcmp(k, "--conns") && parse_num(v, 1, MAX_CONNS, &d))
            a->conns = (int)d;
        else if (!strcmp(k, "--count") && parse_num(v, 1, MAX_REQUESTS, &d))
            a->count = (int)d;
        else if (!strcmp(k, "--rate") && parse_num(v, 0.01, 1e6, &d))
            a->rate = d;
        else if (!strcmp(k, "--duration") && parse_num(v, 0.01, 3600, &d))
            a->duration = d;
        else if (!strcmp(k, "--drain") && parse_num(v, 0, 600, &d))
            a->drain = d;
        else if (!strcmp(k, "--seed") && parse_num(v, 0, 1e18, &d))
            a->seed = (unsigned long long)d;
        else {
            fprintf(stderr, "poisson: unknown option or bad value: %s %s\n", k, v);
            return 0;
        }
    }
    if (!a->port || !a->path || !a->body_file || a->path[0] != '/') {
        fprintf(stderr, "usage: poisson --port P --path /URL/PATH --body FILE [--host H]"
                        " [--type T] [--rate R] [--duration S] [--count N] [--conns C]"
                        " [--drain S] [--seed N]\n");
        return 0;
    }
    return 1;
}

static int build_request(struct run *r)
{
    FILE *f = fopen(r->a->body_file, "rb");
    if (!f) {
        fprintf(stderr, "poisson: cannot open %s: %s\n", r->a->body_file, strerror(errno));
        return 0;
    }
    struct stat st;
    if (fstat(fileno(f), &st) || st.st_size <= 0 || st.st_size > (64 << 20)) {
        fprintf(stderr, "poisson: %s: empty, unreadable or over 64 MB\n", r->a->body_file);
        fclose(f);
        return 0;
    }
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\n"
                      "Content-Length: %lld\r\nConnection: keep-alive\r\n\r\n",
                      r->a->path, r->a->host, r->a->port, r->a->type,
                      (long long)st.st_size);
    if (hn <= 0 || (size_t)hn >= sizeof head) {
        fprintf(stderr, "poisson: request header too long\n");
        fclose(f);
        return 0;
    }
    r->req_len = (size_t)hn + (size_t)st.st_size;
    r->req = malloc(r->req_len);
    if (!r->req || fread(r->req + hn, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "poisson: cannot read %s\n", r->a->body_file);
        fclose(f);
        return 0;
    }
    memcpy(r->req, head, (size_t)hn);
    fclose(f);
    return 1;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->st = C_CLOSED;
    c->len = 0;
    c->sent = 0;
}

static int conn_open(struct run *r, struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return 0;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&r->addr, sizeof r->addr) == 0) {
        c->st = C_SENDING;
        return 1;
    }
    if (errno == EINPROGRESS) {
        c->st = C_CONNECTING;
        return 1;
    }
    conn_close(c);
    return 0;
}

static void finish_request(struct run *r, struct conn *c, int status, double t)
{
    r->completed++;
    if (status >= 200 && status < 300) {
        r->ok++;
        r->lat[r->n_lat++] = t - r->sched[c->req];
    } else {
        r->errors++;
    }
    c->req = -1;
}

/* A failed connection: its request counts as an error; the slot reopens. */
static void conn_fail(struct run *r, struct conn *c, double t)
{
    if (c->req >= 0)
        finish_request(r, c, 0, t);
    conn_close(c);
}

/* Parses the response in c->buf. Returns 1 when complete (status set,
 * *close_after when the server asked to close), 0 when more bytes are
 * needed, -1 on a malformed or unsupported answer. */
static int parse_response(struct conn *c, int *status, int *close_after)
{
    char *end = NULL;
    for (size_t i = 3; i < c->len; i++)
        if (c->buf[i - 3] == '\r' && c->buf[i - 2] == '\n' && c->buf[i - 1] == '\r' &&
            c->buf[i] == '\n') {
            end = c->buf + i + 1;
            break;
        }
    if (!end)
        return c->len > 65536 ? -1 : 0;
    if (c->len < 12 || strncmp(c->buf, "HTTP/1.", 7))
        return -1;
    *status = atoi(c->buf + 9);
    long long clen = -1;
    *close_after = 0;
    for (char *p = c->buf; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        if (!strncasecmp(p, "Content-Length:", 15))
            clen = atoll(p + 15);
        else if (!strncasecmp(p, "Connection:", 11) && memmem(p, (size_t)(nl - p), "close", 5))
            *close_after = 1;
        else if (!strncasecmp(p, "Transfer-Encoding:", 18))
            return -1; /* chunked answers are not supported */
        p = nl + 1;
    }
    if (clen < 0)
        return -1;
    size_t need = (size_t)(end - c->buf) + (size_t)clen;
    if (c->len < need)
        return 0;
    return c->len == need ? 1 : -1; /* no pipelining: extra bytes are a fault */
}

static int on_readable(struct run *r, struct conn *c, double t)
{
    for (;;) {
        if (c->cap - c->len < 4096) {
            size_t cap = c->cap ? c->cap * 2 : 16384;
            char *nb = realloc(c->buf, cap);
            if (!nb)
                return 0;
            c->buf = nb;
            c->cap = cap;
        }
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        conn_fail(r, c, t); /* closed or reset */
        return 1;
    }
    int status, close_after;
    int p = parse_response(c, &status, &close_after);
    if (p < 0) {
        conn_fail(r, c, t);
    } else if (p > 0) {
        finish_request(r, c, status, t);
        c->len = 0;
        if (close_after)
            conn_close(c);
        else
            c->st = C_IDLE;
    }
    return 1;
}

static void on_writable(struct run *r, struct conn *c, double t)
{
    if (c->st == C_CONNECTING) {
        int e = 0;
        socklen_t el = sizeof e;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) || e) {
            conn_fail(r, c, t);
            return;
        }
        c->st = C_SENDING;
    }
    while (c->sent < r->req_len) {
        ssize_t n = send(c->fd, r->req + c->sent, r->req_len - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        conn_fail(r, c, t);
        return;
    }
    c->st = C_RECEIVING;
}

/* Hands due requests to idle (or new) connections. */
static void dispatch(struct run *r)
{
    for (int i = 0; i < r->a->conns && r->p_head < r->p_tail; i++) {
        struct conn *c = &r->c[i];
        if (c->st == C_CLOSED && !conn_open(r, c))
            continue;
        if (c->st != C_IDLE && !(c->st == C_SENDING && c->req < 0) &&
            !(c->st == C_CONNECTING && c->req < 0))
            continue;
        c->req = r->pending[r->p_head++];
        c->sent = 0;
        c->len = 0;
        if (c->st == C_IDLE)
            c->st = C_SENDING;
    }
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double pct(const double *v, int n, double p)
{
    if (n <= 0)
        return 0.0;
    int i = (int)ceil(p / 100.0 * n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

int main(int argc, char **argv)
{
    struct args a;
    if (!parse_args(argc, argv, &a))
        return 2;
    static struct run r;
    r.a = &a;
    r.addr.sin_family = AF_INET;
    r.addr.sin_port = htons((uint16_t)a.port);
    if (inet_pton(AF_INET, a.host, &r.addr.sin_addr) != 1) {
        fprintf(stderr, "poisson: --host must be an IPv4 address, got %s\n", a.host);
        return 2;
    }
    if (!build_request(&r))
        return 1;
    /* the schedule: exponential gaps, until duration or count */
    double est = a.rate * a.duration * 1.5 + 64;
    int cap = est < a.count ? (int)est : a.count;
    r.sched = malloc((size_t)cap * sizeof *r.sched);
    r.lat = malloc((size_t)cap * sizeof *r.lat);
    r.pending = malloc((size_t)cap * sizeof *r.pending);
    if (!r.sched || !r.lat || !r.pending) {
        fprintf(stderr, "poisson: out of memory\n");
        return 1;
    }
    unsigned long long seed = a.seed;
    double t = 0.0;
    for (;;) {
        t += -log(uniform01(&seed)) / a.rate;
        if (t > a.duration || r.n_sched >= cap)
            break;
        r.sched[r.n_sched++] = t;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        r.c[i] = (struct conn){ .fd = -1, .req = -1 };

    double t0 = now_s(), deadline = -1.0;
    struct pollfd pfd[MAX_CONNS];
    int map[MAX_CONNS];
    for (;;) {
        double now = now_s() - t0;
        while (r.next_sched < r.n_sched && r.sched[r.next_sched] <= now)
            r.pending[r.p_tail++] = r.next_sched++;
        dispatch(&r);
        int in_flight = r.p_tail - r.p_head;
        int np = 0;
        for (int i = 0; i < a.conns; i++) {
            struct conn *c = &r.c[i];
            if (c->req >= 0)
                in_flight++;
            if (c->fd < 0)
                continue;
            short ev = 0;
            if (c->st == C_CONNECTING || (c->st == C_SENDING && c->req >= 0))
                ev = POLLOUT;
            else if (c->st == C_RECEIVING || c->st == C_IDLE)
                ev = POLLIN;
            if (!ev)
                continue;
            pfd[np] = (struct pollfd){ .fd = c->fd, .events = ev };
            map[np++] = i;
        }
        if (r.next_sched >= r.n_sched) {
            if (in_flight == 0)
                break;
            if (deadline < 0)
                deadline = now + a.drain;
            if (now >= deadline)
                break;
        }
        double wait = deadline >= 0 ? deadline - now : 0.1;
        if (r.next_sched < r.n_sched)
            wait = r.sched[r.next_sched] - now;
        int ms = wait <= 0 ? 0 : wait > 0.1 ? 100 : (int)ceil(wait * 1e3);
        int n = poll(pfd, (nfds_t)np, ms);
        if (n < 0 && errno != EINTR) {
            perror("poisson: poll");
            return 1;
        }
        double tn = now_s() - t0;
        for (int k = 0; n > 0 && k < np; k++) {
            struct conn *c = &r.c[map[k]];
            if (!pfd[k].revents)
                continue;
            if (pfd[k].revents & POLLOUT)
                on_writable(&r, c, tn);
            else if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (c->st == C_IDLE) {
                    conn_close(c); /* the server closed a keep-alive connection */
                    continue;
                }
                if (!on_readable(&r, c, tn)) {
                    fprintf(stderr, "poisson: out of memory\n");
                    return 1;
                }
            }
        }
    }
    double elapsed = now_s() - t0;
    int timeouts = r.n_sched - r.completed;
    for (int i = 0; i < MAX_CONNS; i++)
        if (r.c[i].fd >= 0)
            close(r.c[i].fd);
    qsort(r.lat, (size_t)r.n_lat, sizeof *r.lat, cmp_double);
    double sum = 0.0;
    for (int i = 0; i < r.n_lat; i++)
        sum += r.lat[i];
    printf("RESULT scheduled=%d completed=%d ok=%d errors=%d timeouts=%d offered_rps=%.2f "
           "achieved_rps=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f\n",
           r.n_sched, r.completed, r.ok, r.errors, timeouts, a.rate,
           elapsed > 0 ? r.ok / elapsed : 0.0,
           pct(r.lat, r.n_lat, 50) * 1e3, pct(r.lat, r.n_lat, 90) * 1e3,
           pct(r.lat, r.n_lat, 99) * 1e3, r.n_lat ? r.lat[r.n_lat - 1] * 1e3 : 0.0,
           r.n_lat ? sum / r.n_lat * 1e3 : 0.0);
    free(r.req);
    free(r.sched);
    free(r.lat);
    free(r.pending);
    for (int i = 0; i < MAX_CONNS; i++)
        free(r.c[i].buf);
    return 0;
}
