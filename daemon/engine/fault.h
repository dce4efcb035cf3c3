/* fault.h — a test hook, not a feature: CONVD_FAULT_INJECT makes chosen
 * device operations fail so that tests can prove the daemon recovers. It is
 * read once from the environment; when it is unset (production) every check
 * is one relaxed atomic load. Syntax: a comma-separated list of
 *   POINT            the point always fails
 *   POINT=PATH       the point fails once each time the file PATH exists
 *                    (the failing call removes it: exactly one call fails);
 *                    if PATH holds a number N, the Nth check from then fails
 * Points: "build" (the OpenCL program build fails with a real compiler
 * error and build log), "enqueue" (a kernel enqueue fails with
 * CL_OUT_OF_RESOURCES), "cache_write" (writing the program cache fails with
 * ENOSPC). Documented in docs/security.md (fault injection). */
#ifndef CD_FAULT_H
#define CD_FAULT_H

#include <stdbool.h>

enum cd_fault_point {
    CD_FAULT_BUILD,
    CD_FAULT_ENQUEUE,
    CD_FAULT_CACHE_WRITE,
    CD_FAULT_POINT_COUNT
};

/* True when the point must fail now (consumes a one-shot trigger file). */
bool cd_fault_fire(enum cd_fault_point p);

#endif
