/* log.h — one line per event on stderr, key=value, with the syslog <N>
 * priority prefix journald understands. Thread-safe; never logs bodies. */
#ifndef CD_LOG_H
#define CD_LOG_H

enum cd_log_level {
    CD_LOG_ERR = 3,
    CD_LOG_WARN = 4,
    CD_LOG_INFO = 6,
    CD_LOG_DEBUG = 7,
};

/* "error" | "warn" | "info" | "debug" -> level, or -1. */
int cd_log_parse_level(const char *s);
void cd_log_set_level(int level);
int cd_log_get_level(void);
/* cd_log(CD_LOG_INFO, "request", "method=%s path=%s status=%d", ...) prints
 * "<6>event=request method=GET path=/healthz status=200". Values that may
 * contain spaces or quotes must be passed through cd_log_quote first. */
void cd_log(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes s into buf as a log-safe value: quoted and escaped when it holds
 * spaces, quotes, '=' or control bytes; truncated to fit. Returns buf. */
const char *cd_log_quote(const char *s, char *buf, unsigned len);

#endif
