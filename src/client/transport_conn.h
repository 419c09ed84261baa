/* SPDX-License-Identifier: Apache-2.0 */
/* What the files of one connection share (private to them; everyone else sees transport.h):
 * the connection itself and the calls between its parts. The parts, each calling only the
 * ones listed after it:
 *   transport_connect.c    tconn_new: the dial, the connect timeout, who goes first once up
 *   transport_handshake.c  TLS first, then the SASL or AES auth phase, its link installed
 *   transport_read.c       the read pump: socket readiness -> rx -> replies; idle release
 *   transport_send.c       the request calls of transport.h, the outbox, the request timer
 *   transport.c            references, the close and its fan-out to every waiting request */
#ifndef SHUFFLE_CLIENT_TRANSPORT_CONN_H
#define SHUFFLE_CLIENT_TRANSPORT_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/util.h>

#include "client/link.h"
#include "client/pending.h"
#include "client/replies.h"
#include "client/rx.h"
#include "proto/codec.h"

struct auth_phase;
struct aes_phase;
struct bufferevent;
struct dial;
struct event;
struct evbuffer;

enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_CLOSED };

struct tconn {
    const struct tconn_env *env;
    int refs;
    enum conn_state state;
    char peer[300];
    int connect_timeout_ms, request_timeout_ms;
    struct dial *dial;       /* connecting */
    struct bufferevent *bev; /* connected: sends (rx reads the socket itself) */
    struct event *readable;  /* connected: the socket has bytes for rx */
    struct event *idle;      /* connected: rx's buffer goes back after a quiet while */
    struct event *timer;
    char *early_error; /* a connect failure (the whole message), reported on the next turn */
    void (*connect_fn)(void *arg, bool ok); /* told once whether the connect succeeded */
    void *connect_arg;
    struct rx *rx;
    struct link link; /* the security layer once a handshake installed one; else plain */
    struct proto_writer w;
    struct pending_set ps; /* outstanding requests */
    struct reply_state rs; /* replies matched to them */
    uint64_t last_io_ms;
    bool timer_armed;
    bool was_connected; /* reached CONN_OPEN once */
    void (*close_fn)(void *arg, struct tconn *t);
    void *close_arg;
    /* request frames that cannot go out yet: connecting, or authenticating (authing) */
    struct evbuffer *queued;
    bool authing, bypass_queue; /* bypass_queue: an authentication message */
    struct auth_phase *auth;    /* SASL, or ... */
    struct aes_phase *aes;      /* ... the AES handshake (spark.network.crypto) */
    struct event *auth_timer;   /* one handshake round trip */
    bool tls_handshaking;       /* TLS first: requests (and auth) wait for its handshake */
    char *host;                 /* the name or address the server's certificate must carry */
};

/* transport_handshake.c */
/* Sets up the phases env asks for (TLS first, authentication): requests wait for them.
 * 0, or -1 out of memory (t is left for tconn_destroy). */
int tconn_handshake_init(struct tconn *t, const char *host);
/* Once connected: the TLS handshake, or straight to the authentication phase. */
void tconn_tls_begin(struct tconn *t);
void tconn_auth_begin(struct tconn *t);

/* transport_read.c */
/* What rx hands each frame and each run of stream bytes to. */
struct rx_handler tconn_rx_handler(struct tconn *t);
/* The readable event's and the idle timer's callbacks (arg: the tconn). */
void tconn_on_readable(evutil_socket_t fd, short what, void *arg);
void tconn_on_idle(evutil_socket_t fd, short what, void *arg);

/* transport_send.c */
void tconn_arm_request_timer(struct tconn *t, uint64_t delay_ms);
/* Sends what waited for the connection (or for authentication). */
void tconn_release_queued(struct tconn *t);
/* The bufferevent's event callback: write errors and the peer's end while sending. */
void tconn_on_write_event(struct bufferevent *bev, short what, void *arg);

/* transport.c */
void tconn_destroy(struct tconn *t);
/* Tells the connect callback (once) whether the connect succeeded. */
void tconn_report_connect(struct tconn *t, bool ok);
/* tconn_close with the message fmt says: its first %s the peer, its second detail. */
void tconn_close_io(struct tconn *t, int status, const char *fmt, const char *detail);

#endif
