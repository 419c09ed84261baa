/* SPDX-License-Identifier: Apache-2.0 */
/* Process-wide state of the daemon core, shared by the listener, workers and connections. */
#ifndef SHUFFLED_SERVER_SERVER_H
#define SHUFFLED_SERVER_SERVER_H

#include <stdatomic.h>
#include <stdint.h>

#include "server/ops/config.h"

struct worker;
struct conn;
struct proto_msg;
struct rpc_handler;
struct blocking_pool;
struct auth_server;
struct tls_context;

struct server {
    /* The current configuration. SIGHUP publishes a new, fully validated one here
     * (config_reload.h); replaced ones stay allocated until exit, so a reader that loaded the
     * pointer may keep using it. Read it through server_config(), once per decision. */
    _Atomic(const struct shuffled_config *) cfg;
    struct rpc_handler *handler;
    /* Wiring set by main before the workers start: the handler of every connection's last
     * phase (dispatch), and a hook run on each new connection (auth pushes its phase). */
    void (*base_on_msg)(void *ctx, struct conn *c, const struct proto_msg *m);
    void *base_ctx;
    void (*conn_opened)(void *ctx, struct conn *c);
    void *conn_opened_ctx;
    struct blocking_pool *pool;
    struct auth_server *auth; /* NULL when auth_enabled is false (auth.h) */
    struct worker **workers;
    int nworkers;
    atomic_uint_fast64_t chunks_in_flight; /* max_chunks_in_flight is checked against this */
    atomic_uint_fast32_t conns;            /* open connections, checked against max_connections */
    /* Bytes held for clients, per kind of conn_budget (conn.h): streams, input, output. */
    atomic_uint_fast64_t budget_used[3];
    struct tls_context *tls; /* NULL unless tls_enabled or tls_port (tls_context.h) */
};

static inline const struct shuffled_config *server_config(struct server *srv)
{
    return atomic_load_explicit(&srv->cfg, memory_order_acquire);
}

#endif
