/* SPDX-License-Identifier: Apache-2.0 */
/* A peer's outbox; see outbox.h. */
#include <config.h>

#include "client/rpcenv/outbox.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client/auth.h"
#include "client/auth_aes.h"
#include "client/dial.h"
#include "proto/message.h"
#include "shuffle/client.h"
#include "shuffle/rpc.h"

/* Queued frames go to the socket while its unsent output is below this. */
#define RPC_OUTBOX_HIGH_WATER (4 * 1024 * 1024)

enum outbox_state { OUTBOX_IDLE, OUTBOX_CONNECTING, OUTBOX_AUTHENTICATING, OUTBOX_CONNECTED };

struct rpc_outbox {
    const struct rpc_outbox_env *env;
    char *host;
    int port;
    char remote[300];
    /* shared with callers, under lock */
    pthread_mutex_t lock;
    struct evbuffer *staged;
    struct rpc_ask *staged_asks, *staged_asks_tail;
    int waiting;       /* frames staged or queued, not yet given to the socket */
    int staged_sends;  /* one-way frames among the staged */
    bool wake_pending; /* the loop was woken for what is staged */
    struct event *wake;
    /* loop only */
    enum outbox_state state;
    struct evbuffer *queued;
    int queued_frames, queued_sends;
    struct dial *dial;
    struct event *connect_timer;
    struct rpc_conn *conn;
    struct rpc_ask_group asks;
    /* the authentication phase of a new connection: SASL, or the AES handshake with crypto */
    struct auth_phase *auth;
    struct aes_phase *aes;
    int64_t auth_ask_id;       /* the step awaiting its answer, -1 when none */
    struct event *auth_failed; /* closes the connection outside its own callbacks */
    char *auth_why;
};

static void on_wake(evutil_socket_t fd, short what, void *arg);
static void on_connect_timeout(evutil_socket_t fd, short what, void *arg);
static void on_auth_failed(evutil_socket_t fd, short what, void *arg);

struct rpc_outbox *rpc_outbox_new(const struct rpc_outbox_env *env, const char *host, int port)
{
    struct rpc_outbox *ob = calloc(1, sizeof *ob);
    if (!ob)
        return NULL;
    ob->env = env;
    ob->port = port;
    snprintf(ob->remote, sizeof ob->remote, "%s:%d", host, port);
    ob->host = strdup(host);
    ob->staged = evbuffer_new();
    ob->queued = evbuffer_new();
    ob->wake = event_new(env->base, -1, 0, on_wake, ob);
    ob->connect_timer = evtimer_new(env->base, on_connect_timeout, ob);
    ob->auth_failed = evtimer_new(env->base, on_auth_failed, ob);
    ob->auth_ask_id = -1;
    pthread_mutex_init(&ob->lock, NULL);
    if (!ob->host || !ob->staged || !ob->queued || !ob->wake || !ob->connect_timer ||
        !ob->auth_failed) {
        rpc_outbox_free(ob, SHUFFLE_ELOCAL, "no memory");
        return NULL;
    }
    return ob;
}

const char *rpc_outbox_host(const struct rpc_outbox *ob)
{
    return ob->host;
}

int rpc_outbox_port(const struct rpc_outbox *ob)
{
    return ob->port;
}

/* Loop: drops what waits for a connection; the asks among it fail with status. */
static void drop_waiting(struct rpc_outbox *ob, int status, const char *why)
{
    evbuffer_drain(ob->queued, evbuffer_get_length(ob->queued));
    atomic_fetch_add(ob->env->sends_dropped, (uint64_t)ob->queued_sends);
    pthread_mutex_lock(&ob->lock);
    ob->waiting -= ob->queued_frames;
    pthread_mutex_unlock(&ob->lock);
    ob->queued_frames = ob->queued_sends = 0;
    rpc_asks_fail_group(ob->env->asks, &ob->asks, status, why);
}

/* Ends the SASL phase: its step awaiting an answer is dropped without a callback. */
static void end_auth(struct rpc_outbox *ob)
{
    if (ob->auth_ask_id >= 0) {
        struct rpc_ask *a = rpc_asks_take(ob->env->asks, ob->auth_ask_id);
        if (a)
            rpc_ask_free(a);
        ob->auth_ask_id = -1;
    }
    auth_phase_free(ob->auth);
    ob->auth = NULL;
    aes_phase_free(ob->aes);
    ob->aes = NULL;
}

static void close_conn(struct rpc_outbox *ob)
{
    end_auth(ob);
    if (!ob->conn)
        return;
    ob->env->on_down(ob->env->ctx, ob->conn);
    rpc_conn_free(ob->conn);
    ob->conn = NULL;
}

void rpc_outbox_free(struct rpc_outbox *ob, int status, const char *why)
{
    if (!ob)
        return;
    if (ob->dial)
        dial_cancel(ob->dial);
    close_conn(ob);
    if (ob->queued)
        drop_waiting(ob, status, why);
    for (struct rpc_ask *a = ob->staged_asks, *next; a; a = next) {
        next = a->next_staged;
        rpc_ask_complete(a, status, why, NULL, 0);
    }
    if (ob->wake)
        event_free(ob->wake);
    if (ob->connect_timer)
        event_free(ob->connect_timer);
    if (ob->auth_failed)
        event_free(ob->auth_failed);
    free(ob->auth_why);
    if (ob->staged)
        evbuffer_free(ob->staged);
    if (ob->queued)
        evbuffer_free(ob->queued);
    pthread_mutex_destroy(&ob->lock);
    free(ob->host);
    free(ob);
}

/* Loop: queued frames to the socket while it takes them. */
static void flush(struct rpc_outbox *ob)
{
    if (ob->state != OUTBOX_CONNECTED || !ob->queued_frames ||
        rpc_conn_output_len(ob->conn) >= RPC_OUTBOX_HIGH_WATER)
        return;
    rpc_conn_write_buffer(ob->conn, ob->queued);
    pthread_mutex_lock(&ob->lock);
    ob->waiting -= ob->queued_frames;
    pthread_mutex_unlock(&ob->lock);
    ob->queued_frames = ob->queued_sends = 0;
}

static void on_conn_request(void *ctx, struct rpc_conn *c, int64_t request_id, const uint8_t *body,
                            size_t len)
{
    struct rpc_outbox *ob = ctx;
    ob->env->conn_handler->on_request(ob->env->ctx, c, request_id, body, len);
}

static void on_conn_answer(void *ctx, struct rpc_conn *c, int64_t request_id, const char *error,
                           size_t error_len, const uint8_t *body, size_t len)
{
    struct rpc_outbox *ob = ctx;
    ob->env->conn_handler->on_answer(ob->env->ctx, c, request_id, error, error_len, body, len);
}

static void on_conn_read_end(void *ctx, struct rpc_conn *c)
{
    struct rpc_outbox *ob = ctx;
    ob->env->conn_handler->on_read_end(ob->env->ctx, c);
}

static void on_conn_drained(void *ctx, struct rpc_conn *c)
{
    (void)c;
    flush(ctx);
}

static void on_conn_close(void *ctx, struct rpc_conn *c, const char *why)
{
    (void)c;
    struct rpc_outbox *ob = ctx;
    char text[400];
    snprintf(text, sizeof text, "connection to %s lost: %s", ob->remote, why);
    close_conn(ob);
    ob->state = OUTBOX_IDLE;
    /* asks sent on it are lost; frames still queued wait for the next connection */
    rpc_asks_fail_group(ob->env->asks, &ob->asks, SHUFFLE_RPC_ECONNLOST, text);
    drop_waiting(ob, SHUFFLE_RPC_ECONNLOST, text);
}

static const struct rpc_conn_handler outbox_conn_handler = {
    .on_request = on_conn_request,
    .on_answer = on_conn_answer,
    .on_read_end = on_conn_read_end,
    .on_drained = on_conn_drained,
    .on_close = on_conn_close,
};

static void connect_failed(struct rpc_outbox *ob, const char *why)
{
    char text[400];
    snprintf(text, sizeof text, "cannot connect to %s: %s", ob->remote, why);
    ob->state = OUTBOX_IDLE;
    evtimer_del(ob->connect_timer);
    drop_waiting(ob, SHUFFLE_RPC_EUNREACHABLE, text);
}

/* Loop, outside the connection's callbacks: a refused authentication closes it and fails
 * what waits for it. */
static void on_auth_failed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rpc_outbox *ob = arg;
    char text[600];
    snprintf(text, sizeof text, "authentication with %s failed: %s", ob->remote,
             ob->auth_why ? ob->auth_why : "no memory");
    free(ob->auth_why);
    ob->auth_why = NULL;
    close_conn(ob);
    ob->state = OUTBOX_IDLE;
    drop_waiting(ob, SHUFFLE_EAUTH, text);
}

static void auth_fail(struct rpc_outbox *ob, const char *why)
{
    free(ob->auth_why);
    ob->auth_why = strdup(why ? why : "");
    struct timeval now = {0, 0};
    evtimer_add(ob->auth_failed, &now);
}

static void on_auth_answer(void *arg, int status, const char *error, const uint8_t *reply,
                           size_t len);

/* Sends the next SASL message as an ask of its own, or finishes the phase. */
static void auth_follow(struct rpc_outbox *ob, struct auth_step *step)
{
    if (step->next == AUTH_DONE) {
        end_auth(ob);
        /* the AES cipher goes under every byte after the handshake's reply */
        if (!link_is_plain(&step->link) && rpc_conn_set_link(ob->conn, &step->link) != 0) {
            auth_fail(ob, "no memory for the cipher");
            auth_step_clear(step);
            return;
        }
        rpc_conn_set_authenticated(ob->conn);
        ob->state = OUTBOX_CONNECTED;
        flush(ob);
    } else if (step->next == AUTH_FAILED) {
        auth_fail(ob, step->why);
    } else {
        int status;
        struct rpc_ask *a =
            rpc_ask_new(ob->env->asks, on_auth_answer, ob, ob->env->creds->timeout_ms, &status);
        if (!a) {
            auth_fail(ob, shuffle_rpc_strerror(status));
        } else {
            rpc_asks_start(ob->env->asks, a, NULL);
            ob->auth_ask_id = a->id;
            struct proto_msg m = {.type = PROTO_RPC_REQUEST};
            m.u.rpc.request_id = a->id;
            m.u.rpc.body = (struct proto_view){step->msg, (uint32_t)step->len};
            struct proto_writer w;
            proto_writer_init(&w);
            proto_msg_encode(&w, &m);
            rpc_conn_write(ob->conn, w.buf, w.len);
            proto_writer_free(&w);
        }
    }
    auth_step_clear(step);
}

static void on_auth_answer(void *arg, int status, const char *error, const uint8_t *reply,
                           size_t len)
{
    struct rpc_outbox *ob = arg;
    ob->auth_ask_id = -1;
    if (status != SHUFFLE_OK) {
        auth_fail(ob, error);
        return;
    }
    struct auth_step step;
    if (ob->aes)
        aes_phase_step(ob->aes, reply, len, &step);
    else
        auth_phase_step(ob->auth, reply, len, &step);
    auth_follow(ob, &step);
}

static void on_dialed(void *arg, struct bufferevent *bev, const char *error)
{
    struct rpc_outbox *ob = arg;
    ob->dial = NULL;
    if (!bev) {
        connect_failed(ob, error);
        return;
    }
    evtimer_del(ob->connect_timer);
    ob->conn = rpc_conn_new(bev, ob->remote, ob->env->next_conn_id(ob->env->ctx),
                            &outbox_conn_handler, ob, ob->env->max_frame_bytes);
    if (!ob->conn) {
        connect_failed(ob, "no memory");
        return;
    }
    ob->env->on_up(ob->env->ctx, ob->conn);
    if (ob->env->creds) {
        ob->state = OUTBOX_AUTHENTICATING;
        struct auth_step step;
        if (ob->env->creds->crypto)
            ob->aes = aes_phase_start(ob->env->creds, &step);
        else
            ob->auth = auth_phase_start(ob->env->creds, &step);
        auth_follow(ob, &step);
        return;
    }
    ob->state = OUTBOX_CONNECTED;
    flush(ob);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rpc_outbox *ob = arg;
    if (ob->dial) {
        dial_cancel(ob->dial);
        ob->dial = NULL;
    }
    connect_failed(ob, "connect timed out");
}

static void start_connect(struct rpc_outbox *ob)
{
    ob->state = OUTBOX_CONNECTING;
    struct timeval tv = {ob->env->connect_timeout_ms / 1000,
                         (ob->env->connect_timeout_ms % 1000) * 1000};
    evtimer_add(ob->connect_timer, &tv);
    /* the outcome may be known at once: on_dialed has run then */
    ob->dial = dial_start(ob->env->base, ob->env->resolver, ob->host, ob->port, on_dialed, ob);
}

/* Loop: staged frames move behind the queued ones; their asks start. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rpc_outbox *ob = arg;
    pthread_mutex_lock(&ob->lock);
    ob->wake_pending = false;
    evbuffer_add_buffer(ob->queued, ob->staged);
    struct rpc_ask *asks = ob->staged_asks;
    ob->staged_asks = ob->staged_asks_tail = NULL;
    int frames = ob->waiting - ob->queued_frames, sends = ob->staged_sends;
    ob->staged_sends = 0;
    pthread_mutex_unlock(&ob->lock);
    ob->queued_frames += frames;
    ob->queued_sends += sends;
    for (struct rpc_ask *a = asks, *next; a; a = next) {
        next = a->next_staged;
        rpc_asks_start(ob->env->asks, a, &ob->asks);
    }
    if (ob->state == OUTBOX_IDLE)
        start_connect(ob);
    else
        flush(ob);
}

/* Any thread, with ob->lock held: appends a frame; whether the loop must be woken. */
static int stage_locked(struct rpc_outbox *ob, const uint8_t *head, size_t head_len,
                        const void *payload, size_t len, bool *wake)
{
    if (ob->waiting >= ob->env->capacity)
        return SHUFFLE_RPC_EOVERFLOW;
    if (evbuffer_add(ob->staged, head, head_len) != 0 ||
        (len && evbuffer_add(ob->staged, payload, len) != 0))
        return SHUFFLE_ELOCAL;
    ob->waiting++;
    *wake = !ob->wake_pending;
    ob->wake_pending = true;
    return SHUFFLE_OK;
}

int rpc_outbox_send(struct rpc_outbox *ob, const uint8_t *head, size_t head_len,
                    const void *payload, size_t len)
{
    bool wake = false;
    pthread_mutex_lock(&ob->lock);
    int status = stage_locked(ob, head, head_len, payload, len, &wake);
    if (status == SHUFFLE_OK)
        ob->staged_sends++;
    pthread_mutex_unlock(&ob->lock);
    if (wake)
        event_active(ob->wake, 0, 0);
    return status;
}

int rpc_outbox_ask(struct rpc_outbox *ob, struct rpc_ask *a, const uint8_t *head, size_t head_len,
                   const void *payload, size_t len)
{
    bool wake = false;
    pthread_mutex_lock(&ob->lock);
    int status = stage_locked(ob, head, head_len, payload, len, &wake);
    if (status == SHUFFLE_OK) {
        a->next_staged = NULL;
        if (ob->staged_asks_tail)
            ob->staged_asks_tail->next_staged = a;
        else
            ob->staged_asks = a;
        ob->staged_asks_tail = a;
    }
    pthread_mutex_unlock(&ob->lock);
    if (wake)
        event_active(ob->wake, 0, 0);
    return status;
}
