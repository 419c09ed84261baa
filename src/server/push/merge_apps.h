/* SPDX-License-Identifier: Apache-2.0 */
/* Which attempt of each application push-based shuffle serves, and its merge dirs
 * (merged_layout.h), with Spark's rules (RemoteBlockPushResolver.registerExecutor):
 *
 * - an application without attempt ids: the first registration carrying merge info sets the
 *   dirs, later ones change nothing;
 * - with attempt ids: the first registration of an attempt sets the dirs; a later attempt
 *   replaces them (the older attempt's merged files are then to be deleted), an older or
 *   equal one changes nothing. The newest older attempt's dirs are kept as "superseded", so
 *   that merged files of it a restart finds in the journal can still be deleted (at start
 *   also noted from the journal's attempt records, merge_replay.c).
 *
 * Filled from every RegisterExecutor with merge info (and from the registrations replayed at
 * start, so it survives restarts as they do); emptied per application when it is removed.
 * Thread-safe (a mutex; every call is short and touches memory only). */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_APPS_H
#define SHUFFLED_SERVER_PUSH_MERGE_APPS_H

#include <stdbool.h>
#include <stddef.h>

#include "server/push/merged_layout.h"

struct merge_apps;

struct merge_apps *merge_apps_create(void);
void merge_apps_destroy(struct merge_apps *t);

/* Applies Spark's rules to app registering dirs (copied). Returns 1 when dirs became app's
 * (with *replaced, if not NULL, taking the former attempt's dirs, n_dirs 0 when none), 0 when
 * app keeps what it had, -1 out of memory. */
int merge_apps_register(struct merge_apps *t, const char *app, const struct merge_dirs *dirs,
                        struct merge_dirs *replaced);
/* A copy of app's current dirs: 0, or -1 when app has none (or out of memory). */
int merge_apps_get(struct merge_apps *t, const char *app, struct merge_dirs *out);
/* 1 with *attempt_id app's current attempt (no copy of its dirs), 0 when app has none. */
int merge_apps_attempt(struct merge_apps *t, const char *app, int32_t *attempt_id);
/* The path of a merged file of app's current attempt (merged_file_path), without copying the
 * dirs: 0, 1 when app has no merge dirs, -1 when the path does not fit. *attempt_id (may be
 * NULL) gets the attempt. */
int merge_apps_file_path(struct merge_apps *t, const char *app, int32_t shuffle_id,
                         int32_t shuffle_merge_id, int32_t reduce_id, enum merged_file kind,
                         char *buf, size_t buflen, int32_t *attempt_id);
/* The newest shuffleMergeId of (app, shuffle), as the merge manager notes it whenever it
 * starts merging or finalizes one (and when it reloads finalized merges): merged fetches of
 * an older one are then refused as stale, as Spark does. A newer attempt's registration
 * starts from none. Noting for an app without merge dirs does nothing; an older id than the
 * one noted is ignored. -1 out of memory, else 0. */
int merge_apps_note_merge_id(struct merge_apps *t, const char *app, int32_t shuffle_id,
                             int32_t shuffle_merge_id);
/* 1 with *shuffle_merge_id the newest noted for (app, shuffle), 0 when none was. */
int merge_apps_newest_merge_id(struct merge_apps *t, const char *app, int32_t shuffle_id,
                               int32_t *shuffle_merge_id);
/* Spark's text refusing a merged fetch (what: "MergedBlockMeta" or "MergedBlockData") of a
 * shuffleMergeId older than the newest: a RuntimeException whose message reducers recognise
 * (they do not retry it). */
void merge_apps_stale_fetch(const char *what, int32_t shuffle_id, int32_t shuffle_merge_id,
                            int32_t reduce_id, char *err, size_t errlen);
/* The path of a merged file of app's superseded attempt attempt_id (the newest older attempt
 * registered, see above): 0; 1 when app has none, it is another attempt, or its merge dirs
 * share one with the current attempt's (the names would be the current attempt's files
 * too); -1 when the path does not fit. */
int merge_apps_superseded_path(struct merge_apps *t, const char *app, int32_t attempt_id,
                               int32_t shuffle_id, int32_t shuffle_merge_id, int32_t reduce_id,
                               enum merged_file kind, char *buf, size_t buflen);
/* Whether app's current merge dirs share a dir with d. */
bool merge_apps_share_dirs(struct merge_apps *t, const char *app, const struct merge_dirs *d);
/* Forgets app; its dirs go to *out (if not NULL; n_dirs 0 when it had none). */
bool merge_apps_remove(struct merge_apps *t, const char *app, struct merge_dirs *out);
size_t merge_apps_count(struct merge_apps *t);

/* Spark's text when app has no merge dirs ("application X is not registered or NM was
 * restarted."), as an IllegalArgumentException. */
void merge_apps_not_registered(const char *app, char *err, size_t errlen);

#endif
