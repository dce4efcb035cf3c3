/* api.h — the route handlers (api_*.c). Each parses and validates its
 * request, answers errors at once, and for inference builds a job, defers
 * the HTTP answer and submits the job to the batcher. */
#ifndef CD_API_H
#define CD_API_H

#include "routes.h"

#define CD_API_FN(n)                                                          \
    void cd_api_##n(struct cd_http_req *r, struct cd_server *srv,             \
                    const char *const *params)

CD_API_FN(healthz);         /* GET /healthz */
CD_API_FN(readyz);          /* GET /readyz */
CD_API_FN(metrics);         /* GET /metrics */
CD_API_FN(v1_models);       /* GET /v1/models */
CD_API_FN(v1_classify);     /* POST /v1/models/{m}/classify */
CD_API_FN(v1_segment);      /* POST /v1/models/{m}/segment */
CD_API_FN(v1_cam);          /* POST /v1/models/{m}/cam */
CD_API_FN(v2_server);       /* GET /v2 */
CD_API_FN(v2_live);         /* GET /v2/health/live */
CD_API_FN(v2_ready);        /* GET /v2/health/ready */
CD_API_FN(v2_model);        /* GET /v2/models/{m} */
CD_API_FN(v2_model_ready);  /* GET /v2/models/{m}/ready */
CD_API_FN(v2_infer);        /* POST /v2/models/{m}/infer */
CD_API_FN(v2_repo_index);   /* POST /v2/repository/index (admin) */
CD_API_FN(v2_repo_load);    /* POST /v2/repository/models/{m}/load (admin) */
CD_API_FN(v2_repo_unload);  /* POST /v2/repository/models/{m}/unload (admin) */
CD_API_FN(ui_index);        /* GET /, /ui/ (the web console's page) */
CD_API_FN(ui_file);         /* GET /ui/{file} */

#endif
