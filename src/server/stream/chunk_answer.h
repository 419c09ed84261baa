/* SPDX-License-Identifier: Apache-2.0 */
/* A ChunkFetchRequest or StreamRequest while it is served (stream_manager.c), and its answer
 * into the reply slot it reserved on arrival (chunk_answer.c). */
#ifndef SHUFFLED_SERVER_CHUNK_ANSWER_H
#define SHUFFLED_SERVER_CHUNK_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include "server/stream/stream_source.h"

struct conn;
struct reply_slot;

struct chunk_req {
    struct chunk_req *next;
    struct conn *c;
    struct reply_slot *slot;
    bool is_stream; /* StreamRequest (name) rather than ChunkFetchRequest */
    char *name;
    int64_t stream_id;
    int32_t index;
    uint32_t iter;
    /* result of the blocking part */
    bool processed; /* false: not attempted because an earlier one in the batch failed */
    int rc;         /* resolve's result: 0 means the stream's iterator moved on */
    bool failed;    /* the answer is a failure with err (resolve error or file problem) */
    int fd;         /* CHUNK_FILE opened on the pool */
    struct chunk_segment seg;
    char err[512];
};

/* Frees what seg holds (path, memory; an open file closed or handed back) and empties it. */
void chunk_seg_release(struct chunk_segment *seg);
/* Releases what r holds (its fd, segment and name), not r itself. */
void chunk_req_clear(struct chunk_req *r);
/* chunk_req_clear, then free(r). */
void chunk_req_free(struct chunk_req *r);

/* Each fills r's slot (and gives it up): */
/* ChunkFetchFailure / StreamFailure with error. */
void chunk_answer_failure(struct chunk_req *r, const char *error);
/* The failure for a stream this connection does not hold (Spark's text, which differs with
 * and without auth). */
void chunk_answer_unknown(struct chunk_req *r);
/* The answer r's resolution decided: its failure, Spark's "not found" texts for a missing
 * chunk, or the success with the body (a chunk over one frame is refused: StreamRequest). */
void chunk_answer(struct chunk_req *r);

#endif
