/* SPDX-License-Identifier: Apache-2.0 */
/* The outbox of one peer (host, port): every frame for it, in the order the callers queued
 * them, over one connection made on demand.
 *
 * Callers (any thread) append whole frames to the outbox's staging buffer under its lock and
 * wake the loop only when it was empty (rpc_outbox_send, rpc_outbox_ask). On the loop the
 * staged frames move behind those already waiting; while no connection is up they wait
 * there, a connection is being made, and asks' timers already run. Once connected they go to
 * the socket as fast as it drains. A failed connect fails the waiting asks
 * (SHUFFLE_RPC_EUNREACHABLE) and drops the waiting one-way messages (counted); a lost
 * connection fails the asks sent on it (SHUFFLE_RPC_ECONNLOST). The next frame connects
 * again. With credentials, a new connection first authenticates (src/client/auth.c's SASL
 * steps, sent as asks of their own) and only then carries the frames. At most capacity frames wait
 * (staged or queued): beyond, callers get SHUFFLE_RPC_EOVERFLOW. */
#ifndef SHUFFLE_CLIENT_RPCENV_OUTBOX_H
#define SHUFFLE_CLIENT_RPCENV_OUTBOX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "client/rpcenv/asks.h"
#include "client/rpcenv/conn.h"

struct auth_creds;
struct event_base;
struct resolver;
struct rpc_outbox;

/* What the env gives every outbox. */
struct rpc_outbox_env {
    struct event_base *base;
    struct resolver *resolver;
    struct rpc_asks *asks;
    int capacity;
    int connect_timeout_ms;
    uint64_t max_frame_bytes;
    /* on_request and on_answer of the outbox's connections */
    const struct rpc_conn_handler *conn_handler;
    void *ctx;
    /* the connection is up (after on_up, it may carry requests) / gone (before it is freed) */
    void (*on_up)(void *ctx, struct rpc_conn *c);
    void (*on_down)(void *ctx, struct rpc_conn *c);
    uint64_t (*next_conn_id)(void *ctx);
    atomic_uint_fast64_t *sends_dropped;
    /* spark.authenticate: NULL, or every connection authenticates (SASL) before the frames
     * waiting for it go; a refusal fails its asks with SHUFFLE_EAUTH */
    const struct auth_creds *creds;
};

/* Loop or any thread before the loop runs: a new, unconnected outbox. */
struct rpc_outbox *rpc_outbox_new(const struct rpc_outbox_env *env, const char *host, int port);
/* Loop: closes, fails its asks with status, frees it. */
void rpc_outbox_free(struct rpc_outbox *ob, int status, const char *why);
const char *rpc_outbox_host(const struct rpc_outbox *ob);
int rpc_outbox_port(const struct rpc_outbox *ob);

/* Any thread: queues a frame made of head and payload; SHUFFLE_OK or SHUFFLE_RPC_EOVERFLOW. */
int rpc_outbox_send(struct rpc_outbox *ob, const uint8_t *head, size_t head_len,
                    const void *payload, size_t len);
/* Any thread: as rpc_outbox_send for an ask's frame; a is started on the loop when the
 * frame moves there. On failure a is still the caller's. */
int rpc_outbox_ask(struct rpc_outbox *ob, struct rpc_ask *a, const uint8_t *head, size_t head_len,
                   const void *payload, size_t len);

#endif
