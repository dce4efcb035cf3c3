/* json_util.c — jansson helpers shared by the model.json parsers: key-list
 * membership and unknown-key refusal. It must not allocate, keep references
 * to the JSON, or know anything about the model format itself. */
#include "json_util.h"

#include <string.h>

bool cd_json_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return true;
        p = c ? c + 1 : NULL;
    }
    return false;
}

int cd_json_check_keys(const json_t *obj, const char *allowed,
                       const char *what, struct cd_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
        if (!cd_json_listed(allowed, k))
            return cd_err_set(err, CD_EINVAL, "unknown %s key \"%.64s\"",
                              what, k);
    return CD_OK;
}
