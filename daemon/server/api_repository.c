/* api_repository.c — KServe v2's model repository extension (admin routes):
 * POST /v2/repository/index lists every model folder with its state, and
 * POST /v2/repository/models/{m}/load and /unload (re)load or stop one model.
 * Loads and unloads run on the task thread (tasks.h) and answer when done;
 * the swap itself is the registry's. Nothing here touches a model's queue. */
#include "server/api.h"

#include "server/batcher.h"
#include "server/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum repo_op { REPO_LOAD, REPO_UNLOAD };

struct repo_task {
    struct cd_http_req *r;       /* deferred; answered exactly once */
    struct cd_server *srv;
    enum repo_op op;
    char name[128];
};

/* The optional JSON body: empty, or an object. Returns it (owned; NULL for
 * an empty body) or answers 400 and sets *bad. */
static json_t *parse_body(struct cd_http_req *r, bool *bad)
{
    size_t len = 0;
    const char *body = cd_http_body(r, &len);
    *bad = false;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
                       body[i] == '\n'))
        i++;
    if (i == len)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        cd_http_respond_error(r, 400, j ? "the body must be a JSON object"
                                        : "malformed JSON body: %s", je.text);
        json_decref(j);
        *bad = true;
        return NULL;
    }
    return j;
}

/* Repository requests carry no parameters convd would act on: refuse any,
 * instead of ignoring them. */
static bool check_params(struct cd_http_req *r, json_t *body)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        if (strcmp(key, "parameters") != 0) {
            cd_http_respond_error(r, 400, "unknown key '%.64s' (only \"parameters\")", key);
            return false;
        }
        if (!json_is_object(v) || json_object_size(v) != 0) {
            cd_http_respond_error(r, 400, "\"parameters\" must be an empty object: "
                                  "convd loads a model from its folder as it is");
            return false;
        }
    }
    return true;
}

static int status_of(int rc)
{
    switch (rc) {
    case CD_EINVAL: case CD_EFORMAT: return 400;
    case CD_EIO: return 404;
    case CD_ESHUTDOWN: case CD_EBUSY: return 503;
    default: return 500;
    }
}

static void version_str(int v, char *buf, size_t cap)
{
    if (v > 0)
        snprintf(buf, cap, "%d", v);
    else
        buf[0] = '\0';
}

static void task_run(void *arg)
{
    struct repo_task *t = arg;
    struct cd_server *srv = t->srv;
    struct cd_err err = { 0 };
    int version = 0, rc;
    if (t->op == REPO_LOAD)
        rc = cd_registry_load_one(srv->reg, t->name, cd_batcher_retire, srv->batcher,
                                  &version, &err);
    else
        rc = cd_registry_unload_one(srv->reg, t->name, cd_batcher_retire,
                                    srv->batcher, &err);
    if (rc != CD_OK) {
        cd_http_respond_error(t->r, status_of(rc), "%s", err.msg);
    } else if (t->op == REPO_LOAD) {
        char v[16];
        version_str(version, v, sizeof v);
        cd_http_respond_json(t->r, 200, json_pack("{s:s, s:s, s:s}", "name", t->name,
                                                  "version", v, "state", "READY"));
    } else {
        cd_http_respond_json(t->r, 200, json_pack("{s:s, s:s, s:s}", "name", t->name,
                                                  "state", "UNAVAILABLE", "reason",
                                                  "unloaded"));
    }
    free(t);
}

static void task_cancel(void *arg)
{
    struct repo_task *t = arg;
    cd_http_add_header(t->r, "Retry-After", "1");
    cd_http_respond_error(t->r, 503, "the server is stopping; model '%s' was not %s",
                          t->name, t->op == REPO_LOAD ? "loaded" : "unloaded");
    free(t);
}

static void submit(struct cd_http_req *r, struct cd_server *srv, enum repo_op op,
                   const char *name)
{
    bool bad;
    json_t *body = parse_body(r, &bad);
    if (bad)
        return;
    bool ok = !body || check_params(r, body);
    json_decref(body);
    if (!ok)
        return;
    struct repo_task *t = calloc(1, sizeof *t);
    if (!t) {
        cd_http_respond_error(r, 500, "out of memory");
        return;
    }
    *t = (struct repo_task){ .r = r, .srv = srv, .op = op };
    snprintf(t->name, sizeof t->name, "%s", name);
    cd_http_defer(r);
    struct cd_err err = { 0 };
    int rc = srv->stopping || !srv->tasks
                 ? cd_err_set(&err, CD_ESHUTDOWN, "the server is stopping")
                           : cd_tasks_submit(srv->tasks, task_run, task_cancel, t, &err);
    if (rc != CD_OK) {
        free(t);
        cd_http_add_header(r, "Retry-After", "1");
        cd_http_respond_error(r, status_of(rc), "%s", err.msg);
    }
}

CD_API_FN(v2_repo_load)
{
    submit(r, srv, REPO_LOAD, params[0]);
}

CD_API_FN(v2_repo_unload)
{
    submit(r, srv, REPO_UNLOAD, params[0]);
}

CD_API_FN(v2_repo_index)
{
    bool bad, ready_only = false;
    json_t *body = parse_body(r, &bad);
    if (bad)
        return;
    if (body) {
        const char *key;
        json_t *v;
        json_object_foreach(body, key, v) {
            if (strcmp(key, "ready") != 0 || !json_is_boolean(v)) {
                cd_http_respond_error(r, 400, "the index body may only hold "
                                      "\"ready\": true|false");
                json_decref(body);
                return;
            }
            ready_only = json_is_true(v);
        }
        json_decref(body);
    }
    struct cd_registry_entry *e = NULL;
    int n = 0;
    struct cd_err err = { 0 };
    if (cd_registry_index(srv->reg, &e, &n, &err) != CD_OK) {
        cd_http_respond_error(r, 500, "cannot list the model repository: %s", err.msg);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n && arr; i++) {
        if (ready_only && !e[i].ready)
            continue;
        char v[16];
        version_str(e[i].version, v, sizeof v);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "name", e[i].name,
                                             "version", v, "state",
                                             e[i].ready ? "READY" : "UNAVAILABLE",
                                             "reason", e[i].reason));
    }
    free(e);
    cd_http_respond_json(r, 200, arr);
}
