/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoint inboxes and the dispatcher that runs them (docs/rpc.md, "Threads").
 *
 * An inbox holds one endpoint's messages in arrival order. Posting (from any thread: the
 * env's loop for remote messages, callers for local ones) appends under the inbox's lock and,
 * if the inbox is not already scheduled as often as it may run at once, puts it on the
 * dispatcher's ready queue. Dispatcher threads take inboxes from that queue and process a
 * batch of messages each: one thread at a time for an ordinary endpoint (so its callbacks
 * never overlap and see messages in order), up to all of them for a thread-safe one once
 * on_start has returned. on_start is the first message, on_stop the last, run when no other
 * thread is inside the endpoint. */
#ifndef SHUFFLE_CLIENT_RPCENV_INBOX_H
#define SHUFFLE_CLIENT_RPCENV_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shuffle/rpc.h"

struct event_base;
struct rpc_dispatcher;
struct rpc_inbox;

enum rpc_msg_kind {
    RPC_MSG_START,
    RPC_MSG_ONE_WAY,
    RPC_MSG_ASK,
    RPC_MSG_CONNECTED,
    RPC_MSG_DISCONNECTED,
    RPC_MSG_STOP,
};

/* One message; allocated by rpc_msg_new with its strings and payload in the same block. */
struct rpc_msg {
    struct rpc_msg *next;
    enum rpc_msg_kind kind;
    shuffle_rpc_reply *reply; /* RPC_MSG_ASK: owned until processed */
    struct shuffle_rpc_message view;
};

/* A message with a copy of payload and of the strings (each may be NULL). NULL without
 * memory. */
struct rpc_msg *rpc_msg_new(enum rpc_msg_kind kind, const void *payload, size_t len,
                            const char *sender_host, int sender_port, const char *remote,
                            bool authenticated);

/* Starts threads dispatcher threads. NULL on failure. */
struct rpc_dispatcher *rpc_dispatcher_new(int threads);
/* Stops and joins the threads (inboxes must all be stopped first) and frees it. */
void rpc_dispatcher_free(struct rpc_dispatcher *d);

/* What every inbox of an env shares. */
struct rpc_inbox_env {
    struct rpc_dispatcher *dispatcher;
    struct event_base *loop; /* where run_on_loop endpoints run */
    int capacity;            /* messages waiting per inbox */
    /* An inbox that refused a message for being full is at most half full again, or is
     * stopping (any thread, no lock held; may come more often than needed). */
    void (*on_room)(void *ctx);
    void *ctx;
};

/* An inbox for ep (copied); on_start is posted at once. Its messages run on dispatcher
 * threads, or on ie->loop's thread (one at a time) when ep->run_on_loop. */
struct rpc_inbox *rpc_inbox_new(const struct rpc_inbox_env *ie, const char *name,
                                const struct shuffle_rpc_endpoint *ep);
const char *rpc_inbox_name(const struct rpc_inbox *ib);
bool rpc_inbox_requires_auth(const struct rpc_inbox *ib);
/* Whether the endpoint has the callback for kind (connected/disconnected notices). */
bool rpc_inbox_wants(const struct rpc_inbox *ib, enum rpc_msg_kind kind);
/* Appends m (taking it): SHUFFLE_OK, SHUFFLE_RPC_EOVERFLOW (full) or SHUFFLE_RPC_ESHUTDOWN
 * (stopping); on failure m is still the caller's. */
int rpc_inbox_post(struct rpc_inbox *ib, struct rpc_msg *m);
/* Appends the list first (n messages) as far as it fits: the first message not taken (NULL:
 * all were), the rest still the caller's, refused with *status (SHUFFLE_RPC_EOVERFLOW or
 * SHUFFLE_RPC_ESHUTDOWN). One lock for the whole list. */
struct rpc_msg *rpc_inbox_post_list(struct rpc_inbox *ib, struct rpc_msg *first, int n,
                                    int *status);
/* Messages taken from ib so far: an endpoint that stopped taking them keeps it still. */
uint64_t rpc_inbox_progress(struct rpc_inbox *ib);
/* Posts on_stop (refusing later posts). Returns at once when called from a callback of this
 * inbox's endpoint, or from the loop thread (caller_on_loop) for a run_on_loop endpoint;
 * otherwise waits until on_stop has run. The inbox frees itself after on_stop; ib must not be
 * used after this call. */
void rpc_inbox_stop(struct rpc_inbox *ib, bool caller_on_loop);

#endif
