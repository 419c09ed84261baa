/* Per-connection table of registered streams and Spark's chunk-order rules (spec 6.2 steps
 * 4-7). Pure bookkeeping: no I/O, no threads; stream_manager.c drives it. */
#ifndef SHUFFLED_SERVER_STREAM_TABLE_H
#define SHUFFLED_SERVER_STREAM_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/stream_manager.h"

struct chunk_req;

struct stream {
    struct stream *hnext;
    int64_t id;
    char *app_id; /* NULL when registered without one */
    struct stream_source src;
    uint32_t next_index; /* the chunk index the client must ask for next */
    uint32_t iter_index; /* the next buffer to resolve (lags next_index after a failure) */
    bool busy;           /* a resolution is running on the blocking pool */
    bool removed;        /* no longer in the table; freed once not busy */
    struct chunk_req *q_head, *q_tail; /* requests waiting for the running resolution */
};

struct stream_table {
    struct stream **buckets;
    uint32_t nbuckets; /* 0 until the first stream */
    uint32_t count;
};

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

/* Spark's checks for chunk `index`: out of order or beyond the end -> -1 with the Java text in
 * err. Otherwise the expected index moves on, the stream is busy, *iter is the buffer to
 * resolve, and 0 is returned. */
int stream_begin_chunk(struct stream *s, int32_t index, uint32_t *iter, char *err, size_t errlen);
/* The resolution started by stream_begin_chunk finished. Returns true when that was the last
 * buffer (the caller then removes the stream). */
bool stream_end_chunk(struct stream *s, bool resolved);
/* Releases the stream: free_ctx exactly once, then the memory. */
void stream_free(struct stream *s);

#endif
