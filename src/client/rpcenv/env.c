/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC environment: its loop (own thread or the caller's), listener, connections,
 * endpoints, outboxes and shutdown. See docs/rpc.md for the threads and their hand-offs. */
#include <config.h>

#include "client/rpcenv/env.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "client/auth.h"
#include "client/resolve.h"
#include "client/rpcenv/conn.h"
#include "client/rpcenv/inbox.h"
#include "client/rpcenv/reply.h"
#include "client/rpcenv/sasl_server.h"
#include "client/rpcenv/status.h"
#include "proto/rpc_envelope.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"

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
    struct rpc_registry *registry;
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

static const struct rpc_conn_handler inbound_handler;

/* ---- the command queue: any thread -> loop ---- */

static int post(shuffle_rpc_env *env, struct env_cmd *cmd)
{
    cmd->next = NULL;
    pthread_mutex_lock(&env->lock);
    bool wake = !env->cmd_head;
    if (env->cmd_tail)
        env->cmd_tail->next = cmd;
    else
        env->cmd_head = cmd;
    env->cmd_tail = cmd;
    pthread_mutex_unlock(&env->lock);
    if (wake)
        event_active(env->cmd_wake, 0, 0);
    return SHUFFLE_OK;
}

static void run_commands(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    shuffle_rpc_env *env = arg;
    atomic_store(&env->loop_thread, pthread_self());
    pthread_mutex_lock(&env->lock);
    struct env_cmd *cmd = env->cmd_head;
    env->cmd_head = env->cmd_tail = NULL;
    pthread_mutex_unlock(&env->lock);
    while (cmd) {
        struct env_cmd *next = cmd->next;
        cmd->run(env, cmd); /* frees cmd */
        cmd = next;
    }
}

/* ---- connections ---- */

static uint64_t next_conn_id(void *ctx)
{
    shuffle_rpc_env *env = ctx;
    size_t slot = 0;
    while (slot < env->conns_cap && env->conns[slot])
        slot++;
    if (slot == env->conns_cap) {
        size_t cap = env->conns_cap ? env->conns_cap * 2 : 64;
        struct rpc_conn **conns = realloc(env->conns, cap * sizeof *conns);
        if (!conns)
            return 0;
        memset(conns + env->conns_cap, 0, (cap - env->conns_cap) * sizeof *conns);
        env->conns = conns;
        env->conns_cap = cap;
    }
    return (++env->conn_generation << 24) | slot;
}

static struct rpc_conn *conn_by_id(shuffle_rpc_env *env, uint64_t id)
{
    size_t slot = (size_t)(id & 0xffffff);
    if (slot >= env->conns_cap || !env->conns[slot] || rpc_conn_id(env->conns[slot]) != id)
        return NULL;
    return env->conns[slot];
}

static void broadcast(shuffle_rpc_env *env, enum rpc_msg_kind kind, const char *remote)
{
    struct rpc_msg *m = rpc_msg_new(kind, NULL, 0, NULL, 0, remote, true);
    if (!m)
        return;
    rpc_registry_broadcast(env->registry, m);
    free(m);
}

static void conn_up(void *ctx, struct rpc_conn *c)
{
    shuffle_rpc_env *env = ctx;
    size_t slot = (size_t)(rpc_conn_id(c) & 0xffffff);
    if (slot < env->conns_cap)
        env->conns[slot] = c;
    atomic_fetch_add(&env->connections, 1);
    broadcast(env, RPC_MSG_CONNECTED, rpc_conn_remote(c));
}

static void flush_batch(shuffle_rpc_env *env);

static void conn_down(void *ctx, struct rpc_conn *c)
{
    shuffle_rpc_env *env = ctx;
    if (env->batch.conn == c)
        flush_batch(env);
    size_t slot = (size_t)(rpc_conn_id(c) & 0xffffff);
    if (slot < env->conns_cap && env->conns[slot] == c)
        env->conns[slot] = NULL;
    atomic_fetch_sub(&env->connections, 1);
    broadcast(env, RPC_MSG_DISCONNECTED, rpc_conn_remote(c));
}

/* ---- answers: reply contexts (any thread) -> loop -> connection or local ask ---- */

struct answer_cmd {
    struct env_cmd cmd;
    uint64_t conn_id; /* 0: a local ask */
    int64_t id;       /* the request id, or the local ask's id */
    int status;
    char *error;
    size_t len;
    uint8_t data[];
};

static void run_answer(shuffle_rpc_env *env, struct env_cmd *cmd)
{
    struct answer_cmd *ac = (struct answer_cmd *)cmd;
    if (ac->conn_id) {
        struct rpc_conn *c = conn_by_id(env, ac->conn_id);
        if (c) /* else the asker is gone: nobody to answer */
            rpc_conn_answer(c, ac->id, ac->status == SHUFFLE_OK ? NULL : ac->error, ac->data,
                            ac->len);
    } else {
        struct rpc_ask *a = rpc_asks_take(env->asks, ac->id);
        if (a)
            rpc_ask_complete(a, ac->status, ac->error, ac->data, ac->len);
    }
    free(ac->error);
    free(ac);
}

static void answer_sink(void *sink, uint64_t conn_id, uint64_t id, int status, const char *error,
                        const uint8_t *data, size_t len)
{
    shuffle_rpc_env *env = sink;
    struct answer_cmd *ac = malloc(sizeof *ac + len + 1);
    if (!ac)
        return; /* the asker times out */
    ac->cmd.run = run_answer;
    ac->conn_id = conn_id;
    ac->id = (int64_t)id;
    ac->status = status;
    ac->error = NULL;
    ac->len = len;
    if (len)
        memcpy(ac->data, data, len);
    ac->data[len] = 0;
    /* the text as it goes: the endpoint's own, or the env's wire form of its status (status.h) */
    if (status != SHUFFLE_OK)
        ac->error = strdup(error ? error : shuffle_rpc_strerror(status));
    post(env, &ac->cmd);
}

/* ---- requests arriving on any connection (loop) ---- */

static void refuse(shuffle_rpc_env *env, struct rpc_conn *c, int64_t request_id, int status,
                   const char *name, const char *why)
{
    atomic_fetch_add(&env->refused, 1);
    if (request_id < 0)
        return; /* a one-way message has nobody to tell: counted */
    char text[600];
    rpc_status_wire_text(status, name, why, text, sizeof text);
    rpc_conn_answer(c, request_id, text, NULL, 0);
}

/* A view's bytes as a C string in buf (cap bytes); "" when absent or too long. */
static const char *view_str(const struct proto_view *v, char *buf, size_t cap)
{
    if (!v->data || v->len >= cap)
        return "";
    memcpy(buf, v->data, v->len);
    buf[v->len] = 0;
    return buf;
}

static void release_session(void *session)
{
    rpc_sasl_session_free(session);
}

/* One SaslMessage of a connecting env's handshake, answered in turn. */
static void authenticate_step(shuffle_rpc_env *env, struct rpc_conn *c, int64_t request_id,
                              const uint8_t *body, size_t len)
{
    struct saslmsg m;
    char why[300];
    const uint8_t *out = NULL;
    size_t out_len = 0;
    struct rpc_sasl_session *s = rpc_conn_attachment(c);
    if (saslmsg_decode(body, len, &m, why, sizeof why) != 0) {
        rpc_conn_answer(c, request_id, why, NULL, 0);
        return;
    }
    if (!s) {
        s = rpc_sasl_session_new(env->password);
        if (!s) {
            rpc_conn_answer(c, request_id, "out of memory", NULL, 0);
            return;
        }
        rpc_conn_attach(c, s, release_session);
    }
    int done = rpc_sasl_session_step(s, m.token, m.token_len, &out, &out_len, why, sizeof why);
    if (done < 0) {
        rpc_conn_answer(c, request_id, why, NULL, 0);
        rpc_conn_attach(c, NULL, NULL); /* a later attempt starts afresh */
        return;
    }
    rpc_conn_answer(c, request_id, NULL, out, out_len);
    if (done) {
        rpc_conn_set_authenticated(c);
        rpc_conn_attach(c, NULL, NULL);
    }
}

/* Posts the gathered messages; those refused are answered (asks) or counted (one-way). */
static void flush_batch(shuffle_rpc_env *env)
{
    struct post_batch *b = &env->batch;
    if (!b->n)
        return;
    int status = SHUFFLE_OK;
    struct rpc_msg *rest =
        rpc_registry_post_list(env->registry, b->name, strlen(b->name), b->head, b->n, &status);
    b->n = 0;
    b->conn = NULL;
    b->head = b->tail = NULL;
    if (!rest)
        return;
    char text[600];
    rpc_status_wire_text(status, b->name, NULL, text, sizeof text);
    while (rest) {
        struct rpc_msg *m = rest;
        rest = m->next;
        if (m->reply) {
            rpc_reply_fail(m->reply, status, text);
            rpc_reply_release(m->reply);
        } else {
            atomic_fetch_add(&env->refused, 1);
        }
        free(m);
    }
}

static void on_read_end(void *ctx, struct rpc_conn *c)
{
    (void)c;
    flush_batch(ctx);
}

static void on_request(void *ctx, struct rpc_conn *c, int64_t request_id, const uint8_t *body,
                       size_t len)
{
    shuffle_rpc_env *env = ctx;
    struct rpc_envelope e;
    /* an envelope starts with 0 or 1: a SaslMessage's tag cannot be mistaken for one */
    if (env->password && request_id >= 0 && len > 0 && body[0] == SASLMSG_TAG &&
        !rpc_conn_authenticated(c)) {
        authenticate_step(env, c, request_id, body, len);
        return;
    }
    char err[200], name[256], host[256];
    if (rpc_envelope_decode(body, len, &e, err, sizeof err) != 0) {
        refuse(env, c, request_id, SHUFFLE_RPC_EREMOTE, "", err);
        return;
    }
    view_str(&e.name, name, sizeof name);
    if (strcmp(name, RPC_VERIFIER_NAME) == 0) {
        if (request_id >= 0) {
            bool has = rpc_registry_has(env->registry, (const char *)e.payload.data, e.payload.len);
            rpc_conn_answer(c, request_id, NULL, (const uint8_t *)(has ? "1" : "0"), 1);
        }
        return;
    }
    struct rpc_msg *m =
        rpc_msg_new(request_id >= 0 ? RPC_MSG_ASK : RPC_MSG_ONE_WAY, e.payload.data, e.payload.len,
                    e.sender.present ? view_str(&e.sender.host, host, sizeof host) : NULL,
                    e.sender.port, rpc_conn_remote(c), rpc_conn_authenticated(c));
    if (m && request_id >= 0 &&
        !(m->reply = rpc_reply_new(answer_sink, env, rpc_conn_id(c), (uint64_t)request_id))) {
        free(m);
        m = NULL;
    }
    if (!m) {
        refuse(env, c, request_id, SHUFFLE_RPC_EREMOTE, name, "out of memory");
        return;
    }
    /* gathered per endpoint and posted together: one registry and inbox lock per batch */
    struct post_batch *b = &env->batch;
    if (b->n && (b->conn != c || strcmp(b->name, name) != 0 || b->n >= RPC_POST_BATCH))
        flush_batch(env);
    if (!b->n) {
        b->conn = c;
        memcpy(b->name, name, strlen(name) + 1);
        b->head = m;
    } else {
        b->tail->next = m;
    }
    b->tail = m;
    b->n++;
}

static void on_answer(void *ctx, struct rpc_conn *c, int64_t request_id, const char *error,
                      size_t error_len, const uint8_t *body, size_t len)
{
    (void)c;
    shuffle_rpc_env *env = ctx;
    struct rpc_ask *a = rpc_asks_take(env->asks, request_id);
    if (!a)
        return; /* timed out already */
    if (!error) {
        rpc_ask_complete(a, SHUFFLE_OK, NULL, body, len);
        return;
    }
    /* not strndup: the text is not NUL-terminated and may be followed by nothing readable */
    char *text = malloc(error_len + 1);
    if (text) {
        memcpy(text, error, error_len);
        text[error_len] = 0;
    }
    rpc_ask_complete(a, rpc_status_from_wire(error, error_len), text ? text : "", NULL, 0);
    free(text);
}

static void inbound_drained(void *ctx, struct rpc_conn *c)
{
    (void)ctx;
    (void)c;
}

static void inbound_closed(void *ctx, struct rpc_conn *c, const char *why)
{
    (void)why;
    conn_down(ctx, c);
    rpc_conn_free(c);
}

static const struct rpc_conn_handler inbound_handler = {
    .on_request = on_request,
    .on_answer = on_answer,
    .on_read_end = on_read_end,
    .on_drained = inbound_drained,
    .on_close = inbound_closed,
};

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)l;
    (void)salen;
    shuffle_rpc_env *env = arg;
    char addr[INET6_ADDRSTRLEN] = "?", remote[INET6_ADDRSTRLEN + 8];
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, addr, sizeof addr);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr);
        port = ntohs(in6->sin6_port);
    }
    snprintf(remote, sizeof remote, "%s:%d", addr, port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct bufferevent *bev = bufferevent_socket_new(env->base, fd, BEV_OPT_CLOSE_ON_FREE);
    uint64_t id = bev ? next_conn_id(env) : 0;
    struct rpc_conn *c =
        id ? rpc_conn_new(bev, remote, id, &inbound_handler, env, env->outbox_env.max_frame_bytes)
           : NULL;
    if (!c) {
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        return;
    }
    conn_up(env, c);
}

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

struct local_ask_cmd {
    struct env_cmd cmd;
    struct rpc_ask *ask;
    char *name;
    size_t len;
    uint8_t payload[];
};

static void run_local_ask(shuffle_rpc_env *env, struct env_cmd *cmd)
{
    struct local_ask_cmd *lc = (struct local_ask_cmd *)cmd;
    struct rpc_ask *a = lc->ask;
    rpc_asks_start(env->asks, a, NULL);
    struct rpc_msg *m =
        rpc_msg_new(RPC_MSG_ASK, lc->payload, lc->len, env->host, env->port, NULL, true);
    int status = SHUFFLE_ELOCAL;
    if (m && (m->reply = rpc_reply_new(answer_sink, env, 0, (uint64_t)a->id)) != NULL)
        status = rpc_registry_post(env->registry, lc->name, strlen(lc->name), m);
    if (status != SHUFFLE_OK) {
        if (m && m->reply)
            rpc_reply_drop(m->reply);
        free(m);
        char text[600];
        rpc_status_wire_text(status, lc->name, NULL, text, sizeof text);
        rpc_ask_complete(rpc_asks_take(env->asks, a->id), status, text, NULL, 0);
    }
    free(lc->name);
    free(lc);
}

int rpc_env_local_ask(shuffle_rpc_env *env, struct rpc_ask *a, const char *name,
                      const void *payload, size_t len)
{
    struct local_ask_cmd *lc = malloc(sizeof *lc + len);
    char *n = strdup(name);
    if (!lc || !n) {
        free(lc);
        free(n);
        return SHUFFLE_ELOCAL;
    }
    lc->cmd.run = run_local_ask;
    lc->ask = a;
    lc->name = n;
    lc->len = len;
    if (len)
        memcpy(lc->payload, payload, len);
    return post(env, &lc->cmd);
}

struct rpc_dispatcher *rpc_env_dispatcher(shuffle_rpc_env *env)
{
    return env->dispatcher;
}

int rpc_env_inbox_capacity(const shuffle_rpc_env *env)
{
    return env->opts.inbox_capacity;
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
    env->listener = evconnlistener_new_bind(
        env->base, on_accept, env, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_THREADSAFE,
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
    if (op->auth_secret) {
        /* the connecting side presents the app id (any, when none is given) */
        int status = auth_creds_init(&env->creds, op->auth_app_id ? op->auth_app_id : "shuffle-rpc",
                                     op->auth_secret, op->connect_timeout_ms, err, errlen);
        if (status == SHUFFLE_OK && op->listen_host) {
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
        op->max_asks_in_flight < 1 || op->connect_timeout_ms < 1 || op->ask_timeout_ms < 1) {
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
    if (!env->base || !(env->cmd_wake = event_new(env->base, -1, 0, run_commands, env)) ||
        !(env->resolver = resolver_new(env->base, NULL, err, errlen)) ||
        !(env->registry = rpc_registry_new()) ||
        !(env->asks = rpc_asks_new(env->base, op->max_asks_in_flight)) ||
        !(env->dispatcher = rpc_dispatcher_new(op->worker_threads))) {
        if (!*err)
            snprintf(err, errlen, "cannot set up the env (no memory or threads)");
        env_destroy(env);
        return SHUFFLE_ELOCAL;
    }
    env->outbox_env = (struct rpc_outbox_env){
        .base = env->base,
        .resolver = env->resolver,
        .asks = env->asks,
        .capacity = op->outbox_capacity,
        .connect_timeout_ms = op->connect_timeout_ms,
        .max_frame_bytes = op->max_frame_bytes,
        .conn_handler = &inbound_handler,
        .ctx = env,
        .on_up = conn_up,
        .on_down = conn_down,
        .next_conn_id = next_conn_id,
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
        rpc_inbox_stop(ib);
    rpc_dispatcher_free(env->dispatcher);
    env->dispatcher = NULL;
    struct env_cmd *cmd = malloc(sizeof *cmd);
    if (cmd) {
        cmd->run = run_shutdown;
        post(env, cmd);
        pthread_mutex_lock(&env->done_lock);
        while (!env->loop_done)
            pthread_cond_wait(&env->done_cond, &env->done_lock);
        pthread_mutex_unlock(&env->done_lock);
    }
    env_destroy(env);
}
