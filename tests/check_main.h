/* The one main() tail every check suite shares: run, count failures, exit. */
#ifndef SHUFFLED_TESTS_CHECK_MAIN_H
#define SHUFFLED_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
