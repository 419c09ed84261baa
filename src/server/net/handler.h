/* SPDX-License-Identifier: Apache-2.0 */
/* How a service (the shuffle block handler, or a test handler) plugs into the daemon core:
 * it answers RpcRequests and takes OneWayMessages. Registered once at start (main.c puts it
 * in the dispatch table). */
#ifndef SHUFFLED_SERVER_NET_HANDLER_H
#define SHUFFLED_SERVER_NET_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "server/net/conn.h"

struct rpc_reply; /* the pending answer to one RpcRequest (rpc_reply.c) */
struct shuffled_config;
struct admin_actions;

struct rpc_handler {
    void *ctx;
    /* Called on the connection's worker thread for each RpcRequest (reply != NULL) or
     * OneWayMessage (reply == NULL). body/len are borrowed for the duration of the call.
     * For an RpcRequest the handler must answer exactly once, now or later and from any thread,
     * with rpc_reply_ok() or rpc_reply_fail(); these consume `reply`. If the connection closed
     * meanwhile the answer is dropped and `reply` is still freed. */
    void (*on_rpc)(void *ctx, struct conn *c, struct rpc_reply *reply, const uint8_t *body,
                   size_t len);
    /* Optional. SIGHUP: cfg (validated, restart-only keys reset to the running values) is
     * about to become current; the service takes up what it caches from it. 0, or -1 with
     * err set (the reload is then rejected). Main thread; cfg lives until after destroy. */
    int (*reload)(void *ctx, const struct shuffled_config *cfg, char *err, size_t errlen);
    /* Optional operations hooks: the admin HTTP endpoint's actions (application/executor
     * removal; NULL: the endpoints answer 501), valid until destroy; and the service's
     * gauges and mirrored counters, set before each /metrics rendering (any thread). */
    const struct admin_actions *(*admin_actions)(void *ctx);
    void (*collect_metrics)(void *ctx);
    /* Optional: UploadStream messages (push-based shuffle; NULL: refused as Spark 3.1 does).
     * Worker thread; m is borrowed; the handler answers through the connection and takes the
     * after-frame body with conn_take_body(). */
    void (*on_upload)(void *ctx, struct conn *c, const struct proto_msg *m);
    /* Optional; called once at shutdown after all workers stopped. */
    void (*destroy)(void *ctx);
    /* Optional: MergedBlockMetaRequest (push-based shuffle's merged fetch), a dispatch route
     * (main.c) with ctx; NULL: refused as Spark 3.1 does. */
    void (*on_merged_meta)(void *ctx, struct conn *c, const struct proto_msg *m);
};

void rpc_reply_ok(struct rpc_reply *r, const uint8_t *body, size_t len); /* copies body */
void rpc_reply_fail(struct rpc_reply *r, const char *error);             /* Java-style text */

/* Runs fn(arg) on the shared blocking-I/O thread pool (never on an event loop); then, if
 * done != NULL, runs done(arg) back on the worker thread that owns c. For handlers whose work
 * touches the disk (RegisterExecutor persistence, RemoveBlocks deletes...). If c closes before
 * done would run, done still runs (so arg can be freed) with c == NULL.
 * Must be called on c's worker thread. */
void conn_run_blocking(struct conn *c, void (*fn)(void *arg),
                       void (*done)(struct conn *c, void *arg), void *arg);

#endif
