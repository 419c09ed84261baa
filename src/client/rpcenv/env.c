/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC environment: its life cycle (loop thread or the caller's loop, listener, shutdown)
 * and what references and registration need of it. Connections: env_requests.c; the loop
 * hand-off: env_loop.c. See docs/rpc.md for the threads and their hand-offs. */
#include <config.h>

#include "client/rpcenv/env.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "client/auth.h"
#include "client/resolve.h"
#include "client/rpcenv/backpressure.h"
#include "client/rpcenv/env_requests.h"
#include "client/rpcenv/env_loop.h"
#include "client/rpcenv/env_state.h"
#include "client/rpcenv/inbox.h"
#include "client/rpcenv/sasl_server.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"

/* ---- what ref.c uses ---- */

struct rpc_registry *rpc_env_registry(shuffle_rpc_env *env)
{
    return env->registry;
}

struct rpc_asks *rpc_env_asks(shuffle_rpc_env *env)
{
    return env->asks;
}

struct rpc_outbox *rpc_env_outbox(shuffle_rpc_env *env, const char *host, int port)
{
    pthread_mutex_lock(&env->lock);
    struct outbox_node *n = env->outboxes;
    while (n && (rpc_outbox_port(n->ob) != port || strcmp(rpc_outbox_host(n->ob), host) != 0))
        n = n->next;
    if (!n && (n = malloc(sizeof *n)) != NULL) {
        n->ob = rpc_outbox_new(&env->outbox_env, host, port);
        if (n->ob) {
            n->next = env->outboxes;
            env->outboxes = n;
        } else {
            free(n);
            n = NULL;
        }
    }
    pthread_mutex_unlock(&env->lock);
    return n ? n->ob : NULL;
}

void rpc_env_sender(const shuffle_rpc_env *env, const char **host, int *port)
{
    *host = env->host;
    *port = env->port;
}

int rpc_env_ask_timeout(const shuffle_rpc_env *env, int timeout_ms)
{
    return timeout_ms > 0 ? timeout_ms : env->opts.ask_timeout_ms;
}

bool rpc_env_on_loop(const shuffle_rpc_env *env)
{
    return pthread_equal(atomic_load(&((shuffle_rpc_env *)env)->loop_thread), pthread_self());
}

const struct rpc_inbox_env *rpc_env_inbox_env(const shuffle_rpc_env *env)
{
    return &env->inbox_env;
}

/* ---- the env ---- */

void shuffle_rpc_env_stats(shuffle_rpc_env *env, struct shuffle_rpc_env_stats *out)
{
    out->sends_dropped = atomic_load(&env->sends_dropped) + atomic_load(&env->refused);
    out->asks_in_flight = rpc_asks_in_flight(env->asks);
    out->connections = atomic_load(&env->connections);
}

int shuffle_rpc_env_port(const shuffle_rpc_env *env)
{
    return env->port;
}

static void *loop_main(void *arg)
{
    shuffle_rpc_env *env = arg;
    atomic_store(&env->loop_thread, pthread_self());
    event_base_loop(env->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int start_listening(shuffle_rpc_env *env, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", env->opts.port);
    int rc = getaddrinfo(env->opts.listen_host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", env->opts.listen_host, gai_strerror(rc));
        return SHUFFLE_EINVAL;
    }
    env->listener =
        evconnlistener_new_bind(env->base, rpc_env_on_accept, env,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_THREADSAFE,
                                1024, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!env->listener) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", env->opts.listen_host, env->opts.port,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return SHUFFLE_EINVAL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evconnlistener_get_fd(env->listener), (struct sockaddr *)&ss, &sl);
    env->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return SHUFFLE_OK;
}

static void env_destroy(shuffle_rpc_env *env);

int shuffle_rpc_env_new(const struct shuffle_rpc_env_options *o, shuffle_rpc_env **out, char *err,
                        size_t errlen)
{
    char scratch[8];
    if (!err) {
        err = scratch;
        errlen = sizeof scratch;
    }
    *err = 0;
    *out = NULL;
    evthread_use_pthreads();
    shuffle_rpc_env *env = calloc(1, sizeof *env);
    if (!env)
        return SHUFFLE_ELOCAL;
    shuffle_rpc_env_options_init(&env->opts);
    if (o) {
        if (!o->struct_size || o->struct_size > sizeof env->opts) {
            snprintf(err, errlen, "shuffle_rpc_env_options: struct_size unset or unknown");
            free(env);
            return SHUFFLE_EINVAL;
        }
        memcpy(&env->opts, o, o->struct_size);
    }
    pthread_mutex_init(&env->lock, NULL);
    pthread_mutex_init(&env->done_lock, NULL);
    pthread_cond_init(&env->done_cond, NULL);
    struct shuffle_rpc_env_options *op = &env->opts;
    if (!op->auth_secret && (op->crypto || op->crypto_cipher)) {
        snprintf(err, errlen, "shuffle_rpc_env_options: crypto needs auth_secret");
        env_destroy(env);
        return SHUFFLE_EINVAL;
    }
    if (op->auth_secret) {
        /* the connecting side presents the app id (any, when none is given) */
        const struct auth_modes modes = {
            .app_id = op->auth_app_id ? op->auth_app_id : "shuffle-rpc",
            .secret = op->auth_secret,
            .crypto = op->crypto,
            .crypto_cipher = op->crypto_cipher,
            .timeout_ms = op->connect_timeout_ms,
        };
        int status = auth_creds_init(&env->creds, &modes, err, errlen);
        /* with crypto the accepting side answers the AES handshake (aes_accept.c) only */
        if (status == SHUFFLE_OK && op->listen_host && !op->crypto) {
            if (!(env->password = sasl_spark_password(op->auth_secret)))
                status = SHUFFLE_ELOCAL;
            else if (rpc_sasl_server_start(err, errlen) != 0)
                status = SHUFFLE_ELOCAL;
            else
                env->sasl_server_started = true;
        }
        if (status != SHUFFLE_OK) {
            env_destroy(env);
            return status;
        }
    }
    op->auth_secret = op->auth_app_id = NULL; /* not kept: the caller's strings */
    if (op->worker_threads < 1 || op->inbox_capacity < 1 || op->outbox_capacity < 1 ||
        op->max_asks_in_flight < 1 || op->connect_timeout_ms < 1 || op->ask_timeout_ms < 1 ||
        op->inbox_stall_timeout_ms < 1) {
        snprintf(err, errlen, "shuffle_rpc_env_options: a count or timeout below 1");
        env_destroy(env);
        return SHUFFLE_EINVAL;
    }
    env->own_base = !op->event_base;
    env->base = op->event_base ? op->event_base : event_base_new();
    if (op->listen_host && !(env->host = strdup(op->listen_host))) {
        env_destroy(env);
        return SHUFFLE_ELOCAL;
    }
    op->listen_host = env->host;
    if (!env->base || !(env->cmd_wake = event_new(env->base, -1, 0, rpc_env_run_commands, env)) ||
        !(env->resolver = resolver_new(env->base, NULL, err, errlen)) ||
        !(env->registry = rpc_registry_new()) ||
        !(env->backpressure = rpc_backpressure_new(env->base, env->registry, &env->refused,
                                                   op->inbox_stall_timeout_ms)) ||
        !(env->asks = rpc_asks_new(env->base, op->max_asks_in_flight)) ||
        !(env->dispatcher = rpc_dispatcher_new(op->worker_threads))) {
        if (!*err)
            snprintf(err, errlen, "cannot set up the env (no memory or threads)");
        env_destroy(env);
        return SHUFFLE_ELOCAL;
    }
    env->inbox_env = (struct rpc_inbox_env){
        .dispatcher = env->dispatcher,
        .loop = env->base,
        .capacity = op->inbox_capacity,
        .on_room = rpc_backpressure_room,
        .ctx = env->backpressure,
    };
    env->outbox_env = (struct rpc_outbox_env){
        .base = env->base,
        .resolver = env->resolver,
        .asks = env->asks,
        .capacity = op->outbox_capacity,
        .connect_timeout_ms = op->connect_timeout_ms,
        .max_frame_bytes = op->max_frame_bytes,
        .conn_handler = &rpc_env_inbound_handler,
        .ctx = env,
        .on_up = rpc_env_conn_up,
        .on_down = rpc_env_conn_down,
        .next_conn_id = rpc_env_next_conn_id,
        .sends_dropped = &env->sends_dropped,
        .creds = auth_creds_enabled(&env->creds) ? &env->creds : NULL,
    };
    int status = op->listen_host ? start_listening(env, err, errlen) : SHUFFLE_OK;
    if (status == SHUFFLE_OK && env->own_base) {
        if (pthread_create(&env->thread, NULL, loop_main, env) != 0) {
            snprintf(err, errlen, "cannot start the loop thread");
            status = SHUFFLE_ELOCAL;
        } else {
            env->thread_started = true;
        }
    }
    if (status != SHUFFLE_OK) {
        env_destroy(env);
        return status;
    }
    *out = env;
    return SHUFFLE_OK;
}

static void loop_finished(void *arg)
{
    shuffle_rpc_env *env = arg;
    pthread_mutex_lock(&env->done_lock);
    env->loop_done = true;
    pthread_cond_broadcast(&env->done_cond);
    pthread_mutex_unlock(&env->done_lock);
    if (env->own_base)
        event_base_loopbreak(env->base);
}

/* Loop: closes everything the loop owns; every unanswered ask fails. */
static void run_shutdown(shuffle_rpc_env *env, struct env_cmd *cmd)
{
    free(cmd);
    const char *why = "the RPC env is shutting down";
    if (env->listener) {
        evconnlistener_free(env->listener);
        env->listener = NULL;
    }
    pthread_mutex_lock(&env->lock);
    struct outbox_node *n = env->outboxes;
    env->outboxes = NULL;
    pthread_mutex_unlock(&env->lock);
    while (n) {
        struct outbox_node *next = n->next;
        rpc_outbox_free(n->ob, SHUFFLE_RPC_ESHUTDOWN, why);
        free(n);
        n = next;
    }
    rpc_backpressure_free(env->backpressure); /* its asks answered while conns are there */
    env->backpressure = NULL;
    for (size_t i = 0; i < env->conns_cap; i++) {
        rpc_conn_free(env->conns[i]);
        env->conns[i] = NULL;
    }
    rpc_asks_free(env->asks, SHUFFLE_RPC_ESHUTDOWN, why);
    env->asks = NULL;
    /* a canceled host lookup still calls back: wait for it */
    if (resolver_busy(env->resolver))
        resolver_on_idle(env->resolver, loop_finished, env);
    else
        loop_finished(env);
}

static void env_destroy(shuffle_rpc_env *env)
{
    if (env->thread_started)
        pthread_join(env->thread, NULL);
    /* commands left (none after a shutdown) */
    while (env->cmd_head) {
        struct env_cmd *next = env->cmd_head->next;
        free(env->cmd_head);
        env->cmd_head = next;
    }
    if (env->listener)
        evconnlistener_free(env->listener);
    rpc_dispatcher_free(env->dispatcher);
    rpc_asks_free(env->asks, SHUFFLE_RPC_ESHUTDOWN, "the RPC env is shutting down");
    rpc_backpressure_free(env->backpressure);
    rpc_registry_free(env->registry);
    if (env->resolver)
        resolver_free(env->resolver);
    if (env->cmd_wake)
        event_free(env->cmd_wake);
    if (env->own_base && env->base)
        event_base_free(env->base);
    free(env->conns);
    free(env->host);
    auth_creds_release(&env->creds);
    if (env->password) {
        explicit_bzero(env->password, strlen(env->password));
        free(env->password);
    }
    if (env->sasl_server_started)
        rpc_sasl_server_stop();
    pthread_mutex_destroy(&env->lock);
    pthread_mutex_destroy(&env->done_lock);
    pthread_cond_destroy(&env->done_cond);
    free(env);
}

void shuffle_rpc_env_free(shuffle_rpc_env *env)
{
    if (!env)
        return;
    /* endpoints stop newest first, each after the messages already in its inbox */
    struct rpc_inbox *ib;
    while ((ib = rpc_registry_remove_last(env->registry)) != NULL)
        rpc_inbox_stop(ib, false);
    rpc_dispatcher_free(env->dispatcher);
    env->dispatcher = NULL;
    struct env_cmd *cmd = malloc(sizeof *cmd);
    if (cmd) {
        cmd->run = run_shutdown;
        rpc_env_post(env, cmd);
        pthread_mutex_lock(&env->done_lock);
        while (!env->loop_done)
            pthread_cond_wait(&env->done_cond, &env->done_lock);
        pthread_mutex_unlock(&env->done_lock);
    }
    env_destroy(env);
}
