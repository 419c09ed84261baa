/* SPDX-License-Identifier: Apache-2.0 */
/* One merged reduce partition of (app, attempt, shuffle, shuffleMergeId, reduce): its .data,
 * .index and .meta files and what has been merged into them, as Spark writes them:
 *
 * - .data: the pushed blocks appended in arrival order;
 * - .index: big-endian int64 chunk boundaries, 0 first; a boundary is written once the chunk
 *   holds at least min_chunk_bytes, and the last one at finalize;
 * - .meta: per chunk, the RoaringBitmap of its map indexes (not run-optimized).
 *
 * Blocking file I/O: called on the blocking pool only. One writer at a time (the merge
 * manager's claim); p->lock orders a commit against finalize and removal. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_PARTITION_H
#define SHUFFLED_SERVER_PUSH_MERGE_PARTITION_H

#include <pthread.h>
#include <roaring/roaring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct merge_partition {
    pthread_mutex_t lock;
    int32_t reduce_id;
    char *paths[3];       /* data, index, meta (merged_layout.h order) */
    int fds[3];           /* -1 until opened, while closed (push_max_open_files), after finalize */
    uint64_t data_pos;    /* end of the last complete block: what the data file holds */
    uint64_t chunk_start; /* data offset where the current chunk began */
    uint64_t index_pos, meta_pos;
    roaring_bitmap_t *maps;  /* every map index merged (MergeStatuses) */
    roaring_bitmap_t *chunk; /* the map indexes of the current chunk */
    bool finalized;
};

/* Sets up p for reduce_id with its three file paths (taken over). 0, or -1 out of memory. */
int merge_partition_init(struct merge_partition *p, int32_t reduce_id, char *paths[3]);
/* Closes the files and frees p's memory (not the files). */
void merge_partition_destroy(struct merge_partition *p);
/* Creates the files (truncating leftovers) and writes the index's first boundary, 0. Does
 * nothing once open. 0, or -1 with err (Spark's "Cannot initialize merged shuffle
 * partition" text). */
int merge_partition_open(struct merge_partition *p, char *err, size_t errlen);
/* Writes len bytes of the block being merged at offset `at` into it (past data_pos). 0 or -1
 * with err. */
int merge_partition_write(struct merge_partition *p, const void *buf, size_t len, uint64_t at,
                          char *err, size_t errlen);
/* The block of map_index (len bytes, already written) is complete: it becomes part of the
 * merged data, and the chunk closes once it holds min_chunk_bytes. 0 or -1 with err. */
int merge_partition_commit(struct merge_partition *p, int32_t map_index, uint64_t len,
                           uint64_t min_chunk_bytes, char *err, size_t errlen);
/* Drops whatever was written past data_pos (an aborted or refused block); by path if the
 * files are closed. */
void merge_partition_rollback(struct merge_partition *p);
/* Closes the last chunk, cuts every file to what was committed and closes them (reopening
 * them first if they were closed). 0 or -1. */
int merge_partition_finalize(struct merge_partition *p, char *err, size_t errlen);
/* Closes the files (they are reopened by merge_partition_reopen; the state stays). */
void merge_partition_close(struct merge_partition *p);
/* Opens the files as they are (neither created nor truncated). Does nothing once open. 0, or
 * -1 with err. */
int merge_partition_reopen(struct merge_partition *p, char *err, size_t errlen);
/* Restoring from the journal (merge_journal.h), the files left closed: p's files exist
 * (restored); a commit's effect replayed in memory (the files already hold it); the chunk
 * finalize closed; then every file cut back to what the replayed commits cover (opened for
 * it, made if missing, and closed again). 0 or -1 (open, truncate). */
void merge_partition_restored(struct merge_partition *p);
void merge_partition_replay_commit(struct merge_partition *p, int32_t map_index, uint64_t end,
                                   bool chunk_closed);
void merge_partition_replay_finalize(struct merge_partition *p);
int merge_partition_replay_done(struct merge_partition *p);
/* Deletes the three files (closing them first). */
void merge_partition_unlink(struct merge_partition *p);

#endif
