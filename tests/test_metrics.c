/* test_metrics.c — the metrics registry (daemon/server/metrics.c): exact
 * exposition lines for counters, cumulative histogram buckets with +Inf,
 * _sum and _count, label escaping, model slots, exact totals under four
 * concurrent writers, and `promtool check metrics` on the output when
 * promtool is installed (Debian package prometheus). */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/metrics.h"

static char *render(void)
{
    size_t len = 0;
    char *s = cd_metrics_render(&len);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(strlen(s), len);
    return s;
}

/* Asserts that text holds line as one whole line. */
#define HAS_LINE(text, line) ck_assert_msg(has_line(text, line), "missing line: %s", line)
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static int count_substr(const char *text, const char *sub)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, sub)); p++)
        n++;
    return n;
}

START_TEST(model_slots)
{
    cd_metrics_init();
    ck_assert_int_eq(cd_metrics_model("a"), 0);
    ck_assert_int_eq(cd_metrics_model("b"), 1);
    ck_assert_int_eq(cd_metrics_model("a"), 0);
    ck_assert_int_eq(cd_metrics_model(NULL), -1);
    char name[16];
    for (int i = 2; i < CD_METRICS_MAX_MODELS; i++) {
        snprintf(name, sizeof name, "m%d", i);
        ck_assert_int_eq(cd_metrics_model(name), i);
    }
    ck_assert_int_eq(cd_metrics_model("one-too-many"), -1);
    ck_assert_int_eq(cd_metrics_model("b"), 1);
}
END_TEST

START_TEST(exact_lines)
{
    cd_metrics_init();
    int m = cd_metrics_model("tiny-demo");
    ck_assert_int_eq(m, 0);
    cd_metrics_request(m, "classify", 200, 0.0625, 100, 40);
    cd_metrics_request(m, "classify", 200, 2.0, 50, 10);
    cd_metrics_request(m, "classify", 400, 0.0005, 7, 3);
    cd_metrics_request(-1, "health", 200, 0.0005, 0, 2);
    cd_metrics_request(42, "route", 404, 0.0005, 0, 5);   /* unknown slot: model="" */
    cd_metrics_queue_wait(m, 0.004);
    cd_metrics_queue_wait(7, 1.0);                          /* unknown slot: ignored */
    cd_metrics_batch(m, 3, 0.02);
    cd_metrics_batch(m, 1, 0.5);
    cd_metrics_batch(m, 100, 20.0);
    cd_metrics_queue_depth(m, 3);
    cd_metrics_queue_depth(m, -1);
    cd_metrics_models(2, 1);
    char *t = render();

    HAS_LINE(t, "# HELP convd_requests_total Answered HTTP requests by model, endpoint and status code.");
    HAS_LINE(t, "# TYPE convd_requests_total counter");
    ck_assert_int_eq(count_substr(t, "# TYPE convd_requests_total "), 1);
    HAS_LINE(t, "convd_requests_total{model=\"tiny-demo\",endpoint=\"classify\",code=\"200\"} 2");
    HAS_LINE(t, "convd_requests_total{model=\"tiny-demo\",endpoint=\"classify\",code=\"400\"} 1");
    HAS_LINE(t, "convd_requests_total{model=\"\",endpoint=\"health\",code=\"200\"} 1");
    HAS_LINE(t, "convd_requests_total{model=\"\",endpoint=\"route\",code=\"404\"} 1");

    HAS_LINE(t, "# TYPE convd_request_duration_seconds histogram");
#define RD "convd_request_duration_seconds"
#define CL "{model=\"tiny-demo\",endpoint=\"classify\""
    HAS_LINE(t, RD "_bucket" CL ",le=\"0.001\"} 1");
    HAS_LINE(t, RD "_bucket" CL ",le=\"0.05\"} 1");
    HAS_LINE(t, RD "_bucket" CL ",le=\"0.1\"} 2");
    HAS_LINE(t, RD "_bucket" CL ",le=\"1\"} 2");
    HAS_LINE(t, RD "_bucket" CL ",le=\"2.5\"} 3");
    HAS_LINE(t, RD "_bucket" CL ",le=\"10\"} 3");
    HAS_LINE(t, RD "_bucket" CL ",le=\"+Inf\"} 3");
    HAS_LINE(t, RD "_sum" CL "} 2.063");
    HAS_LINE(t, RD "_count" CL "} 3");

    HAS_LINE(t, "convd_queue_wait_seconds_bucket{model=\"tiny-demo\",le=\"0.0025\"} 0");
    HAS_LINE(t, "convd_queue_wait_seconds_bucket{model=\"tiny-demo\",le=\"0.005\"} 1");
    HAS_LINE(t, "convd_queue_wait_seconds_count{model=\"tiny-demo\"} 1");
    HAS_LINE(t, "convd_queue_wait_seconds_sum{model=\"tiny-demo\"} 0.004");

    HAS_LINE(t, "# TYPE convd_batch_size histogram");
    HAS_LINE(t, "convd_batch_size_bucket{model=\"tiny-demo\",le=\"1\"} 1");
    HAS_LINE(t, "convd_batch_size_bucket{model=\"tiny-demo\",le=\"2\"} 1");
    HAS_LINE(t, "convd_batch_size_bucket{model=\"tiny-demo\",le=\"4\"} 2");
    HAS_LINE(t, "convd_batch_size_bucket{model=\"tiny-demo\",le=\"64\"} 2");
    HAS_LINE(t, "convd_batch_size_bucket{model=\"tiny-demo\",le=\"+Inf\"} 3");
    HAS_LINE(t, "convd_batch_size_sum{model=\"tiny-demo\"} 104");
    HAS_LINE(t, "convd_batch_size_count{model=\"tiny-demo\"} 3");
    HAS_LINE(t, "convd_inference_duration_seconds_bucket{model=\"tiny-demo\",le=\"0.025\"} 1");
    HAS_LINE(t, "convd_inference_duration_seconds_bucket{model=\"tiny-demo\",le=\"0.5\"} 2");
    HAS_LINE(t, "convd_inference_duration_seconds_bucket{model=\"tiny-demo\",le=\"10\"} 2");
    HAS_LINE(t, "convd_inference_duration_seconds_bucket{model=\"tiny-demo\",le=\"+Inf\"} 3");
    HAS_LINE(t, "convd_inference_duration_seconds_sum{model=\"tiny-demo\"} 20.52");

    HAS_LINE(t, "convd_queue_depth{model=\"tiny-demo\"} 2");
    HAS_LINE(t, "convd_request_bytes_total{model=\"tiny-demo\"} 157");
    HAS_LINE(t, "convd_response_bytes_total{model=\"tiny-demo\"} 53");
    HAS_LINE(t, "convd_request_bytes_total{model=\"\"} 0");
    HAS_LINE(t, "convd_response_bytes_total{model=\"\"} 7");
    HAS_LINE(t, "convd_models_loaded 2");
    HAS_LINE(t, "convd_models_failed 1");
    HAS_LINE(t, "# TYPE process_start_time_seconds gauge");
    const char *ps = strstr(t, "\nprocess_start_time_seconds ");
    ck_assert_ptr_nonnull(ps);
    ck_assert(strtod(ps + 28, NULL) > 1.6e9);
    ck_assert(t[strlen(t) - 1] == '\n');
    free(t);
}
END_TEST

START_TEST(empty_and_escaped)
{
    cd_metrics_init();
    char *t = render();
    /* No models: every family still announced once, no samples with labels. */
    ck_assert_int_eq(count_substr(t, "# TYPE "), 12);
    ck_assert_ptr_null(strstr(t, "{model="));
    HAS_LINE(t, "convd_models_loaded 0");
    free(t);

    int m = cd_metrics_model("we\"ird\\na\nme");
    cd_metrics_request(m, "infer", 200, 0.01, 1, 1);
    t = render();
    HAS_LINE(t, "convd_requests_total{model=\"we\\\"ird\\\\na\\nme\",endpoint=\"infer\",code=\"200\"} 1");
    HAS_LINE(t, "convd_queue_depth{model=\"we\\\"ird\\\\na\\nme\"} 0");
    free(t);
}
END_TEST

static void *hammer(void *arg)
{
    int slot = *(int *)arg;
    static const int codes[3] = {200, 503, 504};
    for (int j = 0; j < 30000; j++) {
        cd_metrics_request(slot, "infer", codes[j % 3], 0.001, 1, 2);
        cd_metrics_queue_depth(slot, (j & 1) ? -1 : 1);
        cd_metrics_batch(slot, 2, 0.25);
    }
    return NULL;
}

START_TEST(concurrent_exact)
{
    cd_metrics_init();
    int slot = cd_metrics_model("busy");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, &slot);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *t = render();
    HAS_LINE(t, "convd_requests_total{model=\"busy\",endpoint=\"infer\",code=\"200\"} 40000");
    HAS_LINE(t, "convd_requests_total{model=\"busy\",endpoint=\"infer\",code=\"503\"} 40000");
    HAS_LINE(t, "convd_requests_total{model=\"busy\",endpoint=\"infer\",code=\"504\"} 40000");
    ck_assert_int_eq(count_substr(t, "convd_requests_total{"), 3);
    HAS_LINE(t, "convd_request_duration_seconds_count{model=\"busy\",endpoint=\"infer\"} 120000");
    HAS_LINE(t, "convd_request_bytes_total{model=\"busy\"} 120000");
    HAS_LINE(t, "convd_response_bytes_total{model=\"busy\"} 240000");
    HAS_LINE(t, "convd_queue_depth{model=\"busy\"} 0");
    HAS_LINE(t, "convd_batch_size_count{model=\"busy\"} 120000");
    HAS_LINE(t, "convd_batch_size_sum{model=\"busy\"} 240000");           /* exact in double */
    HAS_LINE(t, "convd_inference_duration_seconds_sum{model=\"busy\"} 30000");
    const char *s = strstr(t, "convd_request_duration_seconds_sum{model=\"busy\",endpoint=\"infer\"} ");
    ck_assert_ptr_nonnull(s);
    double sum = strtod(strchr(s, '}') + 2, NULL);
    ck_assert_msg(fabs(sum - 120.0) < 1e-6, "sum %.17g", sum);
    free(t);
}
END_TEST

START_TEST(promtool_accepts)
{
    if (access("/usr/bin/promtool", X_OK) != 0 && system("command -v promtool >/dev/null 2>&1") != 0) {
        printf("test_metrics: skipped: promtool not installed (Debian package prometheus)\n");
        return;
    }
    cd_metrics_init();
    int a = cd_metrics_model("tiny-demo"), b = cd_metrics_model("q\"uote");
    cd_metrics_model("idle");
    cd_metrics_request(a, "classify", 200, 0.01, 10, 20);
    cd_metrics_request(b, "infer", 400, 0.02, 10, 20);
    cd_metrics_request(-1, "metrics", 200, 0.0001, 0, 900);
    cd_metrics_queue_wait(a, 0.001);
    cd_metrics_batch(a, 4, 0.01);
    cd_metrics_queue_depth(a, 1);
    cd_metrics_models(2, 1);
    char *t = render();
    char path[] = "/tmp/convd_metrics_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, t, strlen(t)), (ssize_t)strlen(t));
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
    int rc = system(cmd);
    unlink(path);
    free(t);
    ck_assert_msg(rc == 0, "promtool check metrics failed (rc %d)", rc);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, model_slots);
    tcase_add_test(tc, exact_lines);
    tcase_add_test(tc, empty_and_escaped);
    tcase_add_test(tc, concurrent_exact);
    tcase_add_test(tc, promtool_accepts);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(metrics_suite)
