/* SPDX-License-Identifier: Apache-2.0 */
/* app_ttl_ms: applications nobody removes (Spark standalone and Kubernetes never call
 * applicationRemoved) are removed once idle that long, with their registrations and, with
 * app_ttl_cleanup_local_dirs, the local dirs they own (cleanup.h). Off (0) by default.
 *
 * Activity of an application A, each restarting its idle clock:
 *   - its registration: a RegisterExecutor for A that is stored, or its reload at start (so
 *     after a restart the clock starts again for every reloaded application);
 *   - any RPC naming A (OpenBlocks, FetchShuffleBlocks, RemoveBlocks,
 *     GetLocalDirsForExecutors, RegisterExecutor...) once it passed the id and isolation
 *     checks;
 *   - an open connection that named A in such an RPC: while it stays open A is never idle,
 *     and its close is activity. Chunk and stream fetches travel on the connection that
 *     opened their stream with an RPC naming A, so they keep A alive this way. With
 *     auth_enabled a connection can name only its client id's application, so its
 *     connections are exactly those authenticated as A.
 * A sweep on the main loop's timer (every ttl/4, between 10 ms and 10 s) takes the
 * applications idle for app_ttl_ms in O(applications) memory work; each removal runs on the
 * blocking-I/O pool, which checks again that the application is still idle first. */
#ifndef SHUFFLED_SERVER_APP_EXPIRY_H
#define SHUFFLED_SERVER_APP_EXPIRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/block/app_activity.h"
#include "server/block/registry_store.h"
#include "server/block/resolver.h"

struct app_expiry;
struct conn;
struct event_base;
struct blocking_pool;

/* Over the service's registry; every application registered in r starts active now. NULL
 * when out of memory. */
struct app_expiry *app_expiry_create(struct resolver *r, struct registry_store *store);
/* After the workers stopped and the pool ran its jobs. NULL is a no-op. */
void app_expiry_destroy(struct app_expiry *x);
/* app_ttl_ms (0: off) and app_ttl_cleanup_local_dirs; any thread, applies from the next sweep. */
void app_expiry_configure(struct app_expiry *x, uint64_t ttl_ms, bool cleanup_local_dirs);
uint64_t app_expiry_ttl_ms(struct app_expiry *x);
bool app_expiry_cleans_local_dirs(struct app_expiry *x);
/* Starts the sweep timer on base; removals go to pool. 0, or -1 out of memory. */
int app_expiry_start(struct app_expiry *x, struct event_base *base, struct blocking_pool *pool);

/* An RPC naming app arrived on c (c's worker thread). */
void app_expiry_note(struct app_expiry *x, struct conn *c, const char *app);
/* An executor of app was registered (stored): app is active from now (any thread; before the
 * reply, so that app is tracked once the client knows it registered). */
void app_expiry_registered(struct app_expiry *x, const char *app);

/* Removes app (cleanup_application_removed) and logs it at info with why ("admin request",
 * "idle for ..."), when it had executors. Blocking (disk): pool or admin thread. Returns the
 * number of executors removed, or -1 with err set (the store could not record it). */
int app_expiry_remove(struct app_expiry *x, const char *app, bool cleanup_local_dirs,
                      const char *why, char *err, size_t errlen);

/* Called by app_expiry_remove before the registrations go, whatever the reason (admin,
 * TTL): state other parts of the service keep per application (push-based shuffle's merges)
 * goes with it. Set once, before app_expiry_start. */
typedef void (*app_removed_fn)(void *arg, const char *app, bool cleanup_local_dirs);
void app_expiry_on_removed(struct app_expiry *x, app_removed_fn fn, void *arg);

/* The activity table, for the admin listing. */
struct app_activity *app_expiry_activity(struct app_expiry *x);

#endif
