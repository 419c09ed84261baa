/* SPDX-License-Identifier: Apache-2.0 */
/* The client context (context.c) as the operations above it see it: the loop, the
 * command queue, the operations to cancel at shutdown, and the lower layers it owns
 * (resolver, connection pool, credentials). Only the public-API files include this;
 * transport, pool, resolve and auth know nothing of it. Everything below runs on the
 * client's loop thread unless it says otherwise. */
#ifndef SHUFFLE_CLIENT_INTERNAL_H
#define SHUFFLE_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/auth.h"
#include "client/pool.h"
#include "client/transport.h"
#include "client/util.h"
#include "shuffle/client.h"

struct event_base;
struct event;
struct resolver;

/* An operation that must be told when the client shuts down (it may be waiting
 * on a timer rather than on a connection). */
struct client_op {
    void (*cancel)(struct client_op *op); /* must unlink itself and finish the op */
    struct client_op *prev, *next;
};

struct client_cmd;

struct shuffle_client {
    struct shuffle_client_options opts;
    uint64_t serial; /* unique per client in the process: names it in error details */
    char *tmp_dir;
    struct event_base *base;
    pthread_t thread;
    bool thread_started;
    /* command queue: any thread -> loop thread */
    pthread_mutex_t qlock;
    struct client_cmd *qhead, *qtail;
    bool closing; /* under qlock: no more commands accepted */
    struct event *wake;
    /* loop-thread state */
    bool stopping;
    struct client_op ops; /* sentinel of a circular list */
    struct client_rng rng;
    /* the layers below, configured once by shuffle_client_new */
    struct auth_creds auth; /* empty unless opts.auth_secret was set */
    struct client_tls *tls; /* NULL unless opts.tls (tls_link.h) */
    struct resolver *resolver;
    struct tconn_env env; /* what every connection shares */
    struct pool_config pool_cfg;
    struct pool *pool;
};

/* Runs fn(c, arg) on the loop thread. Returns 0, or -1 when the client is closing
 * (fn is not run). Callable from any thread. */
int client_post(shuffle_client *c, void (*fn)(shuffle_client *c, void *arg), void *arg);
bool client_on_loop_thread(const shuffle_client *c);

void client_op_add(shuffle_client *c, struct client_op *op);
void client_op_remove(struct client_op *op);

#endif
