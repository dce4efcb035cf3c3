/* api_health.c — the process and server endpoints: /healthz, /readyz,
 * /metrics, and KServe's /v2, /v2/health/live, /v2/health/ready. They answer
 * at once from the registry and the metrics; none of them touches a model's
 * queue or the device. */
#include "server/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/metrics.h"

#define CD_SERVER_NAME "convd"
#define CD_SERVER_VERSION "0.1.0"

static bool server_ready(struct cd_server *srv)
{
    return !srv->stopping && cd_registry_all_ready(srv->reg);
}

CD_API_FN(healthz)
{
    cd_http_set_labels(r, NULL, -1, "health");
    cd_http_respond_json(r, 200, json_pack("{s:s}", "status", "alive"));
}

CD_API_FN(readyz)
{
    cd_http_set_labels(r, NULL, -1, "health");
    if (server_ready(srv)) {
        cd_http_respond_json(r, 200, json_pack("{s:s}", "status", "ready"));
        return;
    }
    struct cd_served **list = NULL;
    int n = 0;
    json_t *bad = json_array();
    char msg[512] = "";
    size_t used = 0;
    if (srv->stopping)
        used = (size_t)snprintf(msg, sizeof msg, "the server is stopping");
    if (cd_registry_list(srv->reg, &list, &n) == CD_OK) {
        for (int i = 0; i < n; i++) {
            if (list[i]->state != CD_SERVED_READY) {
                json_array_append_new(bad, json_pack("{s:s, s:s}", "name", list[i]->name,
                                                     "reason", list[i]->reason));
                if (used < sizeof msg)
                    used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s",
                                             used ? ", " : "models not ready: ",
                                             list[i]->name);
            }
            cd_served_unref(list[i]);
        }
        free(list);
    }
    if (!msg[0])
        snprintf(msg, sizeof msg, "not ready");
    cd_http_respond_json(r, 503, json_pack("{s:s, s:{s:i, s:s}, s:o}", "status",
                                           "not ready", "error", "code", 503,
                                           "message", msg, "not_ready", bad));
}

CD_API_FN(metrics)
{
    size_t len = 0;
    cd_http_set_labels(r, NULL, -1, "metrics");
    char *text = cd_metrics_render(&len);
    if (!text) {
        cd_http_respond_error(r, 500, "cannot render the metrics");
        return;
    }
    cd_http_respond(r, 200, "text/plain; version=0.0.4", text, len);
}

CD_API_FN(v2_server)
{
    cd_http_set_labels(r, NULL, -1, "metadata");
    cd_http_respond_json(r, 200, json_pack("{s:s, s:s, s:[s, s]}", "name",
                                           CD_SERVER_NAME, "version", CD_SERVER_VERSION,
                                           "extensions", "binary_tensor_data",
                                           "model_repository"));
}

CD_API_FN(v2_live)
{
    cd_http_set_labels(r, NULL, -1, "health");
    cd_http_respond_json(r, 200, json_pack("{s:b}", "live", 1));
}

CD_API_FN(v2_ready)
{
    cd_http_set_labels(r, NULL, -1, "health");
    bool ok = server_ready(srv);
    cd_http_respond_json(r, ok ? 200 : 503, json_pack("{s:b}", "ready", ok));
}
