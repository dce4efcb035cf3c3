/* test_http.c — the HTTP layer (daemon/server/http.c) on a real loopback
 * socket with test-local routing (this file defines cd_routes_dispatch, so
 * routes.o is not linked): synchronous, deferred and racing answers, the JSON
 * error shape, 413 on Content-Length and on chunked bodies, 50 concurrent
 * deferred requests, a client leaving before its deferred answer, quiesce,
 * the port file and systemd socket activation. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/http.h"
#include "server/log.h"
#include "server/routes.h"
#include "server/server.h"

#define BODY_LIMIT 65536

static struct cd_server srv;
static atomic_int responders;       /* helper threads still running */
static atomic_int late_answers;     /* answers given after a client left */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- test-local routing ---- */

struct later {
    struct cd_http_req *r;
    int delay_ms;
    bool count_late;
};

static void *answer_later(void *arg)
{
    struct later *l = arg;
    if (l->delay_ms)
        sleep_ms(l->delay_ms);
    cd_http_add_header(l->r, "X-Deferred", "1");
    char *b = strdup("deferred");
    cd_http_respond(l->r, 200, "text/plain", b, strlen(b));
    if (l->count_late)
        atomic_fetch_add(&late_answers, 1);
    free(l);
    atomic_fetch_sub(&responders, 1);
    return NULL;
}

static void defer_to_thread(struct cd_http_req *r, int delay_ms, bool count_late)
{
    struct later *l = malloc(sizeof *l);
    *l = (struct later){r, delay_ms, count_late};
    cd_http_defer(r);
    atomic_fetch_add(&responders, 1);
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    ck_assert_int_eq(pthread_create(&t, &at, answer_later, l), 0);
    pthread_attr_destroy(&at);
}

static void free_state(void *p) { free(p); }

void cd_routes_dispatch(struct cd_server *s, struct cd_http_req *r)
{
    const char *path = cd_http_path(r), *m = cd_http_method(r);
    cd_http_set_labels(r, "tiny", -1, "test");
    if (!strcmp(path, "/sync") && !strcmp(m, "GET")) {
        const char *q = cd_http_query(r, "q");
        char buf[128];
        int n = snprintf(buf, sizeof buf, "sync q=%s ua=%s", q ? q : "-",
                         cd_http_header(r, "user-agent") ? cd_http_header(r, "user-agent") : "-");
        cd_http_add_header(r, "X-Test", "yes");
        cd_http_set_state(r, strdup("state"), free_state);
        cd_http_respond(r, 200, "text/plain", strdup(buf), (size_t)n);
    } else if (!strcmp(path, "/deferred")) {
        defer_to_thread(r, 50, false);
    } else if (!strcmp(path, "/race")) {
        defer_to_thread(r, 0, false);
    } else if (!strcmp(path, "/slow")) {
        defer_to_thread(r, 300, true);
    } else if (!strcmp(path, "/echo") && !strcmp(m, "POST")) {
        size_t len;
        const unsigned char *b = cd_http_body(r, &len);
        unsigned sum = 0;
        for (size_t i = 0; i < len; i++)
            sum += b[i];
        cd_http_respond_json(r, 200, json_pack("{s:I,s:I}", "len", (json_int_t)len, "sum",
                                               (json_int_t)sum));
    } else if (!strcmp(path, "/error")) {
        cd_http_respond_error(r, 418, "tea \"pot\"\n%d", 7);
    } else {
        cd_http_respond_error(r, 404, "no route %s", path);
    }
}

/* ---- server and a tiny socket client ---- */

static void start_server(void)
{
    memset(&srv, 0, sizeof srv);
    snprintf(srv.cfg.host, sizeof srv.cfg.host, "127.0.0.1");
    srv.cfg.port = 0;
    srv.cfg.threads = 4;
    srv.cfg.max_connections = 512;
    srv.cfg.connection_timeout_s = 10;
    srv.cfg.max_body_bytes = BODY_LIMIT;
    cd_log_set_level(CD_LOG_WARN);
    char ebuf[256];
    ck_assert_int_eq(cd_http_start(&srv.http, &srv, ebuf, sizeof ebuf), 0);
    ck_assert_int_gt(cd_http_port(srv.http), 0);
}

static void wait_idle(void)
{
    for (int i = 0; i < 300 && (atomic_load(&responders) || cd_http_in_flight(srv.http)); i++)
        sleep_ms(10);
    ck_assert_int_eq(atomic_load(&responders), 0);
    ck_assert_int_eq(cd_http_in_flight(srv.http), 0);
}

static void stop_server(void)
{
    wait_idle();
    cd_http_stop(srv.http);
    srv.http = NULL;
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until the server closes; returns the status, fills body/headers. */
static int read_reply(int fd, char *buf, size_t cap, const char **body)
{
    size_t n = 0;
    ssize_t got;
    while (n + 1 < cap && (got = recv(fd, buf + n, cap - 1 - n, 0)) > 0)
        n += (size_t)got;
    buf[n] = '\0';
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    char *b = strstr(buf, "\r\n\r\n");
    *body = b ? b + 4 : "";
    return status;
}

static int request(const char *raw, char *buf, size_t cap, const char **body)
{
    int fd = connect_port(cd_http_port(srv.http));
    ck_assert(fd >= 0);
    ck_assert_int_eq(send_all(fd, raw, strlen(raw)), 0);
    int st = read_reply(fd, buf, cap, body);
    close(fd);
    return st;
}

static void check_error_json(const char *body, int code)
{
    json_error_t je;
    json_t *o = json_loads(body, 0, &je);
    ck_assert_msg(o != NULL, "not JSON: %s", body);
    json_t *e = json_object_get(o, "error");
    ck_assert(json_is_object(e));
    ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), code);
    ck_assert(json_is_string(json_object_get(e, "message")));
    json_decref(o);
}

/* ---- tests ---- */

START_TEST(sync_and_errors)
{
    start_server();
    char buf[4096];
    const char *body;
    int st = request("GET /sync?q=a%20b&x HTTP/1.1\r\nHost: x\r\nUser-Agent: t1\r\n"
                     "Connection: close\r\n\r\n", buf, sizeof buf, &body);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(body, "sync q=a b ua=t1");
    ck_assert(strstr(buf, "\r\nServer: convd\r\n") != NULL);
    ck_assert(strstr(buf, "\r\nX-Test: yes\r\n") != NULL);
    ck_assert(strstr(buf, "Content-Type: text/plain") != NULL);

    st = request("GET /error HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof buf,
                 &body);
    ck_assert_int_eq(st, 418);
    ck_assert(strstr(buf, "Content-Type: application/json") != NULL);
    check_error_json(body, 418);
    ck_assert(strstr(body, "tea \\\"pot\\\"\\n7") != NULL);

    st = request("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof buf,
                 &body);
    ck_assert_int_eq(st, 404);
    check_error_json(body, 404);

    /* Keep-alive: two requests on one connection. */
    int fd = connect_port(cd_http_port(srv.http));
    const char *two = "GET /sync HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /deferred HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send_all(fd, two, strlen(two)), 0);
    read_reply(fd, buf, sizeof buf, &body);
    ck_assert(strstr(buf, "sync q=-") != NULL);
    ck_assert(strstr(buf, "\r\n\r\ndeferred") != NULL);
    close(fd);
    stop_server();
}
END_TEST

START_TEST(bodies_and_limits)
{
    start_server();
    char buf[4096];
    const char *body;
    /* A body with Content-Length, sent in pieces. */
    size_t n = 50000;
    char *data = malloc(n);
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        data[i] = (char)(i * 7);
        sum += (unsigned char)data[i];
    }
    int fd = connect_port(cd_http_port(srv.http));
    char head[256];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
                                "Connection: close\r\n\r\n", n);
    ck_assert_int_eq(send_all(fd, head, strlen(head)), 0);
    ck_assert_int_eq(send_all(fd, data, n / 2), 0);
    sleep_ms(20);
    ck_assert_int_eq(send_all(fd, data + n / 2, n - n / 2), 0);
    ck_assert_int_eq(read_reply(fd, buf, sizeof buf, &body), 200);
    close(fd);
    char want[64];
    snprintf(want, sizeof want, "{\"len\":%zu,\"sum\":%u}", n, sum);
    ck_assert_str_eq(body, strcat(want, "\n"));

    /* Chunked under the limit. */
    ck_assert_int_eq(request("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                             buf, sizeof buf, &body), 200);
    ck_assert(strstr(body, "\"len\":5") != NULL);

    /* Content-Length over the limit: 413 without sending the body. */
    ck_assert_int_eq(request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
                             "Connection: close\r\n\r\n", buf, sizeof buf, &body), 413);
    check_error_json(body, 413);
    /* Exactly at the limit passes. */
    fd = connect_port(cd_http_port(srv.http));
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                                "Connection: close\r\n\r\n", BODY_LIMIT);
    char *lim = calloc(1, BODY_LIMIT);
    ck_assert_int_eq(send_all(fd, head, strlen(head)), 0);
    ck_assert_int_eq(send_all(fd, lim, BODY_LIMIT), 0);
    ck_assert_int_eq(read_reply(fd, buf, sizeof buf, &body), 200);
    close(fd);
    free(lim);

    /* Chunked over the limit: 413. */
    fd = connect_port(cd_http_port(srv.http));
    const char *ch = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n";
    ck_assert_int_eq(send_all(fd, ch, strlen(ch)), 0);
    for (int i = 0; i < 5; i++) {   /* 5 x 20000 bytes > 65536 */
        char line[32];
        snprintf(line, sizeof line, "%x\r\n", 20000);
        if (send_all(fd, line, strlen(line)) || send_all(fd, data, 20000) ||
            send_all(fd, "\r\n", 2))
            break;
    }
    send_all(fd, "0\r\n\r\n", 5);
    ck_assert_int_eq(read_reply(fd, buf, sizeof buf, &body), 413);
    check_error_json(body, 413);
    close(fd);
    free(data);

    /* Invalid Content-Length. */
    int st = request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n"
                     "Connection: close\r\n\r\n", buf, sizeof buf, &body);
    ck_assert_int_eq(st, 400);
    stop_server();
}
END_TEST

START_TEST(concurrent_deferred)
{
    start_server();
    enum { N = 50 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = connect_port(cd_http_port(srv.http));
        ck_assert(fds[i] >= 0);
        const char *rq = i % 2 ? "GET /deferred HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                               : "GET /race HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        ck_assert_int_eq(send_all(fds[i], rq, strlen(rq)), 0);
    }
    for (int i = 0; i < N; i++) {
        char buf[2048];
        const char *body;
        ck_assert_int_eq(read_reply(fds[i], buf, sizeof buf, &body), 200);
        ck_assert_str_eq(body, "deferred");
        ck_assert(strstr(buf, "X-Deferred: 1") != NULL);
        close(fds[i]);
    }
    /* Races: the answer often arrives before the connection is suspended. */
    for (int round = 0; round < 200; round++) {
        char buf[2048];
        const char *body;
        ck_assert_int_eq(request("GET /race HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                 buf, sizeof buf, &body), 200);
    }
    stop_server();
}
END_TEST

START_TEST(client_leaves)
{
    start_server();
    atomic_store(&late_answers, 0);
    for (int i = 0; i < 5; i++) {
        int fd = connect_port(cd_http_port(srv.http));
        const char *rq = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
        ck_assert_int_eq(send_all(fd, rq, strlen(rq)), 0);
        sleep_ms(20);
        close(fd);   /* gone before the answer */
    }
    /* And one that leaves mid-body. */
    int fd = connect_port(cd_http_port(srv.http));
    const char *half = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc";
    ck_assert_int_eq(send_all(fd, half, strlen(half)), 0);
    sleep_ms(20);
    close(fd);
    ck_assert_int_ge(cd_http_in_flight(srv.http), 1);
    for (int i = 0; i < 100 && atomic_load(&late_answers) < 5; i++)
        sleep_ms(10);
    ck_assert_int_eq(atomic_load(&late_answers), 5);
    char buf[2048];
    const char *body;
    ck_assert_int_eq(request("GET /sync HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf,
                             sizeof buf, &body), 200);
    stop_server();
}
END_TEST

START_TEST(quiesce_then_stop)
{
    start_server();
    int port = cd_http_port(srv.http);
    int fd = connect_port(port);
    const char *rq = "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send_all(fd, rq, strlen(rq)), 0);
    sleep_ms(50);
    ck_assert_int_eq(cd_http_in_flight(srv.http), 1);
    cd_http_quiesce(srv.http);
    cd_http_quiesce(srv.http);   /* twice is fine */
    /* New connections are refused; the accepted request is answered. */
    int fd2 = connect_port(port);
    if (fd2 >= 0) {
        char b2[256];
        const char *body2;
        send_all(fd2, "GET /sync HTTP/1.1\r\n\r\n", 22);
        ck_assert_int_ne(read_reply(fd2, b2, sizeof b2, &body2), 200);
        close(fd2);
    }
    char buf[2048];
    const char *body;
    ck_assert_int_eq(read_reply(fd, buf, sizeof buf, &body), 200);
    close(fd);
    stop_server();
    cd_http_stop(NULL);
}
END_TEST

START_TEST(stop_answers_leftovers)
{
    /* A deferred request still unanswered at stop gets a 503; the owner's
     * later answer is ignored safely. */
    start_server();
    int fd = connect_port(cd_http_port(srv.http));
    const char *rq = "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send_all(fd, rq, strlen(rq)), 0);
    sleep_ms(50);
    cd_http_stop(srv.http);
    srv.http = NULL;
    char buf[2048];
    const char *body;
    int st = read_reply(fd, buf, sizeof buf, &body);
    ck_assert(st == 503 || st == -1);
    close(fd);
    for (int i = 0; i < 100 && atomic_load(&responders); i++)
        sleep_ms(10);
    ck_assert_int_eq(atomic_load(&responders), 0);
}
END_TEST

START_TEST(bad_host)
{
    memset(&srv, 0, sizeof srv);
    snprintf(srv.cfg.host, sizeof srv.cfg.host, "not-an-address");
    srv.cfg.threads = 1;
    srv.cfg.max_body_bytes = 10;
    char ebuf[256];
    struct cd_http *h = (void *)1;
    ck_assert_int_ne(cd_http_start(&h, &srv, ebuf, sizeof ebuf), 0);
    ck_assert(h == NULL);
    ck_assert(strstr(ebuf, "host") != NULL);
    /* IPv6 loopback works (when the machine has it). */
    snprintf(srv.cfg.host, sizeof srv.cfg.host, "::1");
    if (cd_http_start(&h, &srv, ebuf, sizeof ebuf) == 0)
        cd_http_stop(h);
}
END_TEST

START_TEST(port_file_and_activation)
{
    /* port_file receives the bound port. */
    cd_log_set_level(CD_LOG_WARN);
    char pf[] = "/tmp/convd_test_http_port_XXXXXX";
    int pfd = mkstemp(pf);
    ck_assert(pfd >= 0);
    close(pfd);
    memset(&srv, 0, sizeof srv);
    snprintf(srv.cfg.host, sizeof srv.cfg.host, "127.0.0.1");
    snprintf(srv.cfg.port_file, sizeof srv.cfg.port_file, "%s", pf);
    srv.cfg.threads = 2;
    srv.cfg.max_body_bytes = 100;
    char ebuf[256];
    ck_assert_int_eq(cd_http_start(&srv.http, &srv, ebuf, sizeof ebuf), 0);
    FILE *f = fopen(pf, "r");
    int port = -1;
    ck_assert(f && fscanf(f, "%d", &port) == 1);
    fclose(f);
    unlink(pf);
    ck_assert_int_eq(port, cd_http_port(srv.http));
    cd_http_stop(srv.http);
    srv.http = NULL;

    /* Socket activation: a child gets a listening socket as fd 3. */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(ls, 16), 0);
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        dup2(ls, 3);
        char pidbuf[32];
        snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_PID", pidbuf, 1);
        snprintf(srv.cfg.host, sizeof srv.cfg.host, "bogus");   /* ignored */
        srv.cfg.port_file[0] = '\0';
        struct cd_http *h;
        if (cd_http_start(&h, &srv, ebuf, sizeof ebuf) != 0)
            _exit(3);
        sleep_ms(800);
        cd_http_stop(h);
        _exit(0);
    }
    close(ls);
    int fd = connect_port(port);
    ck_assert(fd >= 0);
    const char *rq = "GET /sync HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(send_all(fd, rq, strlen(rq)), 0);
    char buf[1024];
    const char *body;
    ck_assert_int_eq(read_reply(fd, buf, sizeof buf, &body), 200);
    close(fd);
    int wst;
    waitpid(pid, &wst, 0);
    ck_assert(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, sync_and_errors);
    tcase_add_test(tc, bodies_and_limits);
    tcase_add_test(tc, concurrent_deferred);
    tcase_add_test(tc, client_leaves);
    tcase_add_test(tc, quiesce_then_stop);
    tcase_add_test(tc, stop_answers_leftovers);
    tcase_add_test(tc, bad_host);
    tcase_add_test(tc, port_file_and_activation);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(http_suite)
