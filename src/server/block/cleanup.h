/* SPDX-License-Identifier: Apache-2.0 */
/* Application and executor removal with Spark's semantics (protocol.md 9.5, 10.7).
 * These delete files: call them on the blocking-I/O pool or an admin thread,
 * never on an event loop. */
#ifndef SHUFFLED_SERVER_CLEANUP_H
#define SHUFFLED_SERVER_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>

#include "server/block/registry_store.h"
#include "server/block/resolver.h"

/* applicationRemoved: drops every executor of app from the registry and (if
 * store != NULL) durably from the store; with delete_dirs, removes each of
 * their local dirs recursively, but only those app owns (tenants.h: a dir that now resolves
 * elsewhere than at registration, or that another application owns too, is kept and logged);
 * no other application can register these dirs until the deletion is done. Returns the
 * number of executors removed, or -1 if the store could not record the removal (err set;
 * memory is updated). */
int cleanup_application_removed(struct resolver *r, struct registry_store *store, const char *app,
                                bool delete_dirs, char *err, size_t errlen);

/* executorRemoved: if registered, deletes every file under its local dirs
 * except *.index and *.data (and rdd_* when fetch_rdd_enabled), then any
 * directory left empty (the local dir itself included, as Spark's
 * deleteRecursively does), in the dirs the application owns (as above). The registration
 * stays. Returns the number of
 * files deleted, or -1 if the executor is not registered. */
long cleanup_executor_removed(struct resolver *r, const char *app, const char *exec,
                              bool fetch_rdd_enabled);

#endif
