/* SPDX-License-Identifier: Apache-2.0 */
/* Per-connection table of registered streams and Spark's chunk-order rules (protocol.md 6.2 steps
 * 4-7). Pure bookkeeping: no I/O, no threads; stream_manager.c drives it. */
#ifndef SHUFFLED_SERVER_STREAM_TABLE_H
#define SHUFFLED_SERVER_STREAM_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/stream/stream_source.h"

struct chunk_req;

struct stream {
    struct stream *hnext;
    int64_t id;
    char *app_id; /* NULL when registered without one */
    struct stream_source src;
    uint32_t next_index; /* the chunk index the client must ask for next */
    uint32_t iter_index; /* the next buffer to resolve (lags next_index after a failure) */
    bool busy;           /* a batch of resolutions is running on the blocking pool */
    bool removed;        /* no longer in the table; freed once not busy */
    struct chunk_req *q_head, *q_tail; /* requests waiting for the running resolution */
};

struct stream_table {
    struct stream **buckets;
    uint32_t nbuckets; /* 0 until the first stream */
    uint32_t count;
    uint64_t weight; /* sum of stream_weight() over the streams in the table */
    uint64_t bytes;  /* sum of src.mem_bytes (and the stream records) over them */
};

/* What a stream costs against STREAM_MAX_REGISTERED_CHUNKS: its chunks, and at least 1 (a
 * stream of 0 chunks lives until its connection closes, as in Spark). */
static inline uint64_t stream_weight(const struct stream *s)
{
    return s->src.num_chunks ? s->src.num_chunks : 1;
}

/* Number of registered streams not yet dropped, process-wide (for tests and metrics). */
uint64_t stream_live_count(void);

/* What a stream costs against the stream byte budgets: its source's memory and its record. */
static inline uint64_t stream_bytes(const struct stream *s)
{
    return s->src.mem_bytes + sizeof *s;
}

/* Process-wide unique ids: a random base x 1000, then +1 per stream, as Spark. */
int64_t stream_next_id(void);

/* Adds a stream with a fresh id. On out of memory returns NULL after src.free_ctx(src.ctx). */
struct stream *stream_table_add(struct stream_table *t, const char *app_id,
                                struct stream_source src);
struct stream *stream_table_find(const struct stream_table *t, int64_t id);
/* Unlinks s (marks it removed); does not free it. */
void stream_table_remove(struct stream_table *t, struct stream *s);
/* Calls fn on every stream, each unlinked first (fn may free it); leaves the table empty. */
void stream_table_drain(struct stream_table *t, void (*fn)(struct stream *s, void *arg), void *arg);
void stream_table_free(struct stream_table *t); /* the bucket array only; table must be empty */

/* Spark's checks for chunk `index` (protocol.md 6.2 steps 4-6), given `pending` earlier requests of
 * this stream already accepted but not yet resolved (assumed to succeed):
 *   -1: out of order, or beyond the end -> err holds the Java text; nothing changes;
 *    1: no buffer is left unless an earlier pending one fails: wait for them;
 *    0: accepted: the expected index moves on and *iter is the buffer to resolve. */
int stream_begin_chunk(struct stream *s, int32_t index, uint32_t pending, uint32_t *iter, char *err,
                       size_t errlen);
/* Undoes the acceptance of n requests that were not resolved (after an earlier one failed). */
void stream_unbegin_chunks(struct stream *s, uint32_t n);
/* One accepted buffer was resolved (resolved = the iterator moved) or failed. Returns true
 * when that was the last buffer (the caller then removes the stream). Call in order. */
bool stream_end_chunk(struct stream *s, bool resolved);
/* Releases the stream: free_ctx exactly once, then the memory. */
void stream_free(struct stream *s);

#endif
