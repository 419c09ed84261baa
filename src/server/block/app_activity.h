/* SPDX-License-Identifier: Apache-2.0 */
/* When each registered application was last active, and how many connections it has open:
 * what app_ttl_ms (app_expiry.h) decides on. Memory only, thread-safe (one mutex; each call is
 * O(1) but app_activity_idle, which is O(applications)).
 *
 * An entry exists from an application's first registration (or its reload at start) until it
 * is forgotten (the application removed). Each entry has a generation, new for every entry
 * made, so that a connection holding an entry that was forgotten and made again does not
 * count against the new one. Times are milliseconds of CLOCK_MONOTONIC. */
#ifndef SHUFFLED_SERVER_APP_ACTIVITY_H
#define SHUFFLED_SERVER_APP_ACTIVITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app_activity;

struct app_activity *app_activity_create(void);
void app_activity_destroy(struct app_activity *a);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t app_activity_now_ms(void);

/* app was active at now_ms; made if missing (a registration, or a reload at start). Returns
 * its generation, 0 out of memory. */
uint64_t app_activity_add(struct app_activity *a, const char *app, uint64_t now_ms);
/* app was active at now_ms if it has an entry: returns its generation, else 0 (nothing made,
 * so requests naming unknown applications cost no memory). */
uint64_t app_activity_touch(struct app_activity *a, const char *app, uint64_t now_ms);
/* A connection holds (+1) or releases (-1) app's entry of generation gen; a release counts as
 * activity at now_ms. Ignored when the entry is gone or of another generation. */
void app_activity_hold(struct app_activity *a, const char *app, uint64_t gen, int delta,
                       uint64_t now_ms);
/* Drops app's entry (it is being removed). */
void app_activity_forget(struct app_activity *a, const char *app);

/* The applications idle for ttl_ms at now_ms (no open connection, last activity at least
 * ttl_ms ago) that are not already claimed; each is claimed (returned once) until
 * app_activity_unclaim or a forget. A malloc'd array of malloc'd ids, count in *n (NULL
 * when none or out of memory). */
char **app_activity_idle(struct app_activity *a, uint64_t now_ms, uint64_t ttl_ms, size_t *n);
/* Whether claimed app is still idle for ttl_ms at now_ms (checked again just before its
 * removal); the claim ends either way. */
bool app_activity_still_idle(struct app_activity *a, const char *app, uint64_t now_ms,
                             uint64_t ttl_ms);

struct app_activity_entry {
    const char *app;
    uint64_t last_ms; /* CLOCK_MONOTONIC ms of its last activity */
    uint32_t open_connections;
};
/* The entry of app copied into *out (out->app is app). false when there is none. */
bool app_activity_get(struct app_activity *a, const char *app, struct app_activity_entry *out);

#endif
