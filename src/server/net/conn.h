/* A client connection: reads frames, keeps its responses in arrival order, applies the
 * watermarks and limits, times out when idle, and closes. Lives on one worker thread. */
#ifndef SHUFFLED_SERVER_CONN_H
#define SHUFFLED_SERVER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/frame.h"
#include "proto/message.h"
#include "server/stream/stream_table.h"

struct worker;
struct server;
struct evbuffer;

/* One response slot: reserved when its request arrives, filled when the answer is known,
 * written once every earlier slot has been written (so StreamResponses stay FIFO). */
struct resp {
    struct resp *next;
    struct evbuffer *buf; /* the bytes once ready (header, then memory or file segment) */
    bool ready;
    bool is_chunk;     /* a ChunkFetch/Stream answer: counted as a chunk in flight */
    bool close_after;  /* close the connection once this response is written */
    bool small_file;   /* a small file body: header and body would go out as separate packets */
    uint32_t rpc_cost; /* an RPC awaiting its answer: its request size, counted in rpc_pending */
    /* A body queued in parts (chunk_window.h): buf holds the parts ready so far and the slot
     * stays at the head of the queue until conn_resp_more(..., last). The producer owns the
     * slot meanwhile: on_output(closing=false) tells it the output has drained (at most
     * RESP_PART_LOW_BYTES left) while the slot is at the head; on_output(closing=true) that
     * the connection closed and it must free the slot. */
    bool partial;
    void (*on_output)(struct conn *c, struct resp *r, bool closing);
    void *producer;
};

/* Output left below which a partial answer at the head asks its producer for the next part. */
#define RESP_PART_LOW_BYTES (1u << 20)

struct conn {
    struct conn *prev, *next; /* the worker's list of live connections */
    struct worker *w;
    struct server *srv;
    struct bufferevent *bev;
    struct frame_decoder dec;
    char peer[64];
    char *client_id;
    int refs;    /* the socket itself + pending replies and blocking jobs */
    bool closed; /* socket gone; struct kept until refs drop to 0 */
    bool read_paused;
    bool no_more_requests; /* after UploadStream or at shutdown: read nothing more */
    struct resp *q_head, *q_tail;
    uint32_t chunks_pending; /* chunk requests accepted whose bytes have not left yet */
    /* bytes of RPC requests handed to the service and not answered yet: reading pauses above
     * write_high_water_bytes, so pipelined RPCs cannot queue work without bound */
    uint64_t rpc_pending;
    /* end offsets (in bytes ever added to the output) of chunk answers being written */
    uint64_t *ring;
    uint32_t ring_cap, ring_start, ring_len;
    uint64_t out_added, out_sent;
    struct event *timer_ev; /* idle timeout, and retry while over max_chunks_in_flight */
    struct event *wake_ev;  /* activated (never added) to resume reading from the loop */
    bool waiting_global;    /* paused by max_chunks_in_flight */
    bool corked;            /* TCP_CORK set while file answers are being written */
    uint64_t last_activity_ms;
    struct stream_table streams;

    bool auth_pending;      /* auth on and not authenticated yet: RPCs go to auth.c */
    struct conn_auth *auth; /* the SASL handshake in progress (auth.h) */
};

struct conn *conn_create(struct worker *w, int fd, const char *peer);
void conn_ref(struct conn *c);
void conn_unref(struct conn *c); /* frees a closed connection at 0 */
/* Closes the socket now (pending output is dropped), frees streams and responses. */
void conn_close(struct conn *c, const char *reason);
/* Stop reading; close as soon as every queued response has been written. */
void conn_finish(struct conn *c);

/* Reserves the next response slot in arrival order. NULL on out of memory. */
struct resp *conn_resp_reserve(struct conn *c, bool is_chunk);
/* Marks r ready (its buf filled) and writes every ready slot at the head of the queue. */
void conn_resp_ready(struct conn *c, struct resp *r);
/* Partial r got more bytes in its buf (and, if last, is complete): writes what it can. */
void conn_resp_more(struct conn *c, struct resp *r, bool last);
/* Frees a slot that will never be written (its connection closed before it was ready). */
void conn_resp_discard(struct resp *r);
/* Encodes m as a whole frame into r and marks it ready. */
void conn_resp_msg(struct conn *c, struct resp *r, const struct proto_msg *m);

/* Counts an RPC request of len bytes against r until r is ready (see rpc_pending). */
void conn_resp_charge_rpc(struct conn *c, struct resp *r, size_t len);

/* Spark's chunk-in-flight accounting: called when a chunk request is accepted. */
void conn_chunk_accepted(struct conn *c);

#endif
