/* test_log.c — the event log (daemon/server/log.c): line format with the
 * <N> prefix, ts/level/event fields, level filtering, one line per event
 * even with line breaks in the arguments, whole lines under concurrency, and
 * cd_log_quote's quoting, escaping and safe truncation. */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"

/* Redirects fd 2 into a pipe; capture_end returns what was written. */
static int saved_fd = -1, pipe_rd = -1;

static void capture_begin(void)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fcntl(p[0], F_SETPIPE_SZ, 1 << 20);   /* whole test output fits */
    saved_fd = dup(2);
    dup2(p[1], 2);
    close(p[1]);
    pipe_rd = p[0];
}

static char *capture_end(void)
{
    dup2(saved_fd, 2);
    close(saved_fd);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    ssize_t n;
    while ((n = read(pipe_rd, buf + len, cap - len)) > 0) {
        len += (size_t)n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    close(pipe_rd);
    buf[len] = '\0';
    return buf;
}

START_TEST(parse_level)
{
    ck_assert_int_eq(cd_log_parse_level("error"), CD_LOG_ERR);
    ck_assert_int_eq(cd_log_parse_level("warn"), CD_LOG_WARN);
    ck_assert_int_eq(cd_log_parse_level("info"), CD_LOG_INFO);
    ck_assert_int_eq(cd_log_parse_level("debug"), CD_LOG_DEBUG);
    ck_assert_int_eq(cd_log_parse_level("INFO"), -1);
    ck_assert_int_eq(cd_log_parse_level(""), -1);
    ck_assert_int_eq(cd_log_parse_level(NULL), -1);
    cd_log_set_level(CD_LOG_DEBUG);
    ck_assert_int_eq(cd_log_get_level(), CD_LOG_DEBUG);
}
END_TEST

START_TEST(line_format)
{
    cd_log_set_level(CD_LOG_INFO);
    capture_begin();
    cd_log(CD_LOG_INFO, "request", "method=%s path=%s status=%d", "GET",
           "/healthz", 200);
    char *out = capture_end();
    /* <6>ts=YYYY-MM-DDTHH:MM:SS.mmmZ level=info event=request ... */
    ck_assert_msg(!strncmp(out, "<6>ts=", 6), "got %s", out);
    const char *ts = out + 6;
    ck_assert_int_eq(strlen(ts) > 24, 1);
    ck_assert(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' &&
              ts[16] == ':' && ts[19] == '.' && ts[23] == 'Z');
    ck_assert_str_eq(ts + 24,
                     " level=info event=request method=GET path=/healthz status=200\n");
    free(out);

    capture_begin();
    cd_log(CD_LOG_ERR, "model_failed", "model=%s", "x");
    cd_log(CD_LOG_WARN, "slow", NULL);
    out = capture_end();
    char *second = strchr(out, '\n');
    ck_assert_ptr_nonnull(second);
    ck_assert(!strncmp(out, "<3>ts=", 6));
    ck_assert_ptr_nonnull(strstr(out, " level=error event=model_failed model=x\n"));
    ck_assert(!strncmp(second + 1, "<4>ts=", 6));
    ck_assert_ptr_nonnull(strstr(second, " level=warn event=slow\n"));
    free(out);
}
END_TEST

START_TEST(level_filter)
{
    cd_log_set_level(CD_LOG_WARN);
    capture_begin();
    cd_log(CD_LOG_DEBUG, "d", "x=1");
    cd_log(CD_LOG_INFO, "i", "x=2");
    cd_log(CD_LOG_WARN, "w", "x=3");
    cd_log(CD_LOG_ERR, "e", "x=4");
    char *out = capture_end();
    ck_assert_ptr_null(strstr(out, "event=d "));
    ck_assert_ptr_null(strstr(out, "event=i "));
    ck_assert_ptr_nonnull(strstr(out, "event=w x=3\n"));
    ck_assert_ptr_nonnull(strstr(out, "event=e x=4\n"));
    free(out);

    cd_log_set_level(CD_LOG_DEBUG);
    capture_begin();
    cd_log(CD_LOG_DEBUG, "d", "x=1");
    out = capture_end();
    ck_assert_ptr_nonnull(strstr(out, "<7>ts="));
    ck_assert_ptr_nonnull(strstr(out, "level=debug event=d x=1\n"));
    free(out);
    cd_log_set_level(CD_LOG_INFO);
}
END_TEST

START_TEST(one_line_per_event)
{
    cd_log_set_level(CD_LOG_INFO);
    capture_begin();
    cd_log(CD_LOG_INFO, "evil", "msg=%s", "a\nb\rc");
    char big[10000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cd_log(CD_LOG_INFO, "big", "v=%s", big);
    char *out = capture_end();
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 2);
    ck_assert_ptr_nonnull(strstr(out, "msg=a b c\n"));
    ck_assert_ptr_nonnull(strstr(out, " truncated=true\n"));
    ck_assert_int_lt(strlen(out), 4096 + 200);
    free(out);
}
END_TEST

static void *log_many(void *arg)
{
    for (int i = 0; i < 200; i++)
        cd_log(CD_LOG_INFO, "t", "thread=%ld i=%d pad=%s", (long)(intptr_t)arg, i,
               "0123456789012345678901234567890123456789");
    return NULL;
}

START_TEST(concurrent_lines_whole)
{
    cd_log_set_level(CD_LOG_INFO);
    capture_begin();
    pthread_t th[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, log_many, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *out = capture_end();
    int lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        ck_assert_msg(!strncmp(line, "<6>ts=", 6), "torn line: %s", line);
        ck_assert_ptr_nonnull(strstr(line, " pad=0123456789012345678901234567890123456789"));
        lines++;
    }
    ck_assert_int_eq(lines, 800);
    free(out);
}
END_TEST

START_TEST(quote_values)
{
    char b[64];
    ck_assert_str_eq(cd_log_quote("resnet18", b, sizeof b), "resnet18");
    ck_assert_str_eq(cd_log_quote("/v2/models/x", b, sizeof b), "/v2/models/x");
    ck_assert_str_eq(cd_log_quote("", b, sizeof b), "\"\"");
    ck_assert_str_eq(cd_log_quote(NULL, b, sizeof b), "\"\"");
    ck_assert_str_eq(cd_log_quote("a b", b, sizeof b), "\"a b\"");
    ck_assert_str_eq(cd_log_quote("k=v", b, sizeof b), "\"k=v\"");
    ck_assert_str_eq(cd_log_quote("say \"hi\"", b, sizeof b), "\"say \\\"hi\\\"\"");
    ck_assert_str_eq(cd_log_quote("a\\b", b, sizeof b), "\"a\\\\b\"");
    ck_assert_str_eq(cd_log_quote("l1\nl2\t\x7f", b, sizeof b), "\"l1\\x0al2\\x09\\x7f\"");
    /* UTF-8 passes through unquoted when it holds nothing special. */
    ck_assert_str_eq(cd_log_quote("caf\xc3\xa9", b, sizeof b), "caf\xc3\xa9");
}
END_TEST

START_TEST(quote_truncates_safely)
{
    char b[8];
    /* Unquoted: cut to fit. */
    ck_assert_str_eq(cd_log_quote("abcdefghij", b, sizeof b), "abcdefg");
    /* Quoted: both quotes kept, nothing past the buffer. */
    ck_assert_str_eq(cd_log_quote("a b c d e f", b, sizeof b), "\"a b c\"");
    /* An escape is never cut in half. */
    ck_assert_str_eq(cd_log_quote("ab \"cdef", b, sizeof b), "\"ab \\\"\"");
    ck_assert_str_eq(cd_log_quote("abcd \x01", b, sizeof b), "\"abcd \"");
    /* A UTF-8 character is never cut in half. */
    ck_assert_str_eq(cd_log_quote("abcdef\xc3\xa9", b, sizeof b), "abcdef");
    ck_assert_str_eq(cd_log_quote("a b \xe2\x82\xac", b, sizeof b), "\"a b \"");
    /* Tiny buffers. */
    char t[3];
    ck_assert_str_eq(cd_log_quote("a b", t, sizeof t), "\"\"");
    ck_assert_str_eq(cd_log_quote("abc", t, 1), "");
    ck_assert_str_eq(cd_log_quote("abc", t, 0), "");
    char t2[2];
    ck_assert_str_eq(cd_log_quote("a b", t2, sizeof t2), "");
    /* Every length of a long hostile value stays in bounds and balanced. */
    const char *evil = "x \"\\\x01\xc3\xa9\xe2\x82\xac=y";
    for (unsigned len = 3; len < 40; len++) {
        char *buf = malloc(len);
        const char *q = cd_log_quote(evil, buf, len);
        size_t n = strlen(q);
        ck_assert_uint_lt(n, len);
        ck_assert(q[0] == '"' && q[n - 1] == '"');
        free(buf);
    }
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, parse_level);
    tcase_add_test(tc, line_format);
    tcase_add_test(tc, level_filter);
    tcase_add_test(tc, one_line_per_event);
    tcase_add_test(tc, concurrent_lines_whole);
    tcase_add_test(tc, quote_values);
    tcase_add_test(tc, quote_truncates_safely);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(log_suite)
