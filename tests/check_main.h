/* The one main() tail every check suite shares: run, count failures, exit; and the skip of
 * the suites that replay ../shared's recorded vectors when they are absent. */
#ifndef SHUFFLED_TESTS_CHECK_MAIN_H
#define SHUFFLED_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Suites reading $SHUFFLE_SHARED_DIR/vectors (default ../shared) call this first: without the
 * vectors (a release tarball, a checkout without shared/) they are skipped (exit 77, as
 * automake counts a skip) with a message, not failed. */
static inline void check_require_shared_vectors(void)
{
    const char *dir = getenv("SHUFFLE_SHARED_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors", dir && *dir ? dir : "../shared");
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: the shared test vectors are not at %s (configure with "
               "SHUFFLE_SHARED_DIR=DIR, or put shared/ beside the source tree)\n",
               path);
        exit(77);
    }
}

static inline int check_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
