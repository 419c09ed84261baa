/* SPDX-License-Identifier: Apache-2.0 */
/* The outstanding requests of one connection: every request in send order (to
 * fail them all, in order, when the connection dies), RPCs and chunk fetches
 * indexed by (kind, id, chunk) in a hash for O(1) matching of replies, and the
 * FIFO of stream requests (Spark matches StreamResponses by order only). */
#ifndef SHUFFLE_CLIENT_PENDING_H
#define SHUFFLE_CLIENT_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/request_cb.h"

enum pend_kind { PEND_RPC, PEND_CHUNK, PEND_STREAM };

struct pending {
    enum pend_kind kind;
    int64_t a; /* request id or stream id */
    int32_t b; /* chunk index */
    tconn_reply_fn fn;
    void *arg;
    struct tconn_stream_cb scb;
    struct pending *hnext;       /* hash chain (RPC, CHUNK) */
    struct pending *prev, *next; /* every pending request, in send order */
    struct pending *fifo_next;   /* STREAM: FIFO of unanswered stream requests */
    /* an UploadStream: a server may fail the channel after refusing one (replies.c) */
    bool closes_on_failure;
};

struct pending_set {
    struct pending **buckets;
    size_t nbuckets, count;
    struct pending *first, *last;
    struct pending *fifo_head, *fifo_tail;
};

/* A request of kind k with key (a, b), not yet in the set; NULL on OOM. */
struct pending *pending_new(enum pend_kind k, int64_t a, int32_t b);
/* Tells p's owner the outcome (body only for an RPC or chunk) and frees p. */
void pending_complete(struct pending *p, int status, const char *err, const uint8_t *body,
                      size_t len);

/* The indexed request (kind, a, b), removed from the index if unlink_it. */
struct pending *pending_find(struct pending_set *s, enum pend_kind k, int64_t a, int32_t b,
                             bool unlink_it);
int pending_index(struct pending_set *s, struct pending *p); /* -1 on OOM */
void pending_append(struct pending_set *s, struct pending *p);
void pending_unlink(struct pending_set *s, struct pending *p);
void pending_fifo_push(struct pending_set *s, struct pending *p);
struct pending *pending_fifo_pop(struct pending_set *s);
/* Forgets the index and the FIFO (the send-order list stays). */
void pending_drop_index(struct pending_set *s);

#endif
