/* log.c — one key=value line per event on stderr, prefixed with the syslog
 * <N> priority journald understands, then ts= (RFC 3339, UTC, milliseconds),
 * level= and event=. Each line is formatted into a local buffer and written
 * with one write(2) under a mutex, so lines never interleave. It must not
 * allocate, log request bodies, or emit a line break inside a line. */
#include "server/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static _Atomic int cur_level = CD_LOG_INFO;
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *level_name(int level)
{
    switch (level) {
    case CD_LOG_ERR: return "error";
    case CD_LOG_WARN: return "warn";
    case CD_LOG_INFO: return "info";
    case CD_LOG_DEBUG: return "debug";
    default: return level < CD_LOG_ERR ? "error" : "debug";
    }
}

int cd_log_parse_level(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "error"))
        return CD_LOG_ERR;
    if (!strcmp(s, "warn"))
        return CD_LOG_WARN;
    if (!strcmp(s, "info"))
        return CD_LOG_INFO;
    if (!strcmp(s, "debug"))
        return CD_LOG_DEBUG;
    return -1;
}

void cd_log_set_level(int level)
{
    if (level < CD_LOG_ERR)
        level = CD_LOG_ERR;
    if (level > CD_LOG_DEBUG)
        level = CD_LOG_DEBUG;
    atomic_store(&cur_level, level);
}

int cd_log_get_level(void)
{
    return atomic_load(&cur_level);
}

/* Writes all of buf to fd 2, retrying on EINTR and short writes. */
static void write_all(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += w;
        n -= (size_t)w;
    }
}

void cd_log(int level, const char *event, const char *fmt, ...)
{
    if (level > atomic_load(&cur_level))
        return;
    int prio = level < 0 ? 0 : level > 7 ? 7 : level;

    char line[LINE_MAX_BYTES];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char tbuf[32];
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);

    int n = snprintf(line, sizeof line, "<%d>ts=%s.%03ldZ level=%s event=%s",
                     prio, tbuf, ts.tv_nsec / 1000000L, level_name(level),
                     event && *event ? event : "-");
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

    if (fmt && *fmt && len + 2 < sizeof line) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
        va_end(ap);
        if (m < 0) {
            len--;
        } else if ((size_t)m >= sizeof line - len) {
            /* Truncated: mark it so a reader knows the line was cut. */
            static const char mark[] = " truncated=true";
            len = sizeof line - 1 - (sizeof mark - 1) - 1;
            memcpy(line + len, mark, sizeof mark - 1);
            len += sizeof mark - 1;
        } else {
            len += (size_t)m;
        }
    }
    /* One event, one line: no line breaks or other control bytes inside. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f)
            line[i] = ' ';
    }
    line[len++] = '\n';

    pthread_mutex_lock(&write_mu);
    write_all(line, len);
    pthread_mutex_unlock(&write_mu);
}

static int needs_quote(const unsigned char *s)
{
    if (!*s)
        return 1;
    for (; *s; s++)
        if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\' || *s == 0x7f)
            return 1;
    return 0;
}

/* Steps back from pos to the start of a UTF-8 sequence, so a cut never
 * leaves half a character. */
static size_t utf8_back(const char *buf, size_t pos, size_t floor)
{
    while (pos > floor && ((unsigned char)buf[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

const char *cd_log_quote(const char *s, char *buf, unsigned len)
{
    static const char hex[] = "0123456789abcdef";
    if (!buf || len == 0)
        return "";
    if (!s)
        s = "";
    const unsigned char *p = (const unsigned char *)s;

    if (!needs_quote(p)) {
        size_t n = strlen(s);
        if (n >= len) {
            n = utf8_back(s, len - 1, 0);
        }
        memcpy(buf, s, n);
        buf[n] = '\0';
        return buf;
    }
    if (len < 3) {
        buf[0] = '\0';
        return buf;
    }
    /* Room for the opening quote, the closing quote and the NUL. */
    size_t cap = len - 1, o = 0;
    buf[o++] = '"';
    for (; *p; p++) {
        char esc[4];
        size_t k;
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c; k = 2;
        } else if (c < 0x20 || c == 0x7f) {
            esc[0] = '\\'; esc[1] = 'x'; esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15]; k = 4;
        } else {
            esc[0] = (char)c; k = 1;
        }
        if (o + k + 1 > cap) {
            /* Cut here; if a multibyte character is half copied, drop it. */
            if (k == 1 && (c & 0xC0) == 0x80)
                o = utf8_back(buf, o - 1, 1);
            break;
        }
        memcpy(buf + o, esc, k);
        o += k;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
