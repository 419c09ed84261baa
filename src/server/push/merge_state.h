/* SPDX-License-Identifier: Apache-2.0 */
/* The merge manager's state (merge_manager.h), shared by merge_manager.c (the verdicts,
 * finalize), merge_parts.c (partitions made, their files closed and reopened),
 * merge_removal.c (dropping state), merge_replay.c (rebuilding it from the journal) and
 * merge_state.c (lookups, references) only.
 *
 * Lock order: m->lock, then a partition's p.lock (never the other way round), then the
 * journal's own. m->lock guards the maps, the claims (writing is set under it), the counts
 * and the list of open partitions (m->files); each partition's p.lock its files and bitmaps.
 * A partition's files are opened and closed under both: closed (push_max_open_files) only
 * when no writer holds it, and reopened by the push that claimed it, on the blocking pool;
 * a finalize or removal, once it took the partition out of m->files under m->lock, closes
 * them under p.lock alone. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_STATE_H
#define SHUFFLED_SERVER_PUSH_MERGE_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/push/merge_open_files.h"
#include "server/push/merge_partition.h"
#include "server/push/merged_layout.h"

struct merge_apps;
struct merge_journal;
struct resolver;

struct merge_claim {
    struct merge_partition p;      /* first: a claim is its partition entry */
    _Atomic int refs;              /* the shuffle's list + claims in flight */
    _Atomic bool writing;          /* claimed by a writer (cleared by it without m->lock) */
    bool dropped;                  /* no longer in its shuffle (superseded, removed, app gone) */
    bool merging;                  /* counted in merging_parts: neither finalized nor dropped */
    struct merge_open_entry files; /* its files open: in m->files (under m->lock) */
    bool unlink_files;             /* in a merge_trash: its files are to be deleted */
    int32_t map_index;             /* of the block being written */
    int32_t shuffle, merge_id;
    struct app_entry *app;
};

struct shuffle_entry {
    int32_t shuffle_id, merge_id;
    bool finalized;
    /* finalized, and its commit records counted reclaimable (merge_compact.h) */
    bool fold_counted;
    /* its MJ_FINALIZE record is in the journal: compaction folds its commits (merge_compact.h) */
    bool finalize_logged;
    struct merge_claim **parts; /* sorted by reduce id */
    size_t n, cap;
    struct shuffle_entry *next;
};

struct app_entry {
    char *app;
    struct merge_dirs dirs;
    _Atomic uint64_t merged_bytes; /* added to by commits without m->lock */
    struct shuffle_entry *shuffles;
    struct app_entry *next;
    int refs;            /* the list + partitions pointing to it */
    bool dirs_journaled; /* its MJ_ATTEMPT record is in the journal */
};

struct merge_manager {
    pthread_mutex_t lock;
    struct {
        uint64_t min_chunk_bytes, max_partitions, max_app_bytes; /* merge_limits */
    } lim;
    struct merge_apps *attempts;   /* which attempt is current, its merge dirs (borrowed) */
    struct merge_journal *journal; /* NULL: nothing survives a restart */
    struct resolver *res;          /* allowed_local_dir_roots and dir ownership; NULL: none */
    struct app_entry *apps;
    struct merge_open_files files; /* partitions with open files (push_max_open_files) */
    uint64_t merging_parts;        /* partitions neither finalized nor dropped */
    void (*drop_hook)(void *arg);  /* merge_manager_set_drop_hook */
    void *drop_hook_arg;
    /* while replaying: partitions of attempts no longer current, deleted at the end
     * (merge_replay.c), when every attempt record has been read */
    struct merge_old_part *replay_old;
    size_t n_replay_old, cap_replay_old;
    /* while replaying: applications no longer registered, for their removal records
     * (merge_replay_removed.c) */
    struct merge_removed_app *replay_removed;
    /* set by the replay (merge_replay.c): frees what it left if it did not finish; called by
     * merge_manager_destroy, which does not know the replay by name */
    void (*replay_forget)(struct merge_manager *m);
};

/* Partitions dropped under m->lock (removal, a newer merge id) whose files are deleted after
 * it is released, by merge_trash_empty: pushes of other merges do not wait for the disk. */
struct merge_trash {
    struct merge_claim **parts; /* each holding the reference its shuffle held */
    size_t n, cap;
    uint64_t dead_bytes; /* the journal records of what they merged */
};

/* All under m->lock. The app's entry (NULL if none), by address for unlinking it. */
struct app_entry **merge_find_app(struct merge_manager *m, const char *app);
/* app's state for its current attempt (merge_apps.h), made on first use; an older attempt's
 * state is dropped with its files. NULL with err when app has no merge dirs. */
struct app_entry *merge_app_current(struct merge_manager *m, const char *app, char *err,
                                    size_t errlen);
/* Frees a's state (taken out of the list by the caller); unlink: its files deleted too,
 * after the lock is released when t is not NULL (merge_trash_empty), else at once. */
void merge_app_drop(struct merge_manager *m, struct app_entry *a, bool unlink,
                    struct merge_trash *t);
/* Takes s's partitions out of it, the same way. */
void merge_shuffle_drop_parts(struct merge_manager *m, struct shuffle_entry *s, bool unlink,
                              struct merge_trash *t);
/* Without m->lock: deletes (or closes) what t holds, notes the journal's dead records and
 * compacts it when due. */
void merge_trash_empty(struct merge_manager *m, struct merge_trash *t);
void merge_part_unref(struct merge_manager *m, struct merge_claim *cl);
void merge_app_unref(struct app_entry *a);
/* Journals r (if there is a journal); a failure is logged. */
struct merge_journal_rec;
void merge_note(struct merge_manager *m, const struct merge_journal_rec *r);
/* a's merge dirs journaled (MJ_ATTEMPT) unless they are already; a failure is logged. */
void merge_note_attempt(struct merge_manager *m, struct app_entry *a);
/* A record about a whole merge (op: finalize, removal). */
void merge_note_merge(struct merge_manager *m, int op, const char *app, int32_t attempt,
                      int32_t shuffle, int32_t merge_id);
struct shuffle_entry *merge_find_shuffle(struct app_entry *a, int32_t shuffle);
/* The shuffle entry for merge_id, made current (a newer id drops the older merge). */
struct shuffle_entry *merge_shuffle_for(struct merge_manager *m, struct app_entry *a,
                                        int32_t shuffle, int32_t merge_id, struct merge_trash *t);
/* Index of reduce in s->parts, or where it would go (*found false). */
size_t merge_part_slot(const struct shuffle_entry *s, int32_t reduce, bool *found);
/* The partition reduce of s (a's), created if new: its files created (truncated), or left
 * closed as they are when restoring (merge_parts.c). NULL with err. */
struct merge_claim *merge_part_for(struct merge_manager *m, struct app_entry *a,
                                   struct shuffle_entry *s, int32_t reduce, bool restoring,
                                   char *err, size_t errlen);
/* Under m->lock, for a push that claimed cl (MERGE_WRITE): its files opened again if they
 * were closed, after closing the least recently used idle partition's when the bound is
 * reached. Blocking (open). 0, or -1 with err. */
int merge_part_files_open(struct merge_manager *m, struct merge_claim *cl, char *err,
                          size_t errlen);
/* cl is finalized or dropped: no longer counted as merged, and its files (if open) are no
 * longer closed for room: the caller closes them, then merge_part_closed. */
void merge_part_retire(struct merge_manager *m, struct merge_claim *cl);
/* Its files are closed (or about to be, by the caller holding it): no longer counted. */
void merge_part_closed(struct merge_manager *m, struct merge_claim *cl);

#endif
