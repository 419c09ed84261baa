/* SPDX-License-Identifier: Apache-2.0 */
/* The merge state's durability: <state_dir>/merges.wal, an append-only log of what the
 * merge manager decided, replayed at start so a restart between push and finalize (or
 * after finalize) loses nothing. Each record is
 *   u32 magic "SHM1" | u32 payload length | u32 CRC32(payload) | payload
 * with payload = u8 op, String app, i32 attempt, shuffle, shuffleMergeId (big-endian, the
 * protocol's encoding) and for a commit i32 reduce, i32 mapIndex, i64 end of the block in
 * the data file, u8 1 when it closed a chunk. A record is written after the merged files
 * and before the reply (fdatasync'ed too with state_sync). Replay stops at the first record
 * that does not verify (a torn tail), which is cut off. At open the log is rewritten with
 * only the records of merges still present (removed apps and merges leave it). */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_JOURNAL_H
#define SHUFFLED_SERVER_PUSH_MERGE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum merge_journal_op {
    MJ_COMMIT = 1,      /* a block merged */
    MJ_FINALIZE = 2,    /* the merge finalized */
    MJ_REMOVE = 3,      /* RemoveShuffleMerge (merge id -1: every merge of the shuffle) */
    MJ_APP_REMOVED = 4, /* the application and all its merges gone */
};

struct merge_journal_rec {
    enum merge_journal_op op;
    const char *app;
    int32_t attempt, shuffle, merge_id;
    int32_t reduce, map_index; /* commit */
    int64_t end;               /* commit: data file length after the block */
    bool chunk_closed;         /* commit: the block closed its chunk */
};

struct merge_journal;

/* Opens (creating) state_dir/merges.wal; every valid record goes to fn in order first (rec
 * borrowed for the call), then the log is compacted to the records keep() accepts (NULL:
 * all). NULL with err on I/O errors. */
struct merge_journal *merge_journal_open(const char *state_dir, bool sync,
                                         void (*fn)(void *arg, const struct merge_journal_rec *r),
                                         bool (*keep)(void *arg, const struct merge_journal_rec *r),
                                         void *arg, char *err, size_t errlen);
void merge_journal_close(struct merge_journal *j);
/* Appends r (thread-safe; blocking). 0, or -1 with err. */
int merge_journal_append(struct merge_journal *j, const struct merge_journal_rec *r, char *err,
                         size_t errlen);

#endif
