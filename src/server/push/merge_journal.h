/* SPDX-License-Identifier: Apache-2.0 */
/* The merge state's durability: <state_dir>/merges.wal, an append-only log of what the
 * merge manager decided, replayed at start so a restart between push and finalize (or
 * after finalize) loses nothing. Each record is
 *   u32 magic "SHM1" | u32 payload length | u32 CRC32(payload) | payload
 * with payload = u8 op, String app, i32 attempt, shuffle, shuffleMergeId (big-endian, the
 * protocol's encoding) and for a commit i32 reduce, i32 mapIndex, i64 end of the block in
 * the data file, u8 1 when it closed a chunk (attempt and partition records: their own
 * files; an application's removal: a u8 1 when cleanup was asked). A record is written after
 * the merged files and before the reply (fdatasync'ed too with state_sync); records of
 * concurrent commits share one write (group commit). Replay stops at the first record that
 * does not verify (a torn tail), which is cut off. At open the log is rewritten with only the
 * records of merges still present (removed apps and merges leave it; a finalized merge's commit
 * records folded into one partition record each), and again while running once records no longer
 * needed make up half of it (merge_journal_maybe_compact). */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_JOURNAL_H
#define SHUFFLED_SERVER_PUSH_MERGE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

struct merge_dirs;
struct roaring_bitmap_s;

enum merge_journal_op {
    MJ_COMMIT = 1,      /* a block merged */
    MJ_FINALIZE = 2,    /* the merge finalized */
    MJ_REMOVE = 3,      /* RemoveShuffleMerge (merge id -1: every merge of the shuffle) */
    MJ_APP_REMOVED = 4, /* the application and all its merges gone */
    MJ_ATTEMPT = 5,     /* an attempt's merge dirs (merge_journal_attempt.h) */
    MJ_PARTITION = 6,   /* a finalized partition, in place of its commits (merge_journal_part.h) */
};

/* The largest payload a record may have. */
#define MERGE_JOURNAL_MAX_RECORD (1u << 20)

struct merge_journal_rec {
    enum merge_journal_op op;
    const char *app;
    int32_t attempt, shuffle, merge_id;
    int32_t reduce, map_index;     /* commit */
    int64_t end;                   /* commit: data file length after the block */
    bool chunk_closed;             /* commit: the block closed its chunk */
    const struct merge_dirs *dirs; /* attempt record */
    /* partition record (reduce; end: the data file's length): the index and meta files'
     * lengths and the map indexes merged */
    int64_t index_len, meta_len;
    const struct roaring_bitmap_s *maps;
    /* application removal: its merged files deleted too (written as a u8 1 after the common
     * fields; a record without it, as the previous version wrote them: false) */
    bool cleanup;
};

struct merge_journal;

/* How a compaction judges the log's records (at open and while running), each callback
 * given the caller's arg. */
struct merge_journal_keeper {
    /* Sees every record of the log being judged first, in order (NULL: nothing to see). */
    void (*look)(void *arg, const struct merge_journal_rec *r);
    /* Then, in order again: whether r stays in the compacted log; before that, records may
     * be put in its place into out (merge_journal_encode). NULL: every record stays. */
    bool (*keep)(void *arg, const struct merge_journal_rec *r, struct proto_writer *out);
};

/* Appends the whole record r (header included) to w. false out of memory or beyond
 * MERGE_JOURNAL_MAX_RECORD (w as it was). */
bool merge_journal_encode(struct proto_writer *w, const struct merge_journal_rec *r);

/* Opens (creating) state_dir/merges.wal; every valid record goes to fn in order first (rec
 * borrowed for the call), then the log is compacted as keeper says (NULL: every record
 * stays). NULL with err on I/O errors. */
struct merge_journal *merge_journal_open(const char *state_dir, bool sync,
                                         void (*fn)(void *arg, const struct merge_journal_rec *r),
                                         const struct merge_journal_keeper *keeper, void *arg,
                                         char *err, size_t errlen);
void merge_journal_close(struct merge_journal *j);
/* Appends r and returns once it is written (thread-safe; blocking: records of threads
 * appending meanwhile are written with it). 0, or -1 with err (the writer of a failed batch
 * alone reports it). */
int merge_journal_append(struct merge_journal *j, const struct merge_journal_rec *r, char *err,
                         size_t errlen);
/* For the event loop (without state_sync): appends r with a write of its own, never waiting
 * for another thread's batch; while a compaction puts the new log in place (and until what
 * was left waiting then is written, so records keep their order): 1, r waiting in memory as
 * *seq, to be written (and waited for) with merge_journal_wait before anything relies on it.
 * 0, 1, or -1 with err. */
int merge_journal_append_nowait(struct merge_journal *j, const struct merge_journal_rec *r,
                                uint64_t *seq, char *err, size_t errlen);
/* Batching on an event loop thread: between merge_journal_loop_begin and
 * merge_journal_loop_flush, merge_journal_append_nowait queues this thread's records in the
 * group-commit batch (returning 0, in commit order with every other thread's) and
 * merge_journal_loop_flush writes them (with whatever else waits) in one write. The caller
 * must run the flush before any answer that relies on them leaves (the connection layer's
 * before_output hook). Errors are logged by the flush. */
void merge_journal_loop_begin(void);
void merge_journal_loop_flush(void);
/* This thread's next merge_journal_loop_flush also writes (or waits for) every record
 * appended so far, whatever thread's batch holds it: for an answer that relies on another
 * loop's record (a duplicate push answered SUCCESS). Nothing with state_sync. */
void merge_journal_loop_cover(struct merge_journal *j);
int merge_journal_wait(struct merge_journal *j, uint64_t seq, char *err, size_t errlen);
/* bytes of records in the log are no longer needed (their merge was dropped, or finalized:
 * its commit records fold into partition records). */
void merge_journal_note_dead(struct merge_journal *j, uint64_t bytes);
/* The size of a commit record of app. */
size_t merge_journal_commit_bytes(const char *app);
/* Bytes in the log. */
uint64_t merge_journal_size(struct merge_journal *j);
/* When dead records make up half the log (and 32 KiB): rewrites it as keeper says, as at
 * open, while appends go on (those made meanwhile are kept whole); renamed over the old log
 * atomically. Blocking (the blocking pool). 0, or -1 (logged; the old log goes on). */
int merge_journal_maybe_compact(struct merge_journal *j, const struct merge_journal_keeper *keeper,
                                void *arg);

#endif
