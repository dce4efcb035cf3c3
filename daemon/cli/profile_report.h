/* profile_report.h — convd-infer --profile: times every planned node of a
 * runner and prints the per-layer roofline report (table or JSON). */
#ifndef CD_PROFILE_REPORT_H
#define CD_PROFILE_REPORT_H

#include "engine/runner.h"

#include <stdbool.h>

struct cd_profile_opts {
    int runs;              /* profiled runs; per node the median is reported */
    double peak_gflops;    /* compute roof */
    double bandwidth_gbs;  /* memory roof (GB/s = 1e9 bytes/s) */
    bool json;             /* one JSON document instead of the table */
};

/* Runs r on input (batch samples) o->runs times with a device sync after
 * every node, then prints one row per node and one per cost class to stdout.
 * model_name is only printed. */
int cd_profile_report(struct cd_runner *r, const char *model_name,
                      const float *input, int batch,
                      const struct cd_profile_opts *o, struct cd_err *err);

#endif
