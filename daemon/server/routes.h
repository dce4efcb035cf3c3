/* routes.h — the route table: method + path pattern -> handler. A pattern
 * segment "{}" captures one path segment (percent-decoded, refused if it
 * contains '/', NUL or is ".."). Unknown path -> 404, known path with another
 * method -> 405 with Allow. With API keys configured, every route but the
 * public ones (and every unknown path) needs a key first (auth.h). */
#ifndef CD_ROUTES_H
#define CD_ROUTES_H

#include "auth.h"
#include "server.h"

#define CD_ROUTE_MAX_PARAMS 2

typedef void (*cd_route_fn)(struct cd_http_req *r, struct cd_server *srv,
                            const char *const *params);

struct cd_route {
    const char *method;     /* "GET", "POST" */
    const char *pattern;    /* "/v2/models/{}/infer" */
    cd_route_fn fn;
    const char *endpoint;   /* label for logs and metrics */
    enum cd_route_access access; /* omitted = CD_ACCESS_KEYED (auth.h) */
};

/* Called by http.c once the body is complete. */
void cd_routes_dispatch(struct cd_server *srv, struct cd_http_req *r);

#endif
