/* SPDX-License-Identifier: Apache-2.0 */
/* TLS handshake admission (tls_admit.c): the bound on handshakes in progress, the per-second
 * token bucket and its refill, a limit lowered live, and both limits off. */
#include <config.h>

#include <check.h>

#include "server/net/tls_admit.h"
#include "../check_main.h"

START_TEST(test_in_progress_bound)
{
    tls_admit_reset();
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tls_admit_begin(3, 0, 0), TLS_ADMIT_OK);
    ck_assert_int_eq(tls_admit_begin(3, 0, 0), TLS_ADMIT_IN_PROGRESS);
    ck_assert_uint_eq(tls_admit_in_progress(), 3); /* a refusal takes no place */
    tls_admit_end();
    ck_assert_int_eq(tls_admit_begin(3, 0, 0), TLS_ADMIT_OK); /* an ended one frees its place */
    ck_assert_int_eq(tls_admit_begin(2, 0, 0), TLS_ADMIT_IN_PROGRESS); /* lowered live */
    ck_assert_int_eq(tls_admit_begin(0, 0, 0), TLS_ADMIT_OK);          /* off */
    ck_assert_uint_eq(tls_admit_in_progress(), 4);
}
END_TEST

START_TEST(test_rate_bucket)
{
    tls_admit_reset();
    ck_assert_int_eq(tls_admit_begin(0, 2, 1000), TLS_ADMIT_OK); /* a second's burst: 2 */
    ck_assert_int_eq(tls_admit_begin(0, 2, 1000), TLS_ADMIT_OK);
    ck_assert_int_eq(tls_admit_begin(0, 2, 1000), TLS_ADMIT_RATE);
    ck_assert_uint_eq(tls_admit_in_progress(), 2);
    ck_assert_int_eq(tls_admit_begin(0, 2, 1499), TLS_ADMIT_RATE); /* 0.998 tokens */
    ck_assert_int_eq(tls_admit_begin(0, 2, 1500), TLS_ADMIT_OK);   /* one every 500 ms */
    ck_assert_int_eq(tls_admit_begin(0, 2, 1500), TLS_ADMIT_RATE);
    ck_assert_int_eq(tls_admit_begin(0, 2, 60000), TLS_ADMIT_OK); /* a long pause: the burst */
    ck_assert_int_eq(tls_admit_begin(0, 2, 60000), TLS_ADMIT_OK);
    ck_assert_int_eq(tls_admit_begin(0, 2, 60000), TLS_ADMIT_RATE);
    /* the in-progress bound is checked first: a refusal there spends no token */
    ck_assert_int_eq(tls_admit_begin(1, 2, 61000), TLS_ADMIT_IN_PROGRESS);
    ck_assert_int_eq(tls_admit_begin(0, 2, 61000), TLS_ADMIT_OK);
    ck_assert_int_eq(tls_admit_begin(0, 2, 61000), TLS_ADMIT_OK);
    ck_assert_int_eq(tls_admit_begin(0, 0, 61000), TLS_ADMIT_OK); /* off */
}
END_TEST

int main(void)
{
    return check_main(&(struct check_case){.suite = "tls_admit", .name = "core"},
                      CHECK_TESTS(test_in_progress_bound, test_rate_bucket));
}
