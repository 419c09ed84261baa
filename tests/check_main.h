/* SPDX-License-Identifier: Apache-2.0 */
/* What every check test program shares: its suite of test cases made from lists, run, and
 * its failures counted into the exit status; and the skip of the suites that replay
 * ../shared's recorded vectors when they are absent. */
#ifndef SHUFFLED_TESTS_CHECK_MAIN_H
#define SHUFFLED_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness/fs.h"

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

/* The tests of a case, in order: CHECK_TESTS(test_a, test_b, ...). */
#define CHECK_TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})

/* A test case: its suite's name and its own, a timeout, a checked fixture, and which of its
 * tests are loop tests (run with _i from 0 to loops - 1). */
struct check_case {
    const char *suite, *name;
    int timeout_s;                          /* 0: check's default (CK_DEFAULT_TIMEOUT) */
    void (*setup)(void), (*teardown)(void); /* NULL: none */
    int loops;
    const TTest *looped[3];
    bool needs_shared_vectors; /* replays ../shared's vectors: skipped without them */
};

static inline int check_loops_of(const struct check_case *c, const TTest *test)
{
    for (size_t i = 0; i < sizeof(c->looped) / sizeof(c->looped[0]); i++)
        if (c->looped[i] == test)
            return c->loops;
    return 1;
}

/* Adds the case c holding tests (ending with NULL) to s; the new TCase. */
static inline TCase *check_add_case(Suite *s, const struct check_case *c, const TTest *const *tests)
{
    TCase *tc = tcase_create(c->name);
    if (c->timeout_s > 0)
        tcase_set_timeout(tc, c->timeout_s);
    if (c->setup || c->teardown)
        tcase_add_checked_fixture(tc, c->setup, c->teardown);
    tcase_add_checked_fixture(tc, NULL, harness_test_dir_release);
    for (const TTest *const *t = tests; *t; t++)
        tcase_add_loop_test(tc, *t, 0, check_loops_of(c, *t));
    suite_add_tcase(s, tc);
    return tc;
}

/* Runs one suite and returns the process exit status. */
static inline int check_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The main of a test program with one case: runs its tests; the exit status. */
static inline int check_main(const struct check_case *c, const TTest *const *tests)
{
    if (c->needs_shared_vectors)
        check_require_shared_vectors();
    Suite *s = suite_create(c->suite);
    check_add_case(s, c, tests);
    return check_run_suite(s);
}

/* Defines main as check_main of one case: CHECK_MAIN((.suite = "x", .name = "y", ...), test_a,
 * test_b, ...). */
#define CHECK_MAIN(case_fields, ...)                                                               \
    int main(void)                                                                                 \
    {                                                                                              \
        return check_main(&(struct check_case){CHECK_UNPARENTHESIZE case_fields},                  \
                          CHECK_TESTS(__VA_ARGS__));                                               \
    }
#define CHECK_UNPARENTHESIZE(...) __VA_ARGS__

#endif
