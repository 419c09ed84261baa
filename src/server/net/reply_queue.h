/* SPDX-License-Identifier: Apache-2.0 */
/* A connection's answers, in the order their requests arrived, and the writer that puts them
 * on the channel. Each answer is a slot reserved when its request arrives and filled when the
 * answer is known (RPC replies from any handler, chunks once resolved); the writer sends
 * every filled slot at the head: inline header bytes, then heap bytes, then a file segment,
 * gathered into one sendmsg (MSG_MORE when a file body follows) and one sendfile per body.
 * No allocation per answer in the steady state (slots are recycled), O(1) per answer.
 * One thread (the connection's event loop) only. */
#ifndef SHUFFLED_SERVER_NET_REPLY_QUEUE_H
#define SHUFFLED_SERVER_NET_REPLY_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct channel;

/* Frame headers up to this size live inside the slot (a ChunkFetchSuccess header is 21). */
#define REPLY_INLINE_BYTES 56

/* Unsent bytes of a partial body at the head below which its producer is asked for more. */
#define REPLY_PART_LOW_BYTES (1u << 20)

/* A file segment to send; release(owner, fd) is called once it is no longer needed (written,
 * or the connection closed): close(fd) when owner is NULL. */
struct reply_file {
    int fd;
    uint64_t offset, len;
    void (*release)(void *owner, int fd);
    void *owner;
};

struct reply_slot {
    struct reply_slot *next;
    bool ready;       /* filled: may be written once every earlier slot is */
    bool chunk;       /* a ChunkFetch/Stream answer: counted as a chunk in flight */
    bool close_after; /* close the connection once this answer is written */
    bool partial;     /* the file body may grow (reply_queue_extend) until its last part */
    bool detached;    /* its connection closed: whoever fills it frees it */
    uint8_t hdr_len;
    uint32_t rpc_cost; /* an RPC awaiting its answer: counted in the connection's rpc_pending */
    uint8_t hdr[REPLY_INLINE_BYTES];
    uint8_t *mem; /* heap bytes after the header (freed with free()) */
    size_t mem_len;
    struct reply_file file;
    uint64_t file_avail; /* bytes of the file body that may be sent so far */
    uint64_t done;       /* bytes written: header, then mem, then file */
    /* A partial body's producer: closing=false when its written part nears file_avail (it
     * may extend now or later), closing=true when the connection closed (it must free the
     * slot with reply_slot_free). */
    void (*on_drain)(void *producer, struct reply_slot *s, bool closing);
    void *producer;
};

struct reply_queue {
    struct reply_slot *head, *tail;
    struct reply_slot *spare; /* recycled slots */
    uint32_t nspare;
    uint64_t unsent;  /* bytes of filled slots not written yet (what the watermarks compare) */
    uint64_t written; /* bytes ever written */
    uint64_t mem_bytes; /* heap bytes held by filled slots (answers' bodies; file bytes excluded) */
    bool corked;
};

/* Told about each slot once it has been written completely, just before it is recycled. */
typedef void (*reply_written_fn)(void *ctx, const struct reply_slot *s);

enum reply_flush {
    REPLY_FLUSH_IDLE,    /* nothing left to write */
    REPLY_FLUSH_WAITING, /* the head is not filled yet (or waits for its producer) */
    REPLY_FLUSH_BLOCKED, /* the channel is full: flush again once it is writable */
    REPLY_FLUSH_ERROR,   /* the channel failed (errno set), or a file shrank under us */
};

void reply_queue_init(struct reply_queue *q);
/* Appends an empty slot. NULL when out of memory. */
struct reply_slot *reply_queue_reserve(struct reply_queue *q);
/* Fills s: hdr (copied inline when it fits, else into mem before body_mem), body_mem (taken;
 * freed with free()), file (taken; file_avail bytes of it may go now). Returns 0, or -1 when
 * out of memory (body_mem and file are then released, s is left unfilled). */
int reply_slot_fill(struct reply_queue *q, struct reply_slot *s, const uint8_t *hdr, size_t hdr_len,
                    uint8_t *body_mem, size_t body_len, const struct reply_file *file,
                    uint64_t file_avail);
/* A partial slot may send n more file bytes; last: the body is complete. */
void reply_queue_extend(struct reply_queue *q, struct reply_slot *s, uint64_t n, bool last);
/* Writes what it can. */
enum reply_flush reply_queue_flush(struct reply_queue *q, struct channel *ch,
                                   reply_written_fn written, void *ctx);
/* Releases f as a written slot would (f->release, or close). */
void reply_file_release(const struct reply_file *f);
/* Frees a slot not in a queue (detached, or never queued): releases its bytes and file. */
void reply_slot_free(struct reply_slot *s);
/* The connection closes: ready slots are freed, partial ones handed to their producers
 * (on_drain closing=true), unfilled ones marked detached (their filler frees them). */
void reply_queue_close(struct reply_queue *q);
/* After close, once no slot can come back: frees the recycled slots. */
void reply_queue_free(struct reply_queue *q);

#endif
