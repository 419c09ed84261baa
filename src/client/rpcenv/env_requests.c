/* SPDX-License-Identifier: Apache-2.0 */
/* What arrives on an env's connections (accepted or made): requests and one-way messages for
 * its endpoints (gathered per endpoint and posted together), the SASL handshake of connecting
 * envs, answers to its asks; answers from reply contexts on their way back; local asks. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "client/rpcenv/aes_accept.h"
#include "client/rpcenv/asks.h"
#include "client/rpcenv/backpressure.h"
#include "client/rpcenv/env_requests.h"
#include "client/rpcenv/env_loop.h"
#include "client/rpcenv/env_state.h"
#include "client/rpcenv/inbox.h"
#include "client/rpcenv/registry.h"
#include "client/rpcenv/reply.h"
#include "client/rpcenv/sasl_server.h"
#include "client/rpcenv/status.h"
#include "proto/rpc_envelope.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"

static void broadcast(shuffle_rpc_env *env, enum rpc_msg_kind kind, const char *remote)
{
    struct rpc_msg *m = rpc_msg_new(kind, NULL, 0, NULL, 0, remote, true);
    if (!m)
        return;
    rpc_registry_broadcast(env->registry, m);
    free(m);
}

void rpc_env_conn_up(void *ctx, struct rpc_conn *c)
{
    shuffle_rpc_env *env = ctx;
    size_t slot = (size_t)(rpc_conn_id(c) & 0xffffff);
    if (slot < env->conns_cap)
        env->conns[slot] = c;
    atomic_fetch_add(&env->connections, 1);
    broadcast(env, RPC_MSG_CONNECTED, rpc_conn_remote(c));
}

static void flush_batch(shuffle_rpc_env *env);

void rpc_env_conn_down(void *ctx, struct rpc_conn *c)
{
    shuffle_rpc_env *env = ctx;
    if (env->batch.conn == c)
        flush_batch(env);
    rpc_backpressure_conn_down(env->backpressure, c);
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

/* Loop: an answer to its asker (the connection's output, or the local ask's callback). */
static void deliver_answer(shuffle_rpc_env *env, uint64_t conn_id, int64_t id, int status,
                           const char *error, const uint8_t *data, size_t len)
{
    if (conn_id) {
        struct rpc_conn *c = rpc_env_conn_by_id(env, conn_id);
        if (c) /* else the asker is gone: nobody to answer */
            rpc_conn_answer(c, id, status == SHUFFLE_OK ? NULL : error, data, len);
    } else {
        struct rpc_ask *a = rpc_asks_take(env->asks, id);
        if (a)
            rpc_ask_complete(a, status, error, data, len);
    }
}

static void run_answer(shuffle_rpc_env *env, struct env_cmd *cmd)
{
    struct answer_cmd *ac = (struct answer_cmd *)cmd;
    deliver_answer(env, ac->conn_id, ac->id, ac->status, ac->error, ac->data, ac->len);
    free(ac->error);
    free(ac);
}

static void answer_sink(void *sink, uint64_t conn_id, uint64_t id, int status, const char *error,
                        const uint8_t *data, size_t len)
{
    shuffle_rpc_env *env = sink;
    /* a run_on_loop endpoint's: no hand-off, no copy */
    if (pthread_equal(atomic_load(&env->loop_thread), pthread_self())) {
        deliver_answer(env, conn_id, (int64_t)id, status,
                       status == SHUFFLE_OK ? NULL : (error ? error : shuffle_rpc_strerror(status)),
                       data, len);
        return;
    }
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
    rpc_env_post(env, &ac->cmd);
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

/* Posts the gathered messages: those a full inbox cannot take wait (backpressure.h), other
 * refusals are answered (asks) or counted (one-way). */
static void flush_batch(shuffle_rpc_env *env)
{
    struct post_batch *b = &env->batch;
    if (!b->n)
        return;
    struct rpc_msg *first = b->head;
    int n = b->n;
    b->n = 0;
    b->head = b->tail = NULL;
    rpc_backpressure_post(env->backpressure, b->conn, b->name, first, n);
    b->conn = NULL;
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
    /* an envelope starts with 0 or 1: neither an AES message's tag nor a SaslMessage's
     * (below) can be mistaken for one */
    if (env->opts.crypto && request_id >= 0 && !rpc_conn_authenticated(c) &&
        rpc_aes_is_auth_message(body, len)) {
        rpc_aes_accept(c, &env->creds, request_id, body, len);
        return;
    }
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
        !(m->reply = rpcenv_reply_new(answer_sink, env, rpc_conn_id(c), (uint64_t)request_id))) {
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
    rpc_env_conn_down(ctx, c);
    rpc_conn_free(c);
}

const struct rpc_conn_handler rpc_env_inbound_handler = {
    .on_request = on_request,
    .on_answer = on_answer,
    .on_read_end = on_read_end,
    .on_drained = inbound_drained,
    .on_close = inbound_closed,
};

void rpc_env_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
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
    uint64_t id = bev ? rpc_env_next_conn_id(env) : 0;
    struct rpc_conn *c = id ? rpc_conn_new(bev, remote, id, &rpc_env_inbound_handler, env,
                                           env->outbox_env.max_frame_bytes)
                            : NULL;
    if (!c) {
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        return;
    }
    rpc_env_conn_up(env, c);
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
    if (m && (m->reply = rpcenv_reply_new(answer_sink, env, 0, (uint64_t)a->id)) != NULL)
        status = rpc_registry_post(env->registry, lc->name, strlen(lc->name), m);
    if (status != SHUFFLE_OK) {
        if (m && m->reply)
            rpcenv_reply_drop(m->reply);
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
    return rpc_env_post(env, &lc->cmd);
}
