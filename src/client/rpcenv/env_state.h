/* SPDX-License-Identifier: Apache-2.0 */
/* The env's state, shared by its parts: env.c (life cycle, listener, what references use),
 * env_requests.c (what arrives on connections, answers, local asks) and env_loop.c (the
 * command queue and the connection table). Fields are the loop thread's unless their
 * comment says otherwise. */
#ifndef SHUFFLE_CLIENT_RPCENV_ENV_STATE_H
#define SHUFFLE_CLIENT_RPCENV_ENV_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/util.h>

#include "client/auth.h"
#include "client/rpcenv/conn.h"
#include "client/rpcenv/inbox.h"
#include "client/rpcenv/outbox.h"
#include "shuffle/rpc.h"

struct evconnlistener;
struct rpc_backpressure;
struct rpc_dispatcher;
struct rpc_msg;
struct rpc_registry;

/* A unit of work handed to the loop thread (replies, local asks, shutdown). */
struct env_cmd {
    struct env_cmd *next;
    void (*run)(shuffle_rpc_env *env, struct env_cmd *cmd);
};

/* Messages read for one endpoint, posted together at the end of the read (loop only). */
#define RPC_POST_BATCH 256
struct post_batch {
    struct rpc_conn *conn;
    char name[256];
    struct rpc_msg *head, *tail;
    int n;
};

struct outbox_node {
    struct outbox_node *next;
    struct rpc_outbox *ob;
};

struct shuffle_rpc_env {
    struct shuffle_rpc_env_options opts;
    char *host; /* listening address (server mode) */
    int port;
    struct event_base *base;
    bool own_base;
    pthread_t thread;
    bool thread_started;
    _Atomic(pthread_t) loop_thread;
    struct resolver *resolver;
    struct evconnlistener *listener;
    struct rpc_dispatcher *dispatcher;
    struct rpc_inbox_env inbox_env;
    struct rpc_registry *registry;
    struct rpc_backpressure *backpressure;
    struct rpc_asks *asks;
    struct rpc_outbox_env outbox_env;
    /* spark.authenticate: what connections made present, what accepted ones check */
    struct auth_creds creds;
    char *password;
    bool sasl_server_started;
    /* under lock: outboxes and the command queue */
    pthread_mutex_t lock;
    struct outbox_node *outboxes;
    struct env_cmd *cmd_head, *cmd_tail;
    struct event *cmd_wake;
    /* loop only: connections by slot (id = generation << 24 | slot); the post batch */
    struct post_batch batch;
    struct rpc_conn **conns;
    size_t conns_cap;
    uint64_t conn_generation;
    /* statistics */
    atomic_uint_fast64_t sends_dropped, connections, refused;
    /* shutdown */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    bool loop_done;
};

#endif
