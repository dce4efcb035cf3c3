/* err.c — formatting of struct cd_err messages and status names.
 * Must stay free of allocation and of any dependency beyond libc. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cd_err_set(struct cd_err *e, int code, const char *fmt, ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

int cd_err_wrap(struct cd_err *e, const char *fmt, ...)
{
    if (!e)
        return CD_EINVAL;
    char prefix[256], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old);
    return e->code;
}

const char *cd_status_name(int code)
{
    static const char *const names[CD_STATUS_COUNT] = {
        [CD_OK] = "CD_OK",
        [CD_EINVAL] = "CD_EINVAL",
        [CD_ENOMEM] = "CD_ENOMEM",
        [CD_EIO] = "CD_EIO",
        [CD_EFORMAT] = "CD_EFORMAT",
        [CD_EUNSUPPORTED] = "CD_EUNSUPPORTED",
        [CD_EDEVICE] = "CD_EDEVICE",
        [CD_ERANGE] = "CD_ERANGE",
        [CD_EBUSY] = "CD_EBUSY",
        [CD_ETIMEDOUT] = "CD_ETIMEDOUT",
        [CD_ESHUTDOWN] = "CD_ESHUTDOWN",
    };
    if (code < 0 || code >= CD_STATUS_COUNT)
        return "CD_EUNKNOWN";
    return names[code];
}
