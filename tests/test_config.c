/* test_config.c — the configuration table (daemon/server/config.c):
 * defaults, file over defaults, flags over file, per-model overrides and
 * cd_config_batch_for, every kind of refusal naming its key, and that
 * config/convd.json and docs/configuration.md hold exactly the table's keys
 * (tests run from the repository root). */
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"

static char tmp_path[64];

static const char *write_tmp(const char *text)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/convd_cfg_XXXXXX");
    int fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return tmp_path;
}

/* Loads text as a config file over c; returns the status, fills err. */
static int load_text(struct cd_config *c, const char *text, struct cd_err *err)
{
    const char *p = write_tmp(text);
    int rc = cd_config_load_file(c, p, err);
    unlink(p);
    return rc;
}

static int apply(struct cd_config *c, struct cd_err *err, bool *help, int n, ...)
{
    char *argv[32] = {"convd"};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && i < 30; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    bool h = false;
    return cd_config_apply_args(c, n + 1, argv, help ? help : &h, err);
}

/* The key names, read from the usage text (rows "  name  type, ..."). */
static int usage_keys(char names[][64], int max)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cd_config_usage(f);
    fclose(f);
    char *keys = strstr(text, "\nkeys:\n");
    ck_assert_ptr_nonnull(keys);
    int n = 0;
    for (char *line = strtok(keys + 7, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == ' ' && line[1] == ' ' && line[2] >= 'a' && line[2] <= 'z') {
            ck_assert_int_lt(n, max);
            sscanf(line + 2, "%63s", names[n++]);
        }
    }
    free(text);
    return n;
}

START_TEST(defaults)
{
    struct cd_config c;
    memset(&c, 0x5a, sizeof c);
    cd_config_defaults(&c);
    ck_assert_str_eq(c.host, "127.0.0.1");
    ck_assert_int_eq(c.port, 8080);
    ck_assert_str_eq(c.models_dir, "models");
    ck_assert_str_eq(c.device, "auto");
    ck_assert_str_eq(c.cache_dir, "");
    ck_assert_str_eq(c.log_level, "info");
    ck_assert_int_eq(c.threads, 4);
    ck_assert_int_eq(c.max_connections, 1024);
    ck_assert_int_eq(c.connection_timeout_s, 30);
    ck_assert_int_eq(c.max_connections_per_ip, 128);
    ck_assert_int_eq(c.body_timeout_s, 60);
    ck_assert_int_eq(c.max_audio_seconds, 30);
    ck_assert_uint_eq(c.max_body_bytes, 16u << 20);
    ck_assert_uint_eq(c.max_image_pixels, 40000000u);
    ck_assert_int_eq(c.max_top_k, 100);
    ck_assert_int_eq(c.batch.max_batch, 8);
    ck_assert_int_eq(c.batch.max_delay_us, 2000);
    ck_assert_int_eq(c.batch.max_queue, 64);
    ck_assert_int_eq(c.batch.timeout_ms, 10000);
    ck_assert_int_eq(c.n_overrides, 0);
    ck_assert_str_eq(c.port_file, "");
}
END_TEST

START_TEST(shipped_file_is_defaults)
{
    struct cd_config d, c;
    struct cd_err err = {0};
    cd_config_defaults(&d);
    cd_config_defaults(&c);
    ck_assert_msg(cd_config_load_file(&c, "config/convd.json", &err) == CD_OK, "%s", err.msg);
    ck_assert_msg(memcmp(&c, &d, sizeof c) == 0,
                  "config/convd.json differs from the defaults in config.c");

    /* The file names every key of the table, and nothing else. */
    char names[64][64];
    int n = usage_keys(names, 64);
    ck_assert_int_ge(n, 18);
    json_t *root = json_load_file("config/convd.json", JSON_REJECT_DUPLICATES, NULL);
    ck_assert_ptr_nonnull(root);
    for (int i = 0; i < n; i++)
        ck_assert_msg(json_object_get(root, names[i]), "config/convd.json lacks key %s",
                      names[i]);
    ck_assert_int_eq((int)json_object_size(root), n);
    json_decref(root);

    /* docs/configuration.md documents every key as `key`. */
    FILE *f = fopen("docs/configuration.md", "rb");
    ck_assert_ptr_nonnull(f);
    static char doc[1 << 16];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = '\0';
    for (int i = 0; i < n; i++) {
        char want[80];
        snprintf(want, sizeof want, "| `%s` |", names[i]);
        ck_assert_msg(strstr(doc, want), "docs/configuration.md lacks a row for %s", names[i]);
    }
}
END_TEST

START_TEST(file_over_defaults)
{
    struct cd_config c;
    struct cd_err err = {0};
    cd_config_defaults(&c);
    int rc = load_text(&c,
                       "{\"port\": 0, \"host\": \"::1\", \"log_level\": \"debug\",\n"
                       " \"max_body_bytes\": \"2M\", \"max_image_pixels\": 1000,\n"
                       " \"device\": \"0:1\", \"max_batch\": 4,\n"
                       " \"models\": {\"resnet18\": {\"max_batch\": 16, \"timeout_ms\": 50},\n"
                       "            \"tiny\": {}}}",
                       &err);
    ck_assert_msg(rc == CD_OK, "%s", err.msg);
    ck_assert_int_eq(c.port, 0);
    ck_assert_str_eq(c.host, "::1");
    ck_assert_str_eq(c.log_level, "debug");
    ck_assert_str_eq(c.device, "0:1");
    ck_assert_uint_eq(c.max_body_bytes, 2u << 20);
    ck_assert_uint_eq(c.max_image_pixels, 1000);
    ck_assert_int_eq(c.batch.max_batch, 4);
    ck_assert_int_eq(c.threads, 4);                 /* untouched keys keep defaults */
    ck_assert_int_eq(c.n_overrides, 2);
    ck_assert_str_eq(c.overrides[0].name, "resnet18");
    ck_assert_int_eq(c.overrides[0].batch.max_batch, 16);
    ck_assert_int_eq(c.overrides[0].batch.max_delay_us, -1);
    ck_assert_int_eq(c.overrides[0].batch.timeout_ms, 50);
    ck_assert_str_eq(c.overrides[1].name, "tiny");
}
END_TEST

START_TEST(flags_over_file)
{
    struct cd_config c;
    struct cd_err err = {0};
    bool help = true;
    cd_config_defaults(&c);
    ck_assert_int_eq(load_text(&c, "{\"port\": 1234, \"threads\": 2, \"max_queue\": 5}", &err),
                     CD_OK);
    int rc = apply(&c, &err, &help, 18, "--config", "ignored.json", "--port", "9000",
                   "--log-level=warn", "--models", "/srv/models", "--device", "cpu",
                   "--cache-dir", "/var/cache/convd", "--port-file=/tmp/p",
                   "--set", "max_batch=16", "--set", "models.my.model.max_delay_us=7",
                   "--max-body-bytes", "1G");
    ck_assert_msg(rc == CD_OK, "%s", err.msg);
    ck_assert(!help);
    ck_assert_int_eq(c.port, 9000);
    ck_assert_int_eq(c.threads, 2);                  /* from the file */
    ck_assert_int_eq(c.batch.max_queue, 5);          /* from the file */
    ck_assert_str_eq(c.log_level, "warn");
    ck_assert_str_eq(c.models_dir, "/srv/models");
    ck_assert_str_eq(c.device, "cpu");
    ck_assert_str_eq(c.cache_dir, "/var/cache/convd");
    ck_assert_str_eq(c.port_file, "/tmp/p");
    ck_assert_int_eq(c.batch.max_batch, 16);
    ck_assert_uint_eq(c.max_body_bytes, 1u << 30);
    ck_assert_int_eq(c.n_overrides, 1);
    ck_assert_str_eq(c.overrides[0].name, "my.model");
    ck_assert_int_eq(c.overrides[0].batch.max_delay_us, 7);

    ck_assert_int_eq(apply(&c, &err, &help, 3, "--threads", "8", "--help"), CD_OK);
    ck_assert(help);
    ck_assert_int_eq(c.threads, 8);
}
END_TEST

START_TEST(find_file_arg)
{
    char *a1[] = {"convd", "--port", "1", "--config", "a.json"};
    ck_assert_str_eq(cd_config_find_file_arg(5, a1), "a.json");
    char *a2[] = {"convd", "--config=b.json"};
    ck_assert_str_eq(cd_config_find_file_arg(2, a2), "b.json");
    char *a3[] = {"convd", "--port", "1"};
    ck_assert_ptr_null(cd_config_find_file_arg(3, a3));
    char *a4[] = {"convd", "--config"};
    ck_assert_ptr_null(cd_config_find_file_arg(2, a4));
    struct cd_config c;
    struct cd_err err = {0};
    cd_config_defaults(&c);
    ck_assert_int_eq(cd_config_apply_args(&c, 2, a4, NULL, &err), CD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "--config"));
}
END_TEST

/* Loading text must fail with code and a message holding every needle. */
static void refuse_file(const char *text, int code, const char *n1, const char *n2)
{
    struct cd_config c, before;
    struct cd_err err = {0};
    cd_config_defaults(&c);
    ck_assert_int_eq(load_text(&c, "{\"port\": 77, \"models\": {\"keep\": {\"max_queue\": 3}}}",
                               &err), CD_OK);
    before = c;
    int rc = load_text(&c, text, &err);
    ck_assert_msg(rc == code, "%s: rc %d (%s), want %d", text, rc, err.msg, code);
    ck_assert_msg(strstr(err.msg, n1), "%s: message \"%s\" lacks \"%s\"", text, err.msg, n1);
    if (n2)
        ck_assert_msg(strstr(err.msg, n2), "%s: message \"%s\" lacks \"%s\"", text, err.msg, n2);
    ck_assert_msg(memcmp(&c, &before, sizeof c) == 0, "%s: refused file changed config", text);
}

START_TEST(file_refusals)
{
    refuse_file("{\"prot\": 80}", CD_EINVAL, "unknown key \"prot\"", NULL);
    refuse_file("{\"port\": \"80\"}", CD_EINVAL, "\"port\"", "integer");
    refuse_file("{\"port\": 80.5}", CD_EINVAL, "\"port\"", "0..65535");
    refuse_file("{\"port\": 70000}", CD_ERANGE, "\"port\"", "0..65535");
    refuse_file("{\"threads\": 0}", CD_ERANGE, "\"threads\"", "1..256");
    refuse_file("{\"max_body_bytes\": 100}", CD_ERANGE, "\"max_body_bytes\"", "1024..1073741824");
    refuse_file("{\"max_body_bytes\": \"2X\"}", CD_EINVAL, "\"max_body_bytes\"", NULL);
    refuse_file("{\"max_body_bytes\": \"2G\"}", CD_ERANGE, "\"max_body_bytes\"", NULL);
    refuse_file("{\"host\": 5}", CD_EINVAL, "\"host\"", "string");
    refuse_file("{\"host\": \"\"}", CD_EINVAL, "\"host\"", "empty");
    refuse_file("{\"log_level\": \"loud\"}", CD_EINVAL, "\"log_level\"", "error|warn|info|debug");
    refuse_file("{\"device\": \"gpu0\"}", CD_EINVAL, "\"device\"", "P:D");
    refuse_file("{\"port\": 80, \"port\": 81}", CD_EFORMAT, "duplicate", NULL);
    refuse_file("{\"port\": 80,", CD_EFORMAT, "line 1", NULL);
    refuse_file("", CD_EFORMAT, "config file", NULL);
    refuse_file("[1, 2]", CD_EFORMAT, "object", NULL);
    refuse_file("{\"port\": 80} trailing", CD_EFORMAT, "config file", NULL);
    /* Hostile lengths: never overflows the fixed fields. */
    char big[3000] = "{\"models_dir\": \"";
    memset(big + strlen(big), 'a', 2000);
    strcpy(big + strlen(big) - 0, "\"}");
    refuse_file(big, CD_ERANGE, "\"models_dir\"", "at most 1023");
    /* Per-model overrides. */
    refuse_file("{\"models\": []}", CD_EINVAL, "\"models\"", NULL);
    refuse_file("{\"models\": {\"r\": 3}}", CD_EINVAL, "model \"r\"", "object");
    refuse_file("{\"models\": {\"r\": {\"batch\": 3}}}", CD_EINVAL, "unknown key \"batch\"",
                "model \"r\"");
    refuse_file("{\"models\": {\"r\": {\"max_batch\": 0}}}", CD_ERANGE, "max_batch", "1..256");
    refuse_file("{\"models\": {\"r\": {\"max_batch\": \"4\"}}}", CD_EINVAL, "max_batch", NULL);
    refuse_file("{\"models\": {\"\": {\"max_batch\": 2}}}", CD_EINVAL, "model name", NULL);
    refuse_file("{\"models\": {\"r\": {\"max_queue\": 1, \"max_queue\": 2}}}", CD_EFORMAT,
                "duplicate", NULL);
    /* Too many overrides. */
    char *many = malloc(65 * 40 + 32);
    strcpy(many, "{\"models\": {");
    for (int i = 0; i < 65; i++)
        sprintf(many + strlen(many), "%s\"m%d\": {\"max_batch\": 2}", i ? "," : "", i);
    strcat(many, "}}");
    refuse_file(many, CD_ERANGE, "more than 64", NULL);
    free(many);

    struct cd_config c;
    struct cd_err err = {0};
    cd_config_defaults(&c);
    ck_assert_int_eq(cd_config_load_file(&c, "/nonexistent/convd.json", &err), CD_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/convd.json"));
}
END_TEST

/* Flags must fail with code and a message holding both needles. */
static void refuse_args(int n, char **args, int code, const char *n1, const char *n2)
{
    struct cd_config c, before;
    struct cd_err err = {0};
    cd_config_defaults(&c);
    before = c;
    char *argv[8] = {"convd"};
    for (int i = 0; i < n; i++)
        argv[i + 1] = args[i];
    bool help;
    int rc = cd_config_apply_args(&c, n + 1, argv, &help, &err);
    ck_assert_msg(rc == code, "%s: rc %d (%s), want %d", args[0], rc, err.msg, code);
    ck_assert_msg(strstr(err.msg, n1), "%s: message \"%s\" lacks \"%s\"", args[0], err.msg, n1);
    if (n2)
        ck_assert_msg(strstr(err.msg, n2), "%s: message \"%s\" lacks \"%s\"", args[0], err.msg, n2);
    ck_assert_msg(memcmp(&c, &before, sizeof c) == 0, "%s: refused flags changed config", args[0]);
}
#define REFUSE(code, n1, n2, ...) \
    refuse_args(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *), (char *[]){__VA_ARGS__}, \
                code, n1, n2)

START_TEST(flag_refusals)
{
    REFUSE(CD_EINVAL, "unknown flag --prot", NULL, "--prot", "80");
    REFUSE(CD_EINVAL, "--port", "needs a value", "--port");
    REFUSE(CD_EINVAL, "flag --port", "\"12x\"", "--port", "12x");
    REFUSE(CD_EINVAL, "flag --port", "0..65535", "--port", "");
    REFUSE(CD_ERANGE, "flag --port", "0..65535", "--threads", "2", "--port", "-1");
    REFUSE(CD_ERANGE, "flag --threads", "1..256", "--threads=1000");
    REFUSE(CD_EINVAL, "flag --port", NULL, "--port", "99999999999999999999");
    REFUSE(CD_EINVAL, "flag --log-level", "error|warn|info|debug", "--log-level", "verbose");
    REFUSE(CD_EINVAL, "flag --device", "\"device\"", "--device", "1:");
    REFUSE(CD_EINVAL, "--set", "KEY=VALUE", "--set", "port");
    REFUSE(CD_EINVAL, "--set", "unknown key \"prot\"", "--set", "prot=1");
    REFUSE(CD_EINVAL, "--set", "unknown key \"models\"", "--set", "models=1");
    REFUSE(CD_ERANGE, "--set", "\"max_delay_us\"", "--set", "max_delay_us=10000001");
    REFUSE(CD_EINVAL, "--set", "unknown key \"speed\"", "--set", "models.r.speed=1");
    REFUSE(CD_ERANGE, "models.r.", "1..256", "--set", "models.r.max_batch=0");
    REFUSE(CD_EINVAL, "models.r.", "max_queue", "--set", "models.r.max_queue=x");
    REFUSE(CD_EINVAL, "unexpected argument", NULL, "serve");
    REFUSE(CD_EINVAL, "unexpected argument", NULL, "--");
    REFUSE(CD_EINVAL, "flag --max-body-bytes", NULL, "--max-body-bytes", "5T");
}
END_TEST

START_TEST(batch_for)
{
    struct cd_config c;
    struct cd_err err = {0};
    cd_config_defaults(&c);
    ck_assert_int_eq(load_text(&c, "{\"max_batch\": 4, \"timeout_ms\": 100, \"models\": "
                                   "{\"big\": {\"max_batch\": 32, \"max_delay_us\": 0}}}",
                               &err), CD_OK);
    struct cd_batch_cfg b = cd_config_batch_for(&c, "small");
    ck_assert_int_eq(b.max_batch, 4);
    ck_assert_int_eq(b.max_delay_us, 2000);
    ck_assert_int_eq(b.max_queue, 64);
    ck_assert_int_eq(b.timeout_ms, 100);
    b = cd_config_batch_for(&c, "big");
    ck_assert_int_eq(b.max_batch, 32);
    ck_assert_int_eq(b.max_delay_us, 0);
    ck_assert_int_eq(b.max_queue, 64);
    ck_assert_int_eq(b.timeout_ms, 100);
    b = cd_config_batch_for(&c, NULL);
    ck_assert_int_eq(b.max_batch, 4);
    /* A flag overrides one field of the same model; the others stay. */
    ck_assert_int_eq(apply(&c, &err, NULL, 2, "--set", "models.big.max_queue=9"), CD_OK);
    b = cd_config_batch_for(&c, "big");
    ck_assert_int_eq(b.max_batch, 32);
    ck_assert_int_eq(b.max_queue, 9);
    ck_assert_int_eq(c.n_overrides, 1);
}
END_TEST

START_TEST(usage_lists_everything)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cd_config_usage(f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "usage: convd"));
    ck_assert_ptr_nonnull(strstr(text, "--config FILE"));
    ck_assert_ptr_nonnull(strstr(text, "int, default 8080, range 0..65535"));
    ck_assert_ptr_nonnull(strstr(text, "string, default \"info\", one of error|warn|info|debug"));
    ck_assert_ptr_nonnull(strstr(text, "size, default 16777216, range 1024..1073741824"));
    free(text);
    char names[64][64];
    int n = usage_keys(names, 64);
    ck_assert_int_ge(n, 18);   /* the exact set: shipped_file_is_defaults */
    ck_assert_str_eq(names[0], "host");
    ck_assert_str_eq(names[n - 1], "models");
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, shipped_file_is_defaults);
    tcase_add_test(tc, file_over_defaults);
    tcase_add_test(tc, flags_over_file);
    tcase_add_test(tc, find_file_arg);
    tcase_add_test(tc, file_refusals);
    tcase_add_test(tc, flag_refusals);
    tcase_add_test(tc, batch_for);
    tcase_add_test(tc, usage_lists_everything);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(config_suite)
