/* backlog.c — a stopping server's last word to the clients the kernel had
 * already accepted for it: connections waiting in the listening socket's
 * accept queue get a complete 503 answer instead of a reset when the socket
 * is shut down. Knows nothing of MHD or routes; runs on the main thread,
 * bounded in connections and time. */
#include "server/backlog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits until fd is readable or `until` passes; true when readable. */
static bool wait_readable(int fd, double until)
{
    double left = until - now_s();
    if (left <= 0)
        return false;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int rc = poll(&p, 1, (int)(left * 1e3) + 1);
    return rc > 0;
}

/* Reads until the end of the request head (or the deadline), writes the 503,
 * half-closes and reads what the client still sends until it closes, so the
 * close does not turn into a reset that would discard the answer. */
static void answer_one(int c, double until)
{
    static const char body[] =
        "{\"error\":{\"code\":503,\"message\":\"the server is shutting down\"}}";
    char head[256], buf[4096];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 503 Service Unavailable\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\nRetry-After: 1\r\n"
                      "Connection: close\r\n\r\n", sizeof body - 1);
    /* the request head: up to the blank line, or whatever came in time */
    char tail[4] = { 0 };
    bool head_done = false;
    while (!head_done && wait_readable(c, until)) {
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0)
            return;                      /* gone or error: nothing to answer */
        for (ssize_t i = 0; i < n && !head_done; i++) {
            memmove(tail, tail + 1, 3);
            tail[3] = buf[i];
            head_done = memcmp(tail, "\r\n\r\n", 4) == 0;
        }
    }
    if (send(c, head, (size_t)hl, MSG_NOSIGNAL) != hl ||
        send(c, body, sizeof body - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof body - 1))
        return;
    shutdown(c, SHUT_WR);
    while (wait_readable(c, until) && recv(c, buf, sizeof buf, 0) > 0)
        ;
}

int cd_backlog_refuse(int fd, int max_conns, double budget_s)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return 0;
    double until = now_s() + budget_s;
    int n = 0;
    while (n < max_conns && now_s() < until) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            break;                       /* EAGAIN: the queue is empty */
        }
        answer_one(c, until);
        close(c);
        n++;
    }
    return n;
}
