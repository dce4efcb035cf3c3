/* config.c — the daemon's configuration, driven by ONE table of keys (name,
 * type, offset, default, bounds, reloadable, help): defaults, the JSON config
 * file, command-line flags and the usage text all read it. Precedence:
 * defaults < file < flags. A bad value is refused with a message naming the
 * key (and flag); nothing here exits, and a refused input leaves c unchanged. */
#include "server/config.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum ktype { KT_STR, KT_INT, KT_SIZE, KT_BOOL };

struct key {
    const char *name;
    enum ktype type;
    size_t off;             /* offset in struct cd_config */
    size_t cap;             /* KT_STR: field size (with the NUL) */
    const char *def_str;    /* KT_STR default */
    long long def, min, max;
    bool reloadable;        /* no key is re-read on SIGHUP yet: all false */
    const char *choices;    /* KT_STR: "a|b|c" or NULL; checked by check() */
    int (*check)(const char *v);  /* KT_STR: extra validation, 0 = bad */
    const char *help;
};

#define F(field) offsetof(struct cd_config, field)
#define STR(n, field, d, chk, ch, h) \
    {n, KT_STR, F(field), sizeof(((struct cd_config *)0)->field), d, 0, 0, 0, false, ch, chk, h}
#define INT(n, field, d, lo, hi, h) \
    {n, KT_INT, F(field), 0, NULL, d, lo, hi, false, NULL, NULL, h}
#define SIZE(n, field, d, lo, hi, h) \
    {n, KT_SIZE, F(field), 0, NULL, d, lo, hi, false, NULL, NULL, h}
#define BOOL(n, field, d, h) \
    {n, KT_BOOL, F(field), 0, NULL, d, 0, 1, false, NULL, NULL, h}

#define KiB 1024LL
#define MiB (1024LL * KiB)
#define GiB (1024LL * MiB)

static int check_nonempty(const char *v) { return v[0] != '\0'; }

static int check_level(const char *v)
{
    return !strcmp(v, "error") || !strcmp(v, "warn") || !strcmp(v, "info") ||
           !strcmp(v, "debug");
}

/* auto | gpu | cpu | ref | P:D with decimal platform and device indices. */
static int check_device(const char *v)
{
    if (!strcmp(v, "auto") || !strcmp(v, "gpu") || !strcmp(v, "cpu") ||
        !strcmp(v, "ref"))
        return 1;
    const char *p = v;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4)
        p++, digits++;
    if (!digits || *p++ != ':')
        return 0;
    digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4)
        p++, digits++;
    return digits && !*p;
}

static const struct key keys[] = {
    STR("host", host, "127.0.0.1", check_nonempty, NULL,
        "Listen address: an IPv4 or IPv6 literal (\"127.0.0.1\", \"::1\", \"0.0.0.0\")."),
    INT("port", port, 8080, 0, 65535,
        "Listen port; 0 picks a free port (logged, and written to port_file)."),
    STR("models_dir", models_dir, "models", check_nonempty, NULL,
        "Directory whose sub-folders are the models served (flag --models)."),
    STR("device", device, "auto", check_device, "auto|gpu|cpu|ref|P:D",
        "Where models run: OpenCL GPU, OpenCL CPU (POCL), auto (GPU else CPU), "
        "the plain-C reference, or OpenCL platform:device indices."),
    STR("cache_dir", cache_dir, "", NULL, NULL,
        "OpenCL program cache (and POCL's kernel objects in its pocl/ sub-folder when "
        "writable, unless $POCL_CACHE_DIR is set); empty means $CACHE_DIRECTORY, else "
        "~/.cache/convd."),
    STR("log_level", log_level, "info", check_level, "error|warn|info|debug",
        "Least severe log level written to stderr."),
    INT("threads", threads, 4, 1, 256, "HTTP thread pool size."),
    INT("max_connections", max_connections, 1024, 1, 100000,
        "Open connections accepted at once."),
    INT("connection_timeout_s", connection_timeout_s, 30, 1, 3600,
        "Seconds an idle connection is kept."),
    INT("max_connections_per_ip", max_connections_per_ip, 128, 0, 100000,
        "Open connections accepted at once from one client address; 0 = no limit."),
    INT("body_timeout_s", body_timeout_s, 60, 1, 3600,
        "Seconds a request may take from its first line to the end of its body; "
        "a slower sender (slow drip) is disconnected."),
    SIZE("max_body_bytes", max_body_bytes, 16 * MiB, KiB, GiB,
         "Largest request body; larger ones get 413 before being read. "
         "Accepts K, M, G suffixes (binary)."),
    SIZE("max_image_pixels", max_image_pixels, 40000000, 1, 1000000000,
         "Largest decoded image, width*height; larger ones get 400."),
    INT("max_audio_seconds", max_audio_seconds, 30, 1, 3600,
        "Longest WAV accepted, in seconds (from its header, before decoding); "
        "longer ones get 400."),
    INT("max_top_k", max_top_k, 100, 1, 100000,
        "Largest ?top=K for classification."),
    INT("max_batch", batch.max_batch, 8, 1, 256,
        "Default: largest batch the device worker runs for a model."),
    INT("max_delay_us", batch.max_delay_us, 2000, 0, 10000000,
        "Default: microseconds the first queued job waits for others to batch with."),
    INT("max_queue", batch.max_queue, 64, 1, 100000,
        "Default: queued jobs per model; more get 503 with Retry-After."),
    INT("timeout_ms", batch.timeout_ms, 10000, 1, 3600000,
        "Default: deadline of a job from arrival; a job still queued after it gets 504."),
    STR("port_file", port_file, "", NULL, NULL,
        "If set, the bound port is written to this file once listening (tests)."),
    STR("api_keys_file", api_keys_file, "", NULL, NULL,
        "File of API keys, one per line, readable by the service only; when set, "
        "every endpoint but /healthz, /readyz, /v2/health/* and the console's files needs "
        "Authorization: Bearer KEY, and the admin endpoints are enabled."),
    BOOL("ui_enabled", ui_enabled, 1,
         "Serve the web console at / and /ui/*; false answers 404 there."),
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

/* ---- setting one value -------------------------------------------------- */

static int set_num(struct cd_config *c, const struct key *k, long long v,
                   const char *where, struct cd_err *err)
{
    if (v < k->min || v > k->max)
        return cd_err_set(err, CD_ERANGE, "%skey \"%s\": %lld is out of range %lld..%lld",
                          where, k->name, v, k->min, k->max);
    char *p = (char *)c + k->off;
    if (k->type == KT_SIZE) {
        size_t s = (size_t)v;
        memcpy(p, &s, sizeof s);
    } else if (k->type == KT_BOOL) {
        bool b = v != 0;
        memcpy(p, &b, sizeof b);
    } else {
        int i = (int)v;
        memcpy(p, &i, sizeof i);
    }
    return CD_OK;
}

static int set_str(struct cd_config *c, const struct key *k, const char *v,
                   const char *where, struct cd_err *err)
{
    size_t n = strlen(v);
    if (n >= k->cap)
        return cd_err_set(err, CD_ERANGE, "%skey \"%s\": value is %zu bytes, at most %zu allowed",
                          where, k->name, n, k->cap - 1);
    if (k->check && !k->check(v)) {
        if (k->choices)
            return cd_err_set(err, CD_EINVAL, "%skey \"%s\": \"%.64s\" is not one of %s",
                              where, k->name, v, k->choices);
        return cd_err_set(err, CD_EINVAL, "%skey \"%s\": must not be empty", where, k->name);
    }
    char *p = (char *)c + k->off;
    memset(p, 0, k->cap);
    memcpy(p, v, n);
    return CD_OK;
}

/* Decimal integer, all of s; for sizes an optional K/M/G (KiB, MiB, GiB)
 * suffix. Returns 0 on success. */
static int parse_ll(const char *s, bool size_suffix, long long *out)
{
    if (!*s || *s == ' ' || *s == '+')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s)
        return -1;
    if (size_suffix && *end) {
        long long mul = 0;
        if (!strcmp(end, "K") || !strcmp(end, "KiB"))
            mul = KiB;
        else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
            mul = MiB;
        else if (!strcmp(end, "G") || !strcmp(end, "GiB"))
            mul = GiB;
        if (!mul || v < 0 || v > INT64_MAX / mul)
            return -1;
        v *= mul;
        end += strlen(end);
    }
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, long long *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "on"))
        return *out = 1, 0;
    if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "off"))
        return *out = 0, 0;
    return -1;
}

/* A value given as text (a flag). */
static int set_text(struct cd_config *c, const struct key *k, const char *v,
                    const char *where, struct cd_err *err)
{
    long long n;
    switch (k->type) {
    case KT_STR:
        return set_str(c, k, v, where, err);
    case KT_BOOL:
        if (parse_bool(v, &n))
            return cd_err_set(err, CD_EINVAL, "%skey \"%s\": \"%.64s\" is not a boolean (true|false)",
                              where, k->name, v);
        return set_num(c, k, n, where, err);
    default:
        if (parse_ll(v, k->type == KT_SIZE, &n))
            return cd_err_set(err, CD_EINVAL, "%skey \"%s\": \"%.64s\" is not %s in %lld..%lld",
                              where, k->name, v,
                              k->type == KT_SIZE ? "a size (bytes, or N with K/M/G)" : "an integer",
                              k->min, k->max);
        return set_num(c, k, n, where, err);
    }
}

/* A value given as JSON (the config file). */
static int set_json(struct cd_config *c, const struct key *k, json_t *v,
                    const char *where, struct cd_err *err)
{
    switch (k->type) {
    case KT_STR:
        if (!json_is_string(v))
            return cd_err_set(err, CD_EINVAL, "%skey \"%s\": must be a string", where, k->name);
        if (strlen(json_string_value(v)) != json_string_length(v))
            return cd_err_set(err, CD_EINVAL, "%skey \"%s\": must not contain NUL", where, k->name);
        return set_str(c, k, json_string_value(v), where, err);
    case KT_BOOL:
        if (!json_is_boolean(v))
            return cd_err_set(err, CD_EINVAL, "%skey \"%s\": must be true or false", where, k->name);
        return set_num(c, k, json_is_true(v), where, err);
    default:
        if (k->type == KT_SIZE && json_is_string(v))
            return set_text(c, k, json_string_value(v), where, err);
        if (!json_is_integer(v))
            return cd_err_set(err, CD_EINVAL, "%skey \"%s\": must be an integer in %lld..%lld",
                              where, k->name, k->min, k->max);
        return set_num(c, k, (long long)json_integer_value(v), where, err);
    }
}

/* ---- per-model overrides ------------------------------------------------ */

static int *override_field(struct cd_batch_cfg *b, const char *name)
{
    if (!strcmp(name, "max_batch"))
        return &b->max_batch;
    if (!strcmp(name, "max_delay_us"))
        return &b->max_delay_us;
    if (!strcmp(name, "max_queue"))
        return &b->max_queue;
    if (!strcmp(name, "timeout_ms"))
        return &b->timeout_ms;
    return NULL;
}

/* The override for a model name, created (all fields -1) if absent. */
static struct cd_model_override *override_get(struct cd_config *c, const char *model,
                                              const char *where, struct cd_err *err)
{
    size_t n = strlen(model);
    if (n == 0 || n >= sizeof c->overrides[0].name) {
        cd_err_set(err, CD_EINVAL, "%skey \"models\": model name must be 1..%zu bytes",
                   where, sizeof c->overrides[0].name - 1);
        return NULL;
    }
    for (int i = 0; i < c->n_overrides; i++)
        if (!strcmp(c->overrides[i].name, model))
            return &c->overrides[i];
    if (c->n_overrides >= CD_CONFIG_MAX_MODEL_OVERRIDES) {
        cd_err_set(err, CD_ERANGE, "%skey \"models\": more than %d models overridden",
                   where, CD_CONFIG_MAX_MODEL_OVERRIDES);
        return NULL;
    }
    struct cd_model_override *o = &c->overrides[c->n_overrides++];
    memset(o, 0, sizeof *o);
    memcpy(o->name, model, n);
    o->batch = (struct cd_batch_cfg){-1, -1, -1, -1};
    return o;
}

/* Sets models.MODEL.FIELD from JSON (text == NULL) or from text. */
static int override_set(struct cd_config *c, const char *model, const char *field,
                        json_t *jv, const char *text, const char *where,
                        struct cd_err *err)
{
    const struct key *k = find_key(field);
    struct cd_batch_cfg probe;
    if (!k || !override_field(&probe, field))
        return cd_err_set(err, CD_EINVAL,
                          "%skey \"models\": model \"%.128s\": unknown key \"%.64s\" "
                          "(allowed: max_batch, max_delay_us, max_queue, timeout_ms)",
                          where, model, field);
    struct cd_model_override *o = override_get(c, model, where, err);
    if (!o)
        return err ? err->code : CD_EINVAL;
    long long v;
    if (jv) {
        if (!json_is_integer(jv))
            return cd_err_set(err, CD_EINVAL,
                              "%skey \"models.%.128s.%s\": must be an integer in %lld..%lld",
                              where, model, field, k->min, k->max);
        v = (long long)json_integer_value(jv);
    } else if (parse_ll(text, false, &v)) {
        return cd_err_set(err, CD_EINVAL,
                          "%skey \"models.%.128s.%s\": \"%.64s\" is not an integer in %lld..%lld",
                          where, model, field, text, k->min, k->max);
    }
    if (v < k->min || v > k->max)
        return cd_err_set(err, CD_ERANGE,
                          "%skey \"models.%.128s.%s\": %lld is out of range %lld..%lld",
                          where, model, field, v, k->min, k->max);
    *override_field(&o->batch, field) = (int)v;
    return CD_OK;
}

static int load_models(struct cd_config *c, json_t *obj, const char *where,
                       struct cd_err *err)
{
    if (!json_is_object(obj))
        return cd_err_set(err, CD_EINVAL,
                          "%skey \"models\": must be an object {\"MODEL\": {\"max_batch\": N, ...}}",
                          where);
    const char *model;
    json_t *per;
    json_object_foreach(obj, model, per) {
        if (!json_is_object(per))
            return cd_err_set(err, CD_EINVAL, "%skey \"models\": model \"%.128s\": must be an object",
                              where, model);
        if (!override_get(c, model, where, err))
            return err ? err->code : CD_EINVAL;
        const char *field;
        json_t *v;
        json_object_foreach(per, field, v) {
            int rc = override_set(c, model, field, v, NULL, where, err);
            if (rc)
                return rc;
        }
    }
    return CD_OK;
}

/* ---- public API --------------------------------------------------------- */

void cd_config_defaults(struct cd_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_KEYS; i++) {
        const struct key *k = &keys[i];
        if (k->type == KT_STR)
            set_str(c, k, k->def_str, "", NULL);
        else
            set_num(c, k, k->def, "", NULL);
    }
}

int cd_config_load_file(struct cd_config *c, const char *path, struct cd_err *err)
{
    if (!c || !path)
        return cd_err_set(err, CD_EINVAL, "config: no file given");
    struct cd_config *tmp = malloc(sizeof *tmp);
    if (!tmp)
        return cd_err_set(err, CD_ENOMEM, "config file %s: out of memory", path);
    *tmp = *c;
    char where[1100];
    snprintf(where, sizeof where, "config file %s: ", path);
    json_error_t jerr;
    json_t *root = NULL;
    int rc;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = cd_err_set(err, CD_EIO, "config file %s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        rc = cd_err_set(err, CD_EFORMAT, "%sline %d column %d: %s", where, jerr.line,
                        jerr.column, jerr.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        rc = cd_err_set(err, CD_EFORMAT, "%smust hold one JSON object", where);
        goto fail;
    }
    const char *name;
    json_t *v;
    json_object_foreach(root, name, v) {
        const struct key *k = find_key(name);
        if (!strcmp(name, "models"))
            rc = load_models(tmp, v, where, err);
        else if (!k)
            rc = cd_err_set(err, CD_EINVAL, "%sunknown key \"%.128s\" (see convd --help)",
                            where, name);
        else
            rc = set_json(tmp, k, v, where, err);
        if (rc)
            goto fail;
    }
    *c = *tmp;
    rc = CD_OK;
fail:
    json_decref(root);
    free(tmp);
    return rc;
}

const char *cd_config_find_file_arg(int argc, char **argv)
{
    const char *file = NULL;
    for (int i = 1; i < argc && argv[i]; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            file = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9))
            file = argv[i] + 9;
    }
    return file;
}

/* --set KEY=VALUE: a scalar key, or models.MODEL.FIELD. */
static int apply_set(struct cd_config *c, const char *kv, struct cd_err *err)
{
    const char *eq = strchr(kv, '=');
    char name[256];
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof name)
        return cd_err_set(err, CD_EINVAL, "flag --set: expected KEY=VALUE, got \"%.64s\"", kv);
    memcpy(name, kv, (size_t)(eq - kv));
    name[eq - kv] = '\0';
    const char *val = eq + 1;
    if (!strncmp(name, "models.", 7)) {
        char *dot = strrchr(name, '.');
        if (dot == name + 6)
            return cd_err_set(err, CD_EINVAL,
                              "flag --set: expected models.MODEL.KEY=N, got \"%.64s\"", name);
        *dot = '\0';
        return override_set(c, name + 7, dot + 1, NULL, val, "flag --set: ", err);
    }
    const struct key *k = find_key(name);
    if (!k)
        return cd_err_set(err, CD_EINVAL, "flag --set: unknown key \"%.64s\" (see convd --help)",
                          name);
    return set_text(c, k, val, "flag --set: ", err);
}

int cd_config_apply_args(struct cd_config *c, int argc, char **argv,
                         bool *want_help, struct cd_err *err)
{
    if (want_help)
        *want_help = false;
    struct cd_config *tmp = malloc(sizeof *tmp);
    if (!tmp)
        return cd_err_set(err, CD_ENOMEM, "flags: out of memory");
    *tmp = *c;
    int rc = CD_OK;
    for (int i = 1; i < argc && argv[i]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (want_help)
                *want_help = true;
            continue;
        }
        if (strncmp(a, "--", 2) || !a[2]) {
            rc = cd_err_set(err, CD_EINVAL, "unexpected argument \"%.64s\" (see convd --help)", a);
            goto fail;
        }
        /* --name VALUE or --name=VALUE; dashes in the name stand for '_'. */
        char flag[128];
        const char *eq = strchr(a, '='), *val;
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        if (n >= sizeof flag) {
            rc = cd_err_set(err, CD_EINVAL, "unknown flag \"%.64s\" (see convd --help)", a);
            goto fail;
        }
        memcpy(flag, a, n);
        flag[n] = '\0';
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc && argv[i + 1]) {
            val = argv[++i];
        } else {
            rc = cd_err_set(err, CD_EINVAL, "flag %s: needs a value", flag);
            goto fail;
        }
        if (!strcmp(flag, "--config"))
            continue;          /* read by cd_config_find_file_arg, applied first */
        if (!strcmp(flag, "--set")) {
            rc = apply_set(tmp, val, err);
            if (rc)
                goto fail;
            continue;
        }
        char name[128];
        for (size_t j = 2; j <= n; j++)
            name[j - 2] = flag[j] == '-' ? '_' : flag[j];
        const struct key *k = !strcmp(name, "models") ? find_key("models_dir")
                                                      : find_key(name);
        if (!k) {
            rc = cd_err_set(err, CD_EINVAL, "unknown flag %s (see convd --help)", flag);
            goto fail;
        }
        char where[160];
        snprintf(where, sizeof where, "flag %s: ", flag);
        rc = set_text(tmp, k, val, where, err);
        if (rc)
            goto fail;
    }
    *c = *tmp;
fail:
    free(tmp);
    return rc;
}

struct cd_batch_cfg cd_config_batch_for(const struct cd_config *c, const char *model)
{
    struct cd_batch_cfg b = c->batch;
    for (int i = 0; model && i < c->n_overrides; i++) {
        const struct cd_batch_cfg *o = &c->overrides[i].batch;
        if (strcmp(c->overrides[i].name, model))
            continue;
        if (o->max_batch >= 0)
            b.max_batch = o->max_batch;
        if (o->max_delay_us >= 0)
            b.max_delay_us = o->max_delay_us;
        if (o->max_queue >= 0)
            b.max_queue = o->max_queue;
        if (o->timeout_ms >= 0)
            b.timeout_ms = o->timeout_ms;
    }
    return b;
}

void cd_config_usage(FILE *f)
{
    fprintf(f,
            "usage: convd [--config FILE] [--KEY VALUE ...] [--set KEY=VALUE ...] [--help]\n"
            "\n"
            "Serves every model folder under models_dir over HTTP (KServe v2 and /v1).\n"
            "Precedence: defaults < config file (JSON object) < flags. Every key below\n"
            "may be given in the config file, as --KEY VALUE or --KEY=VALUE (dashes may\n"
            "replace underscores: --log-level debug), or as --set KEY=VALUE.\n"
            "--models DIR is short for --models-dir DIR. Per-model batching overrides:\n"
            "the file key \"models\", or --set models.MODEL.max_batch=N.\n"
            "\n"
            "keys:\n");
    for (size_t i = 0; i < N_KEYS; i++) {
        const struct key *k = &keys[i];
        char def[160];
        if (k->type == KT_STR)
            snprintf(def, sizeof def, "string, default \"%s\"%s%s", k->def_str,
                     k->choices ? ", one of " : "", k->choices ? k->choices : "");
        else if (k->type == KT_BOOL)
            snprintf(def, sizeof def, "bool, default %s", k->def ? "true" : "false");
        else
            snprintf(def, sizeof def, "%s, default %lld, range %lld..%lld",
                     k->type == KT_SIZE ? "size" : "int", k->def, k->min, k->max);
        fprintf(f, "  %-21s %s%s\n  %-21s   %s\n", k->name, def,
                k->reloadable ? ", reloadable" : "", "", k->help);
    }
    fprintf(f, "  %-21s %s\n  %-21s   %s\n", "models", "object, default {}", "",
            "Per-model overrides of max_batch, max_delay_us, max_queue, timeout_ms: "
            "{\"resnet18\": {\"max_batch\": 16}}; same ranges as the defaults.");
}
