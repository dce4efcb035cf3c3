/* auth.h — optional API keys. Keys come from one file (api_keys_file), one
 * per line, readable by the service only; when keys are configured every
 * route that is not public needs "Authorization: Bearer <key>", checked in
 * constant time, and admin routes are only enabled when keys exist. Keys are
 * never logged. */
#ifndef CD_AUTH_H
#define CD_AUTH_H

#include "engine/err.h"

#include <stdbool.h>

#define CD_AUTH_KEY_MIN 16      /* shortest key accepted in the file */
#define CD_AUTH_KEY_MAX 256     /* longest key (bytes); also the compared width */
#define CD_AUTH_MAX_KEYS 64

/* Who may call a route. The zero value is the safe default. */
enum cd_route_access {
    CD_ACCESS_KEYED = 0,    /* needs a key when keys are configured */
    CD_ACCESS_PUBLIC,       /* never needs a key (health probes) */
    CD_ACCESS_ADMIN,        /* needs a key; disabled (403) without keys */
    CD_ACCESS_COUNT
};

enum cd_auth_result {
    CD_AUTH_OK = 0,
    CD_AUTH_MISSING,        /* no Authorization header, or not "Bearer" */
    CD_AUTH_INVALID,        /* a Bearer token that matches no key */
    CD_AUTH_RESULT_COUNT
};

struct cd_auth;
struct cd_http_req;

/* Reads the keys file; path "" gives an auth with no keys (everything open,
 * admin disabled). Refused with a message: unreadable file, a file that
 * group or others may read or write, not a regular file, no key, a key
 * shorter than CD_AUTH_KEY_MIN or longer than CD_AUTH_KEY_MAX, characters
 * outside the RFC 6750 token set, more than CD_AUTH_MAX_KEYS keys. Messages
 * name the file and line, never a key. *out owned. */
int cd_auth_init(struct cd_auth **out, const char *path, struct cd_err *err);
void cd_auth_free(struct cd_auth *a);          /* NULL ok; wipes the keys */

int cd_auth_n_keys(const struct cd_auth *a);   /* 0 for NULL */

/* Checks an Authorization header value (NULL when absent) against every key:
 * each comparison runs over CD_AUTH_KEY_MAX bytes whatever the lengths, and
 * all keys are compared, so the time does not depend on how much of a key
 * matched, on the key lengths or on which key matched. */
enum cd_auth_result cd_auth_check(const struct cd_auth *a, const char *header);

/* The dispatcher's gate: true when the request may go on; otherwise it has
 * answered 401 (with WWW-Authenticate: Bearer) or 403 (admin disabled). */
bool cd_auth_gate(const struct cd_auth *a, struct cd_http_req *r,
                  enum cd_route_access access);

#endif
