/* notify.c — sd_notify messages to the service manager through libsystemd:
 * readiness, reload, shutdown, status text and watchdog pings. It decides
 * nothing about the daemon's state; main.c calls it at the transitions. A
 * failed notification is logged once at debug level and never stops the
 * daemon. */
#include "notify.h"

#include "batcher.h"
#include "log.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

static void send_state(const char *state)
{
    int rc = sd_notify(0, state);
    if (rc < 0)
        cd_log(CD_LOG_DEBUG, "notify_failed", "errno=%d", -rc);
}

void cd_notify_init(struct cd_notify *n)
{
    n->watchdog_usec = 0;
    n->next_ping = 0;
    uint64_t usec = 0;
    /* 1: unset WATCHDOG_USEC/WATCHDOG_PID once read. */
    if (sd_watchdog_enabled(1, &usec) > 0 && usec > 0) {
        n->watchdog_usec = usec;
        cd_log(CD_LOG_INFO, "watchdog", "interval_ms=%.0f", usec / 1e3);
    }
}

void cd_notify_ready(struct cd_notify *n, int models_ready, int models_failed)
{
    char msg[256];
    if (n->watchdog_usec)
        snprintf(msg, sizeof msg,
                 "READY=1\nSTATUS=serving %d models (%d failed to load)\n"
                 "WATCHDOG=1\nWATCHDOG_USEC=%llu",
                 models_ready, models_failed, (unsigned long long)n->watchdog_usec);
    else
        snprintf(msg, sizeof msg, "READY=1\nSTATUS=serving %d models (%d failed to load)",
                 models_ready, models_failed);
    send_state(msg);
    n->next_ping = cd_now() + n->watchdog_usec / 2e6;
}

void cd_notify_reloading(struct cd_notify *n, double reload_s)
{
    char msg[160];
    if (n->watchdog_usec)
        snprintf(msg, sizeof msg,
                 "RELOADING=1\nSTATUS=reloading models\nWATCHDOG=1\nWATCHDOG_USEC=%llu",
                 (unsigned long long)(n->watchdog_usec + (uint64_t)(reload_s * 1e6)));
    else
        snprintf(msg, sizeof msg, "RELOADING=1\nSTATUS=reloading models");
    send_state(msg);
}

void cd_notify_stopping(void)
{
    send_state("STOPPING=1\nSTATUS=draining in-flight requests");
}

void cd_notify_watchdog_tick(struct cd_notify *n, double now)
{
    if (!n->watchdog_usec || now < n->next_ping)
        return;
    send_state("WATCHDOG=1");
    n->next_ping = now + n->watchdog_usec / 2e6;
}
