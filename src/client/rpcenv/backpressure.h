/* SPDX-License-Identifier: Apache-2.0 */
/* Read back-pressure (docs/rpc.md, "Inboxes full"): messages read from a connection for an
 * endpoint whose inbox is full are not refused but wait, in arrival order, in that
 * connection's queue, and the connection is not read meanwhile (the sender's bytes wait in the
 * kernel's buffers, then in its outbox, which refuses sends when full). Every message read
 * after them on that connection waits behind them, whatever its endpoint (head-of-line: the
 * price of keeping each connection's order). When some inbox has room again the queues are
 * posted again; a queue whose first endpoint takes no message for stall_ms is refused (one-way
 * messages counted, asks answered SHUFFLE_RPC_EOVERFLOW), so a stuck endpoint cannot hold a
 * connection, and the other endpoints behind it, forever. An ask refused for a full inbox with
 * nothing of its connection waiting ahead of it is answered SHUFFLE_RPC_EOVERFLOW at once. At
 * most one read's worth of messages waits per connection. Loop thread only, except
 * rpc_backpressure_room. */
#ifndef SHUFFLE_CLIENT_RPCENV_BACKPRESSURE_H
#define SHUFFLE_CLIENT_RPCENV_BACKPRESSURE_H

#include <stdatomic.h>

struct event_base;
struct rpc_backpressure;
struct rpc_conn;
struct rpc_msg;
struct rpc_registry;

/* refused counts the one-way messages refused. NULL without memory. */
struct rpc_backpressure *rpc_backpressure_new(struct event_base *base, struct rpc_registry *r,
                                              atomic_uint_fast64_t *refused, int stall_ms);
/* Refuses every message still waiting (SHUFFLE_RPC_ESHUTDOWN) and frees bp. */
void rpc_backpressure_free(struct rpc_backpressure *bp);

/* Posts the n messages from first (a list, all for endpoint name, read from c; taken). Those
 * that do not fit a full inbox, and all of them while c has messages waiting, wait; other
 * refusals are answered (asks) or counted (one-way) at once. */
void rpc_backpressure_post(struct rpc_backpressure *bp, struct rpc_conn *c, const char *name,
                           struct rpc_msg *first, int n);
/* Any thread: an inbox has room, or is stopping: the waiting messages are tried again. */
void rpc_backpressure_room(void *bp);
/* c is going: what waits from it gets one more try, the rest is refused. */
void rpc_backpressure_conn_down(struct rpc_backpressure *bp, struct rpc_conn *c);
/* The messages of refusal with status, for endpoint name: asks answered, one-way counted. */
void rpc_backpressure_refuse(struct rpc_backpressure *bp, const char *name, struct rpc_msg *list,
                             int status);

#endif
