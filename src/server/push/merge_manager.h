/* SPDX-License-Identifier: Apache-2.0 */
/* The merge manager of push-based shuffle (Spark's RemoteBlockPushResolver, docs/push.md):
 * which application attempt is current, the newest shuffleMergeId of each shuffle and whether
 * it is finalized, and its merged partitions with their one writer at a time. It decides
 * every BlockPushReturnCode; push_upload.c moves the bytes, push_rpc.c answers the RPCs.
 *
 * Every call may touch the disk (creating, truncating and deleting merged files): blocking
 * pool threads only, except merge_manager_push_fast. Thread-safe. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_MANAGER_H
#define SHUFFLED_SERVER_PUSH_MERGE_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/blockmsg.h"
#include "server/push/merge_apps.h"
#include "server/push/merge_removal.h"
#include "server/push/merged_layout.h"

struct merge_manager;
struct merge_claim; /* a partition held by its one writer */
struct merge_partition;

struct merge_limits {
    uint64_t min_chunk_bytes;     /* push_min_chunk_bytes */
    uint64_t max_open_partitions; /* push_max_open_files / 3 files each; 0 = none */
    uint64_t max_partitions;      /* push_max_partitions (being merged), 0 = none */
    uint64_t max_app_bytes;       /* push_max_app_merge_bytes, 0 = none */
};

/* attempts: which attempt of each application is current and its merge dirs (merge_apps.h,
 * borrowed); merge state of an attempt it no longer names is dropped with its files. */
struct merge_manager *merge_manager_create(const struct merge_limits *lim,
                                           struct merge_apps *attempts);
void merge_manager_destroy(struct merge_manager *m);

/* What becomes of one pushed block (BlockPushReturnCode values first). */
enum merge_verdict {
    MERGE_SUCCESS = 0,   /* written, or a duplicate (body read and dropped) */
    MERGE_TOO_LATE = 1,  /* the merge is finalized */
    MERGE_COLLISION = 2, /* another push is writing the partition */
    MERGE_STALE = 3,     /* a newer shuffleMergeId exists */
    MERGE_TOO_OLD_ATTEMPT = 4,
    MERGE_WRITE = 16, /* *claim holds the partition: write the body, then merge_claim_commit */
    MERGE_BUSY,       /* another writer: buffer the body, ask again when it is complete */
    MERGE_DUPLICATE,  /* this map index is merged already: read and drop, answer SUCCESS */
    MERGE_FAILED,     /* RpcFailure with err (not registered, limits, I/O) */
    MERGE_NEED_POOL,  /* merge_manager_push_fast: ask merge_manager_push on the pool */
};

struct merge_push_key {
    const char *app;
    int32_t attempt, shuffle, merge_id, map_index, reduce;
};

/* Decides a push of body_len bytes (creating the partition's files on first use, reopening
 * them when they were closed for push_max_open_files, merge_parts.c). */
enum merge_verdict merge_manager_push(struct merge_manager *m, const struct merge_push_key *k,
                                      uint64_t body_len, struct merge_claim **claim, char *err,
                                      size_t errlen);
/* The same verdict without touching the disk or waiting for the manager's lock, for the
 * event loop: MERGE_NEED_POOL when the push needs files created, reopened or deleted, may
 * fail, or the lock is busy. The common case (the partition exists, its files open) is
 * decided here. */
enum merge_verdict merge_manager_push_fast(struct merge_manager *m, const struct merge_push_key *k,
                                           uint64_t body_len, struct merge_claim **claim);
/* Writes len bytes of the claimed block at offset `at` into it. 0 or -1 with err. */
int merge_claim_write(struct merge_claim *cl, const void *buf, size_t len, uint64_t at, char *err,
                      size_t errlen);
/* The whole block (len bytes) is written: merges it unless the merge was finalized or
 * superseded meanwhile (then its bytes are dropped). Releases the claim. MERGE_SUCCESS,
 * MERGE_TOO_LATE, MERGE_STALE, or MERGE_FAILED with err. */
enum merge_verdict merge_claim_commit(struct merge_manager *m, struct merge_claim *cl, uint64_t len,
                                      char *err, size_t errlen);
/* merge_claim_write of the block's last n bytes (at `at`), then merge_claim_commit of the
 * whole (at + n bytes), under one hold of the partition. wait_seq not NULL: for the event
 * loop, with no state_sync: MERGE_NEED_POOL (nothing done, the claim still held) when a
 * finalize or removal holds the partition (the write itself goes to the page cache); and
 * when another thread is writing the journal, the commit's record is left to it: *wait_seq
 * then says what merge_manager_journal_wait must wait for before the push is answered. */
enum merge_verdict merge_claim_finish(struct merge_manager *m, struct merge_claim *cl,
                                      const void *buf, size_t n, uint64_t at, uint64_t *wait_seq,
                                      char *err, size_t errlen);
/* Blocking: the journal record seq (merge_claim_finish) is written (0: nothing to wait for). */
void merge_manager_journal_wait(struct merge_manager *m, uint64_t seq);
/* The block will not complete: what it wrote is cut away; releases the claim. */
void merge_claim_abort(struct merge_manager *m, struct merge_claim *cl);

/* FinalizeShuffleMerge: the merge becomes read-only, every partition cut to its committed
 * blocks, *out a MergeStatuses (free with blockmsg_free). 0, or -1 with err (RpcFailure). */
int merge_manager_finalize(struct merge_manager *m, const char *app, int32_t attempt,
                           int32_t shuffle, int32_t merge_id, struct blockmsg *out, char *err,
                           size_t errlen);

/* Durability (merge_journal.h): every commit, finalize and removal from now on is journaled
 * (j borrowed; NULL: none). Before that, at start, the journal's records go through
 * merge_manager_replay (the application attempts must be known by then), merge_manager_keeper
 * (merge_compact.h) says what the compacted journal keeps, and merge_manager_replay_done cuts the
 * unfinalized partitions' files back to their replayed commits. */
struct merge_journal;
struct merge_journal_rec;
void merge_manager_set_journal(struct merge_manager *m, struct merge_journal *j);
void merge_manager_replay(void *m, const struct merge_journal_rec *r);
void merge_manager_replay_done(struct merge_manager *m);

/* Merged files are created only in dirs under res's allowed_local_dir_roots and owned by no
 * other application (res borrowed; NULL: no check). Before the first push. */
struct resolver;
void merge_manager_set_resolver(struct merge_manager *m, struct resolver *res);

/* Gauges: partitions whose files are open; partitions being merged (neither finalized nor
 * dropped). */
uint64_t merge_manager_open_partitions(struct merge_manager *m);
uint64_t merge_manager_merging_partitions(struct merge_manager *m);

#endif
