/* http.h — the HTTP layer as seen by handlers: request accessors, responses,
 * deferred answers. Only http.c includes <microhttpd.h>. libmicrohttpd runs
 * an internal thread pool with epoll; a handler either responds at once or
 * calls cd_http_defer() and returns, and later any thread responds, which
 * resumes the suspended connection. Every request gets exactly one response. */
#ifndef CD_HTTP_H
#define CD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cd_http_req;   /* owned by http.c, valid until its response is sent */
struct cd_server;

/* Request accessors (borrowed strings, valid for the request's life). */
const char *cd_http_method(const struct cd_http_req *r);
const char *cd_http_path(const struct cd_http_req *r);     /* no query string */
const char *cd_http_query(const struct cd_http_req *r, const char *key);
const char *cd_http_header(const struct cd_http_req *r, const char *name);
const void *cd_http_body(const struct cd_http_req *r, size_t *len);

/* Labels used by the request log line and the metrics. */
void cd_http_set_labels(struct cd_http_req *r, const char *model,
                        int metrics_slot, const char *endpoint);
void cd_http_set_batch(struct cd_http_req *r, int batch_size);

/* Handler state kept across a deferral; free_fn runs when the request ends
 * (also when the client went away). */
void cd_http_set_state(struct cd_http_req *r, void *state,
                       void (*free_fn)(void *state));
void *cd_http_get_state(const struct cd_http_req *r);

/* Extra response header, before responding (copied). */
void cd_http_add_header(struct cd_http_req *r, const char *name,
                        const char *value);
/* Responses. body is owned (malloc'd) and freed by the HTTP layer. */
void cd_http_respond(struct cd_http_req *r, int status,
                     const char *content_type, void *body, size_t len);
void cd_http_respond_json(struct cd_http_req *r, int status,
                          json_t *obj /* stolen */);
/* {"error":{"code":status,"message":"..."}} */
void cd_http_respond_error(struct cd_http_req *r, int status,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The handler will answer later, from any thread, with cd_http_respond*. */
void cd_http_defer(struct cd_http_req *r);

/* Server lifecycle (called by main). */
struct cd_http;
int cd_http_start(struct cd_http **out, struct cd_server *srv,
                  char *errbuf, size_t errlen);
int cd_http_port(const struct cd_http *h);  /* the bound port */
/* Stops accepting new connections (quiesce); in-flight requests finish. */
void cd_http_quiesce(struct cd_http *h);
/* Number of requests accepted and not yet answered. */
int cd_http_in_flight(const struct cd_http *h);
void cd_http_stop(struct cd_http *h);       /* NULL ok */

#endif
