/* SPDX-License-Identifier: Apache-2.0 */
/* A daemon's /metrics read by the tests (header-only): one sample's value, the exposition's
 * structure checked on every read, and a bounded wait for a value that work finishing after
 * an answer (a pool job, a one-way message, a close) sets. */
#ifndef SHUFFLED_TEST_PROM_SCRAPE_H
#define SHUFFLED_TEST_PROM_SCRAPE_H

#include <unistd.h>

#include "http_client.h"
#include "prom_parse.h"

/* The value of sample key ("name{labels}") in GET /metrics on 127.0.0.1:admin_port. */
static inline double prom_scrape(int admin_port, const char *key)
{
    struct http_response r = http_request(admin_port, "GET", "/metrics");
    ck_assert_int_eq(r.status, 200);
    prom_check_structure(r.body);
    double v = prom_value(r.body, key);
    free(r.body);
    return v;
}

/* Polls key until it equals want, 10 s at most, then asserts it does. */
static inline void prom_await(int admin_port, const char *key, double want)
{
    double v = prom_scrape(admin_port, key);
    for (int i = 0; i < 200 && v != want; i++) {
        usleep(50000);
        v = prom_scrape(admin_port, key);
    }
    ck_assert_msg(v == want, "%s is %g, want %g", key, v, want);
}

#endif
