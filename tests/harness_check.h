/* harness_check.h — the check shared by the OpenCL op tests: run one
 * harness case on the reference and OpenCL backends and fail the test on a
 * mismatch, or skip (with a note on stderr) when there is no OpenCL backend.
 * Header-only, test code only; include after op_harness.h and <check.h>. */
#ifndef CD_TEST_HARNESS_CHECK_H
#define CD_TEST_HARNESS_CHECK_H

#include "op_harness.h"

#include <check.h>
#include <stdio.h>

static void harness_check_cl(const struct cd_harness_case *hc, unsigned seed,
                             double tol, const char *what)
{
    char msg[512] = "";
    double rel = 0.0;
    if (!cd_harness_cl()) {
        fprintf(stderr, "skip %s: no OpenCL backend\n", what);
        return;
    }
    int rc = cd_harness_compare(hc, seed, tol, &rel, msg, sizeof msg);
    ck_assert_msg(rc == CD_OK, "%s: %s", what, msg);
}

#endif
