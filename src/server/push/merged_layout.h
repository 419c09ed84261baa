/* SPDX-License-Identifier: Apache-2.0 */
/* Where push-based shuffle keeps its merged files, as Spark 3.2+'s RemoteBlockPushResolver
 * lays them out (docs/push.md):
 *
 * - an executor registered with push enabled names a merge dir in its shuffleManager string,
 *   "<class>:{"mergeDir":"merge_manager_1","attemptId":"1"}" (plus two stray '}' that Spark
 *   sends and Jackson ignores);
 * - the application attempt's merge dirs are parent(localDir) + "/" + mergeDir, one per
 *   registered local dir, in the same order, with the executor's subDirsPerLocalDir;
 * - the files of (app, shuffle, shuffleMergeId, reduce) are
 *   "shuffleMerged_<app>_<shuffle>_<mergeId>_<reduce>.data|.index|.meta", placed among the
 *   merge dirs by Spark's usual rule (placement.h).
 *
 * Pure functions: no state, no disk. merge_apps.h keeps which attempt's dirs are current. */
#ifndef SHUFFLED_SERVER_PUSH_MERGED_LAYOUT_H
#define SHUFFLED_SERVER_PUSH_MERGED_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* The attempt of an application that runs without attempt ids (no "attemptId" key). */
#define MERGE_NO_ATTEMPT (-1)

/* One application attempt's merge dirs. */
struct merge_dirs {
    int32_t attempt_id; /* MERGE_NO_ATTEMPT when the registration carried none */
    int32_t sub_dirs;   /* subDirsPerLocalDir of the registering executor */
    uint32_t n_dirs;
    char **dirs; /* malloc'd, each malloc'd: parent(localDir[i]) + "/" + mergeDir */
};

enum merge_info {
    MERGE_INFO_INVALID = -1, /* merge info present but unusable: err holds the text */
    MERGE_INFO_NONE = 0,     /* push disabled for this executor (no ':' or no JSON object) */
    MERGE_INFO_OK = 1,       /* *out filled */
};

/* Reads the merge dir and attempt from a RegisterExecutor's shuffleManager and derives the
 * merge dirs from its local dirs (absolute paths). INVALID: no "mergeDir" (Spark's
 * IllegalArgumentException), an attemptId that is not a Java int (NumberFormatException),
 * or, beyond Spark, a mergeDir that is not one plain path component. */
enum merge_info merge_dirs_parse(const char *shuffle_manager, char *const *local_dirs,
                                 uint32_t n_dirs, int32_t sub_dirs, struct merge_dirs *out,
                                 char *err, size_t errlen);
/* Deep copy; -1 out of memory (dst zeroed). */
int merge_dirs_copy(struct merge_dirs *dst, const struct merge_dirs *src);
/* Frees and zeroes; safe on a zeroed struct. */
void merge_dirs_free(struct merge_dirs *d);

enum merged_file { MERGED_DATA, MERGED_INDEX, MERGED_META };

/* "shuffleMerged_<app>_<shuffle>_<mergeId>_<reduce>.<data|index|meta>" into buf; -1 if it
 * does not fit. app must be a safe id (blockid.h id_is_safe). */
int merged_file_name(const char *app, int32_t shuffle_id, int32_t shuffle_merge_id,
                     int32_t reduce_id, enum merged_file kind, char *buf, size_t buflen);
/* "<mergeDir>/<%02x>/<name>" of that file; -1 if it does not fit or d has no dirs. */
int merged_file_path(const struct merge_dirs *d, const char *app, int32_t shuffle_id,
                     int32_t shuffle_merge_id, int32_t reduce_id, enum merged_file kind, char *buf,
                     size_t buflen);

#endif
