/* SPDX-License-Identifier: Apache-2.0 */
/* The merge manager's removals (merge_manager.h includes this; merge_removal.c): what is
 * dropped leaves the manager's maps under its lock, its files are deleted after the lock is
 * released. Blocking pool threads only. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_REMOVAL_H
#define SHUFFLED_SERVER_PUSH_MERGE_REMOVAL_H

#include <stdbool.h>
#include <stdint.h>

struct merge_manager;

/* The application is gone: its state dropped; cleanup: its merged files deleted too. */
void merge_manager_app_removed(struct merge_manager *m, const char *app, bool cleanup);
/* A newer attempt of app registered (merge_apps.h): the state of the attempt it replaced is
 * dropped and its merged files deleted, after the manager's lock is released unless its merge
 * dirs are also the new attempt's (whose pushes may create the same names next). Nothing
 * when there is no older attempt's state (a push of the new attempt came first). */
void merge_manager_attempt_replaced(struct merge_manager *m, const char *app);
/* RemoveShuffleMerge: deletes the merged files of (shuffle, merge_id), merge_id -1 = any, and
 * ends that merge (merge_remove_request.c). */
void merge_manager_remove(struct merge_manager *m, const char *app, int32_t attempt,
                          int32_t shuffle, int32_t merge_id);
/* For tests: fn(arg) runs before each dropped partition's files are deleted, after the
 * manager's lock was released. */
void merge_manager_set_drop_hook(struct merge_manager *m, void (*fn)(void *arg), void *arg);

#endif
