/* SPDX-License-Identifier: Apache-2.0 */
/* An env's asks awaiting answers: by request id (to match RpcResponse/RpcFailure), each with
 * its timer, each in at most one group (the outbox that sent it, to fail them all when its
 * connection goes). Every ask completes exactly once: answered, timed out or failed. The
 * table lives on the loop thread; only rpc_asks_reserve/rpc_ask_new/rpc_ask_free and the
 * count may be used from other threads. */
#ifndef SHUFFLE_CLIENT_RPCENV_ASKS_H
#define SHUFFLE_CLIENT_RPCENV_ASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shuffle/rpc.h"

struct event_base;
struct rpc_asks;

struct rpc_ask_group {
    struct rpc_ask *head;
};

struct rpc_ask {
    struct rpc_ask *next_staged; /* the owner's queue before rpc_asks_start */
    struct rpc_ask *hash_next;
    struct rpc_ask *group_prev, *group_next;
    struct rpc_ask_group *group;
    struct rpc_asks *table;
    struct event *timer;
    int64_t id;
    int timeout_ms;
    shuffle_rpc_ask_fn fn;
    void *arg;
};

struct rpc_asks *rpc_asks_new(struct event_base *base, int max_in_flight);
/* Completes every ask left with status (why) and frees the table. */
void rpc_asks_free(struct rpc_asks *t, int status, const char *why);

/* Any thread: a new ask (counted in flight), or NULL with SHUFFLE_RPC_EOVERFLOW (too many in
 * flight) or SHUFFLE_ELOCAL in *status. */
struct rpc_ask *rpc_ask_new(struct rpc_asks *t, shuffle_rpc_ask_fn fn, void *arg, int timeout_ms,
                            int *status);
/* Any thread: frees an ask that was never started (its fn does not run). */
void rpc_ask_free(struct rpc_ask *a);
uint64_t rpc_asks_in_flight(struct rpc_asks *t);

/* Loop: the ask is matched by id from now on, its timer runs, and it joins group (NULL:
 * none). */
void rpc_asks_start(struct rpc_asks *t, struct rpc_ask *a, struct rpc_ask_group *group);
/* Loop: the started ask with this id, taken out (timer stopped), or NULL. */
struct rpc_ask *rpc_asks_take(struct rpc_asks *t, int64_t id);
/* Loop: runs a's callback and frees it (a taken, or never started). */
void rpc_ask_complete(struct rpc_ask *a, int status, const char *error, const uint8_t *data,
                      size_t len);
/* Loop: completes every ask of group with status. */
void rpc_asks_fail_group(struct rpc_asks *t, struct rpc_ask_group *group, int status,
                         const char *why);

#endif
