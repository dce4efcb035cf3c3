/* notify.h — the daemon's side of systemd's readiness protocol (sd_notify):
 * READY, RELOADING, STOPPING, STATUS and watchdog keep-alives. Every call is
 * a no-op when the daemon was not started by a service manager (no
 * $NOTIFY_SOCKET), so the same binary runs by hand, in tests and in units. */
#ifndef CD_NOTIFY_H
#define CD_NOTIFY_H

#include <stdint.h>

struct cd_notify {
    uint64_t watchdog_usec;     /* 0: no watchdog asked for */
    double next_ping;           /* cd_now() seconds of the next WATCHDOG=1 */
};

/* Reads (and removes from the environment, so children such as the OpenCL
 * compiler's linker do not inherit it) the watchdog interval systemd set in
 * $WATCHDOG_USEC/$WATCHDOG_PID. Call before any thread starts. */
void cd_notify_init(struct cd_notify *n);

/* READY=1 with a STATUS line: call once the models are loaded and the HTTP
 * socket is accepting. Also sent after a reload. */
void cd_notify_ready(struct cd_notify *n, int models_ready, int models_failed);

/* RELOADING=1 before a blocking model reload. With a watchdog, the next
 * deadline is pushed out by reload_s seconds (WATCHDOG_USEC=) so that a
 * long kernel compile is not mistaken for a hang; cd_notify_ready restores
 * the configured interval. */
void cd_notify_reloading(struct cd_notify *n, double reload_s);

/* STOPPING=1: SIGTERM received, the daemon is draining. */
void cd_notify_stopping(void);

/* WATCHDOG=1 if the watchdog is on and half its interval has passed since
 * the last ping. Called from the main loop, so a wedged main loop stops the
 * pings and systemd restarts the service. now: cd_now(). */
void cd_notify_watchdog_tick(struct cd_notify *n, double now);

#endif
