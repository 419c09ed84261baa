/* SPDX-License-Identifier: Apache-2.0 */
/* The activity table behind app_ttl_ms (app_activity.c), with made-up clock values: unknown
 * applications make no entry; an application is idle once the TTL has passed since its last
 * activity and no connection holds it; a held application never is, and the release restarts
 * its clock; an idle application is handed out once until its claim ends; a connection still
 * holding a forgotten entry does not count against the entry made again. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/block/app_activity.h"
#include "../check_main.h"

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The ids app_activity_idle hands out at now (ttl 100), sorted, as one space-separated
 * string (at most 8 of them). */
static const char *idle_at(struct app_activity *a, uint64_t now)
{
    static char out[256];
    size_t n = 0;
    char **ids = app_activity_idle(a, now, 100, &n);
    ck_assert_uint_le(n, 8);
    if (n > 1)
        qsort(ids, n, sizeof(*ids), by_name);
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        strcat(out, i ? " " : "");
        strcat(out, ids[i]);
        free(ids[i]);
    }
    free(ids);
    return out;
}

START_TEST(test_idle_after_ttl_unless_held)
{
    struct app_activity *a = app_activity_create();
    ck_assert_uint_eq(app_activity_touch(a, "ghost", 5), 0); /* unknown: nothing made */
    struct app_activity_entry e;
    ck_assert(!app_activity_get(a, "ghost", &e));
    uint64_t gen = app_activity_add(a, "A", 1000);
    ck_assert_uint_gt(gen, 0);
    ck_assert_str_eq(idle_at(a, 1099), "");
    ck_assert_uint_eq(app_activity_touch(a, "A", 1050), gen); /* an RPC naming it */
    ck_assert_str_eq(idle_at(a, 1149), "");
    app_activity_hold(a, "A", gen, 1, 1060); /* a connection that named it */
    ck_assert_str_eq(idle_at(a, 5000), "");
    ck_assert(app_activity_get(a, "A", &e));
    ck_assert_uint_eq(e.open_connections, 1);
    app_activity_hold(a, "A", gen, -1, 6000); /* its close is activity */
    ck_assert_str_eq(idle_at(a, 6099), "");
    ck_assert_str_eq(idle_at(a, 6100), "A");
    app_activity_destroy(a);
}
END_TEST

START_TEST(test_claimed_once)
{
    struct app_activity *a = app_activity_create();
    app_activity_add(a, "A", 0);
    app_activity_add(a, "B", 50);
    ck_assert_str_eq(idle_at(a, 120), "A");
    ck_assert_str_eq(idle_at(a, 200), "B"); /* A is claimed: handed out once */
    /* activity between the sweep and the removal: no longer idle, claim ended */
    app_activity_touch(a, "A", 210);
    ck_assert(!app_activity_still_idle(a, "A", 220, 100));
    ck_assert(app_activity_still_idle(a, "B", 220, 100));
    ck_assert_str_eq(idle_at(a, 320), "A B");
    app_activity_destroy(a);
}
END_TEST

START_TEST(test_generations)
{
    struct app_activity *a = app_activity_create();
    uint64_t old = app_activity_add(a, "A", 0);
    app_activity_hold(a, "A", old, 1, 0);
    app_activity_forget(a, "A"); /* removed while a connection holds it */
    uint64_t gen = app_activity_add(a, "A", 10);
    ck_assert_uint_ne(gen, old);
    app_activity_hold(a, "A", old, -1, 20); /* the old holder closes: not this entry's */
    app_activity_hold(a, "A", old, 1, 20);
    struct app_activity_entry e;
    ck_assert(app_activity_get(a, "A", &e));
    ck_assert_uint_eq(e.open_connections, 0);
    ck_assert_uint_eq(e.last_ms, 10);
    ck_assert_str_eq(idle_at(a, 110), "A");
    /* many applications: the table grows */
    char id[32];
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof(id), "app-%d", i);
        ck_assert_uint_gt(app_activity_add(a, id, 1000), 0);
    }
    ck_assert(app_activity_get(a, "app-499", &e));
    size_t n = 0;
    char **ids = app_activity_idle(a, 1100, 100, &n);
    ck_assert_uint_eq(n, 500);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    app_activity_destroy(a);
}
END_TEST

CHECK_MAIN((.suite = "app_activity", .name = "core", .timeout_s = 30),
           test_idle_after_ttl_unless_held, test_claimed_once, test_generations)
