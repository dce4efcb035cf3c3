/* routes.c — the route table and the dispatcher: matches the raw request
 * path segment by segment, percent-decodes and checks "{}" captures, labels
 * the request for logs and metrics, and calls the handler. Unknown paths get
 * 404, known paths with another method 405 with Allow. It does no request
 * parsing beyond the path and never answers for a handler (the API-key gate
 * of auth.c may answer 401/403 first). */
#include "server/routes.h"

#include "server/api.h"
#include "server/http.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SEG_CAP 128     /* a captured segment: at most 127 bytes decoded */
#define MAX_SEGS 16

static const struct cd_route routes[] = {
    {"GET", "/healthz", cd_api_healthz, "health", CD_ACCESS_PUBLIC},
    {"GET", "/readyz", cd_api_readyz, "health", CD_ACCESS_PUBLIC},
    {"GET", "/metrics", cd_api_metrics, "metrics", CD_ACCESS_KEYED},
    {"GET", "/v1/models", cd_api_v1_models, "models", CD_ACCESS_KEYED},
    {"POST", "/v1/models/{}/classify", cd_api_v1_classify, "classify", CD_ACCESS_KEYED},
    {"POST", "/v1/models/{}/segment", cd_api_v1_segment, "segment", CD_ACCESS_KEYED},
    {"POST", "/v1/models/{}/cam", cd_api_v1_cam, "cam", CD_ACCESS_KEYED},
    {"GET", "/v2", cd_api_v2_server, "metadata", CD_ACCESS_KEYED},
    {"GET", "/v2/health/live", cd_api_v2_live, "health", CD_ACCESS_PUBLIC},
    {"GET", "/v2/health/ready", cd_api_v2_ready, "health", CD_ACCESS_PUBLIC},
    {"GET", "/v2/models/{}", cd_api_v2_model, "metadata", CD_ACCESS_KEYED},
    {"GET", "/v2/models/{}/ready", cd_api_v2_model_ready, "health", CD_ACCESS_KEYED},
    {"POST", "/v2/models/{}/infer", cd_api_v2_infer, "infer", CD_ACCESS_KEYED},
    {"POST", "/v2/repository/index", cd_api_v2_repo_index, "repository", CD_ACCESS_ADMIN},
    {"POST", "/v2/repository/models/{}/load", cd_api_v2_repo_load, "repository",
     CD_ACCESS_ADMIN},
    {"POST", "/v2/repository/models/{}/unload", cd_api_v2_repo_unload, "repository",
     CD_ACCESS_ADMIN},
    /* The console's static files are public, so that the page can load and
     * ask for the key; every API call it makes sends the key (api_ui.c). */
    {"GET", "/", cd_api_ui_index, "ui", CD_ACCESS_PUBLIC},
    {"GET", "/ui/", cd_api_ui_index, "ui", CD_ACCESS_PUBLIC},
    {"GET", "/ui/{}", cd_api_ui_file, "ui", CD_ACCESS_PUBLIC},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

struct seg {
    const char *p;
    size_t n;
};

/* Splits "/a/b/c" into segments; false if the path does not start with '/'
 * or has too many segments. "/" is one empty segment. */
static bool split(const char *path, struct seg *s, int *n)
{
    if (path[0] != '/')
        return false;
    *n = 0;
    const char *p = path + 1;
    for (;;) {
        if (*n == MAX_SEGS)
            return false;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        s[(*n)++] = (struct seg){p, len};
        if (!e)
            return true;
        p = e + 1;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes one captured segment into out; NULL and a reason when
 * it is not acceptable as a name. */
static const char *decode_seg(struct seg s, char *out, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c == '%') {
            int hi = i + 2 < s.n ? hexval(s.p[i + 1]) : -1;
            int lo = i + 2 < s.n ? hexval(s.p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "bad percent escape";
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || c == '/') {
            *why = "'/' or NUL in a name";
            return NULL;
        }
        if (o + 1 >= SEG_CAP) {
            *why = "name longer than 127 bytes";
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        *why = o == 0 ? "empty name" : "'.' or '..' as a name";
        return NULL;
    }
    return out;
}

/* Does the pattern match the segments (captures unchecked)? */
static bool pattern_matches(const char *pattern, const struct seg *s, int n)
{
    struct seg ps[MAX_SEGS];
    int pn;
    if (!split(pattern, ps, &pn) || pn != n)
        return false;
    for (int i = 0; i < n; i++) {
        if (ps[i].n == 2 && memcmp(ps[i].p, "{}", 2) == 0)
            continue;
        if (ps[i].n != s[i].n || memcmp(ps[i].p, s[i].p, s[i].n) != 0)
            return false;
    }
    return true;
}

void cd_routes_dispatch(struct cd_server *srv, struct cd_http_req *r)
{
    const char *path = cd_http_path(r), *method = cd_http_method(r);
    struct seg s[MAX_SEGS];
    int n = 0;
    cd_http_set_labels(r, NULL, -1, "other");
    if (!split(path, s, &n)) {
        if (!cd_auth_gate(srv->auth, r, CD_ACCESS_KEYED))
            return;
        cd_http_respond_error(r, 404, "no such route");
        return;
    }
    char allow[64] = "";
    for (size_t k = 0; k < N_ROUTES; k++) {
        const struct cd_route *rt = &routes[k];
        if (!pattern_matches(rt->pattern, s, n))
            continue;
        if (strcmp(rt->method, method) != 0) {
            if (!strstr(allow, rt->method))
                snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                         allow[0] ? ", " : "", rt->method);
            continue;
        }
        cd_http_set_labels(r, NULL, -1, rt->endpoint);
        if (!cd_auth_gate(srv->auth, r, rt->access))
            return;
        /* Captures, in order; params live until the handler returns. */
        struct seg ps[MAX_SEGS];
        int pn;
        split(rt->pattern, ps, &pn);
        char buf[CD_ROUTE_MAX_PARAMS][SEG_CAP];
        const char *params[CD_ROUTE_MAX_PARAMS + 1] = {NULL};
        int np = 0;
        for (int i = 0; i < pn; i++) {
            if (!(ps[i].n == 2 && memcmp(ps[i].p, "{}", 2) == 0))
                continue;
            if (np == CD_ROUTE_MAX_PARAMS) {
                cd_http_respond_error(r, 500, "route has too many parameters");
                return;
            }
            const char *why = "";
            if (!decode_seg(s[i], buf[np], &why)) {
                cd_http_respond_error(r, 400, "invalid path segment %d: %s", i + 1, why);
                return;
            }
            params[np] = buf[np];
            np++;
        }
        rt->fn(r, srv, params);
        return;
    }
    /* Unknown path or method: only key holders learn which. */
    if (!cd_auth_gate(srv->auth, r, CD_ACCESS_KEYED))
        return;
    if (allow[0]) {
        cd_http_add_header(r, "Allow", allow);
        cd_http_respond_error(r, 405, "method %.16s not allowed here (allowed: %s)",
                              method, allow);
        return;
    }
    cd_http_respond_error(r, 404, "no such route: %.200s", path);
}
