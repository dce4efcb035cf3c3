/* check_main.h — the main() every Check test binary shares: runs one suite,
 * prints Check's summary, exits non-zero on any failure. */
#ifndef CD_CHECK_MAIN_H
#define CD_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define CD_TEST_MAIN(suite_fn)                                                \
    int main(void)                                                            \
    {                                                                         \
        SRunner *sr = srunner_create(suite_fn());                             \
        srunner_run_all(sr, CK_NORMAL);                                       \
        int failed = srunner_ntests_failed(sr);                               \
        srunner_free(sr);                                                     \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                          \
    }

#endif
