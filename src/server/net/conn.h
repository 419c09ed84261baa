/* SPDX-License-Identifier: Apache-2.0 */
/* A client connection: the core's whole public face towards dispatch, handlers and the
 * stream manager. The struct is opaque; a connection lives on one event loop (its worker)
 * and every call below is made on that loop's thread unless it says otherwise.
 *
 * Inside: channel (socket bytes) -> frame decoder -> message decoder -> the current phase's
 * handler (auth until authenticated, then dispatch); answers leave in arrival order through
 * the reply queue. Reading pauses under the watermarks and limits and resumes by itself. */
#ifndef SHUFFLED_SERVER_NET_CONN_H
#define SHUFFLED_SERVER_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/message.h"
#include "server/net/reply_queue.h"

struct conn;
struct channel;
struct server;
struct worker;
struct event_base;

/* Where a connection lives: provided by its worker. */
struct conn_host {
    struct event_base *base;
    /* the connection of this loop holding the most of kind (conn_budget_used), or NULL */
    struct conn *(*biggest)(void *ctx, int kind);
    struct server *srv;
    struct worker *worker; /* opaque here; for posting back to it */
    uint8_t *read_buf;     /* the loop's scratch buffer for reads */
    size_t read_buf_len;
    void (*on_closed)(void *ctx, struct conn *c); /* after the socket is gone */
    void *ctx;
};

/* The handler of decoded messages for one phase of the connection. m and what it points to
 * are borrowed for the call. */
struct conn_phase {
    void (*on_msg)(void *ctx, struct conn *c, const struct proto_msg *m);
    void *ctx;
};

/* Links for the worker's list of its connections (the worker owns the list). */
struct conn_link {
    struct conn *prev, *next;
};

/* Takes fd. NULL when out of memory (fd left open). base: the handler of the last phase. */
struct conn *conn_create(const struct conn_host *host, int fd, const char *peer,
                         struct conn_phase base);
void conn_ref(struct conn *c);
void conn_unref(struct conn *c); /* frees a closed connection at 0 */
/* Closes the socket now (unsent answers are dropped); reason logged at debug when not NULL. */
void conn_close(struct conn *c, const char *reason);
/* Stops reading; closes once every queued answer has been written. */
void conn_finish(struct conn *c);
bool conn_is_closed(const struct conn *c);

const char *conn_peer(const struct conn *c);      /* "127.0.0.1:54321" for logs */
const char *conn_client_id(const struct conn *c); /* authenticated app id, NULL without auth */
void conn_set_client_id(struct conn *c, const char *id); /* copies; NULL clears */
struct server *conn_server(const struct conn *c);
struct worker *conn_worker(const struct conn *c);
struct conn_link *conn_link(struct conn *c);
/* The turns of the calling thread's event loop: its worker starts each with
 * conn_loop_turn_next(); conn_loop_turn() is equal within one turn (no wait for events in
 * between) and differs after the next wait. 0 on a thread that counts no turns. */
void conn_loop_turn_next(void);
uint64_t conn_loop_turn(void);

/* Phases: a phase (e.g. the SASL handshake) is pushed over the base handler and popped when
 * done; conn_pass_down hands a message to the phase below the one handling it. */
int conn_push_phase(struct conn *c, struct conn_phase phase); /* 0, or -1 (too many) */
void conn_pop_phase(struct conn *c);
void conn_pass_down(struct conn *c, const struct proto_msg *m);

/* The connection's channel (to wrap it in a security layer). */
struct channel *conn_channel(const struct conn *c);
/* Replaces the connection's channel with ch, which wraps the old one (it took it over): for
 * a security layer installed after its handshake. ch takes over once every answer queued so
 * far has been written in the clear (the handshake's last message); reading goes through it
 * from then on. */
void conn_set_channel(struct conn *c, struct channel *ch);

/* State that upper layers keep per connection, released when it closes (in this order). */
enum conn_attachment {
    CONN_ATTACH_STREAMS,
    CONN_ATTACH_AUTH,
    CONN_ATTACH_APPS, /* the applications it named (block/app_expiry.c) */
    /* its place among the TLS handshakes in progress (tls_conn.c) */
    CONN_ATTACH_TLS_HANDSHAKE,
    CONN_ATTACH_COUNT
};
void *conn_attachment(const struct conn *c, enum conn_attachment kind);
void conn_attach(struct conn *c, enum conn_attachment kind, void *state,
                 void (*release)(struct conn *c, void *state));

/* Memory that clients drive, each kind bounded per connection by its owner and in total
 * (max_stream_bytes, max_input_bytes, max_output_bytes). When a total is exceeded, the
 * connection of this loop holding the most of that kind is closed (as Redis does with
 * maxmemory-clients), so well-behaved clients go on being served during a flood. */
enum conn_budget { CONN_BUDGET_STREAMS, CONN_BUDGET_INPUT, CONN_BUDGET_OUTPUT, CONN_BUDGET_COUNT };
/* Adds delta bytes (negative: releases) of kind to c and to the daemon's total. */
void conn_budget_charge(struct conn *c, enum conn_budget kind, int64_t delta);
uint64_t conn_budget_used(const struct conn *c, enum conn_budget kind);
/* When the total of kind is over its limit: closes the connection of c's loop holding the
 * most of it (logged, counted). Returns true when that was c itself (c is then closed). */
bool conn_budget_shed(struct conn *c, enum conn_budget kind);
/* A deadline for the current phase (the SASL handshake): past it, the connection is closed
 * with reason logged. 0 clears it. */
void conn_set_phase_deadline(struct conn *c, uint64_t ms_from_now, const char *reason);

/* Answers. A slot is reserved when its request arrives and filled once; slots are written in
 * reservation order. After the connection closed, a slot is detached: filling it frees it. */
enum conn_slot_kind { CONN_SLOT_RPC, CONN_SLOT_CHUNK };
/* NULL when out of memory (the caller then closes the connection). A chunk slot counts
 * against max_chunks_per_connection / max_chunks_in_flight until written. */
struct reply_slot *conn_slot_reserve(struct conn *c, enum conn_slot_kind kind);
/* Counts an RPC request of len bytes against the read limits until s is filled. */
void conn_slot_charge_rpc(struct conn *c, struct reply_slot *s, size_t len);
/* Encodes m (with its in-frame body) into s; close_after: close once it is written. */
void conn_slot_fill_msg(struct conn *c, struct reply_slot *s, const struct proto_msg *m,
                        bool close_after);
/* m's frame header for a body of body_len bytes, then the body: body_mem (taken, free()d) or
 * file (taken; released through file->release, or closed) of which file_avail bytes may go
 * now (the rest through conn_slot_extend; on_drain/producer are set on the slot before).
 * Returns 0; -1 when out of memory (body and file released, connection closed). */
int conn_slot_fill_body(struct conn *c, struct reply_slot *s, const struct proto_msg *m,
                        uint64_t body_len, uint8_t *body_mem, const struct reply_file *file,
                        uint64_t file_avail);
/* A partial body may send n more bytes (last: it is complete). */
void conn_slot_extend(struct conn *c, struct reply_slot *s, uint64_t n, bool last);
/* Frees a detached slot (the connection closed before it was filled). */
void conn_slot_discard(struct reply_slot *s);

/* The after-frame body of the UploadStream being delivered (push-based shuffle): a handler
 * that wants it sets a sink while handling that message. Each piece goes to on_body as it
 * arrives (data borrowed for the call; last: the body is complete, and the sink is gone);
 * on_abort runs instead if the connection closes before the last piece. Without a sink the
 * body is skipped. */
struct conn_body_sink {
    void (*on_body)(void *ctx, struct conn *c, const uint8_t *data, size_t len, bool last);
    void (*on_abort)(void *ctx);
    void *ctx;
    /* Optional: where to read the body's next bytes (at most want) on a plain channel, so
     * they land in the sink's own buffer and on_body gets them there; NULL (or *room 0):
     * read into the connection's buffer as usual. */
    uint8_t *(*read_into)(void *ctx, size_t want, size_t *room);
};
void conn_take_body(struct conn *c, const struct conn_body_sink *sink);
/* Holds reading (a piece of a body is being written, a finalize or removal is decided), or
 * releases one hold: reading resumes when every hold is released. */
void conn_hold_input(struct conn *c, bool hold);

/* Output hooks (one set per process, set before the loops run): read_begin when a read
 * callback starts, before_output before any answer of any connection leaves (conn_flush)
 * and at the end of each read callback. An upper layer uses them to make work of a read
 * callback durable in one go before its answers are sent. NULL members are skipped. */
struct conn_output_hooks {
    void (*read_begin)(void);
    void (*before_output)(void);
};
void conn_set_output_hooks(const struct conn_output_hooks *hooks);

#endif
