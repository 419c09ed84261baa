/* SPDX-License-Identifier: Apache-2.0 */
/* One connection to a shuffle server: see transport.h. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/auth.h"
#include "client/auth_aes.h"
#include "client/dial.h"
#include "client/link.h"
#include "client/pending.h"
#include "client/replies.h"
#include "client/rx.h"
#include "client/tls_link.h"
#include "client/transport.h"
#include "client/util.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "shuffle/client.h"

enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_CLOSED };
enum { IDLE_RELEASE_MS = 1000 };

struct tconn {
    const struct tconn_env *env;
    int refs;
    enum conn_state state;
    char peer[300];
    int connect_timeout_ms, request_timeout_ms;
    struct dial *dial;       /* connecting */
    struct bufferevent *bev; /* connected: sends (rx reads the socket itself) */
    struct event *readable;  /* connected: the socket has bytes for rx */
    struct event *idle;      /* connected: rx's buffer goes back after a quiet while */
    struct event *timer;
    char *early_error; /* a connect failure (the whole message), reported on the next turn */
    void (*connect_fn)(void *arg, bool ok); /* told once whether the connect succeeded */
    void *connect_arg;
    struct rx *rx;
    struct link link; /* the security layer once a handshake installed one; else plain */
    struct proto_writer w;
    struct pending_set ps; /* outstanding requests */
    struct reply_state rs; /* replies matched to them */
    uint64_t last_io_ms;
    bool timer_armed;
    bool was_connected; /* reached CONN_OPEN once */
    void (*close_fn)(void *arg, struct tconn *t);
    void *close_arg;
    /* request frames that cannot go out yet: connecting, or authenticating (authing) */
    struct evbuffer *queued;
    bool authing, bypass_queue; /* bypass_queue: an authentication message */
    struct auth_phase *auth;    /* SASL, or ... */
    struct aes_phase *aes;      /* ... the AES handshake (spark.network.crypto) */
    struct event *auth_timer;   /* one handshake round trip */
    bool tls_handshaking;       /* TLS first: requests (and auth) wait for its handshake */
    char *host;                 /* the name or address the server's certificate must carry */
};

static void auth_begin(struct tconn *t);
static void on_auth_timeout(evutil_socket_t fd, short what, void *arg);

static void arm_request_timer(struct tconn *t, uint64_t delay_ms)
{
    struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000)};
    evtimer_add(t->timer, &tv);
    t->timer_armed = true;
}

/* Starts tracking a sent request; the time of the last request counts as
 * activity for the request timeout, as in Spark. */
static void track(struct tconn *t, struct pending *p)
{
    pending_append(&t->ps, p);
    t->last_io_ms = client_now_ms();
    if (t->state == CONN_OPEN && t->request_timeout_ms > 0 && !t->timer_armed)
        arm_request_timer(t, (uint64_t)t->request_timeout_ms);
}

void tconn_ref(struct tconn *t)
{
    t->refs++;
}

static void tconn_destroy(struct tconn *t)
{
    if (t->timer)
        event_free(t->timer);
    rx_free(t->rx);
    link_clear(&t->link);
    proto_writer_free(&t->w);
    pending_drop_index(&t->ps);
    free(t->early_error);
    free(t->host);
    auth_phase_free(t->auth);
    aes_phase_free(t->aes);
    if (t->auth_timer)
        event_free(t->auth_timer);
    if (t->queued)
        evbuffer_free(t->queued);
    free(t);
}

void tconn_unref(struct tconn *t)
{
    if (--t->refs > 0)
        return;
    if (t->state != CONN_CLOSED) {
        t->refs = 1; /* keep it alive through the close callbacks */
        tconn_close(t, SHUFFLE_ECANCELED, "connection released");
        if (--t->refs > 0)
            return;
    }
    tconn_destroy(t);
}

void tconn_on_connect_result(struct tconn *t, void (*fn)(void *arg, bool ok), void *arg)
{
    t->connect_fn = fn;
    t->connect_arg = arg;
}

void tconn_on_close(struct tconn *t, void (*fn)(void *arg, struct tconn *t), void *arg)
{
    t->close_fn = fn;
    t->close_arg = arg;
}

bool tconn_is_active(const struct tconn *t)
{
    return t->state != CONN_CLOSED;
}

const char *tconn_peer(const struct tconn *t)
{
    return t->peer;
}

static void report_connect(struct tconn *t, bool ok)
{
    void (*fn)(void *, bool) = t->connect_fn;
    t->connect_fn = NULL;
    if (fn)
        fn(t->connect_arg, ok);
}

void tconn_close(struct tconn *t, int status, const char *why)
{
    if (t->state == CONN_CLOSED)
        return;
    bool connect_failed = t->state == CONN_CONNECTING && status == SHUFFLE_EIO;
    t->state = CONN_CLOSED;
    tconn_ref(t);
    if (t->dial) {
        dial_cancel(t->dial);
        t->dial = NULL;
    }
    if (connect_failed)
        report_connect(t, false);
    evtimer_del(t->timer);
    t->timer_armed = false;
    if (t->auth_timer)
        evtimer_del(t->auth_timer);
    if (t->readable) {
        event_free(t->readable);
        event_free(t->idle);
        t->readable = t->idle = NULL;
    }
    if (t->bev) {
        bufferevent_free(t->bev);
        t->bev = NULL;
    }
    if (t->close_fn) {
        void (*fn)(void *, struct tconn *) = t->close_fn;
        t->close_fn = NULL;
        fn(t->close_arg, t);
    }
    pending_drop_index(&t->ps);
    t->rs.cur_stream = NULL;
    struct pending *p;
    while ((p = t->ps.first)) {
        pending_unlink(&t->ps, p);
        pending_complete(p, status, why, NULL, 0);
    }
    tconn_unref(t);
}

static void close_io(struct tconn *t, int status, const char *fmt, const char *detail)
{
    char *msg = client_strf(fmt, t->peer, detail ? detail : "");
    tconn_close(t, status, msg);
    free(msg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct tconn *t = arg;
    t->timer_armed = false;
    if (t->state == CONN_CONNECTING) {
        if (t->early_error) {
            tconn_close(t, SHUFFLE_EIO, t->early_error);
        } else {
            char *msg =
                client_strf("Connecting to %s timed out (%d ms)", t->peer, t->connect_timeout_ms);
            tconn_close(t, SHUFFLE_EIO, msg);
            free(msg);
        }
        return;
    }
    if (t->state != CONN_OPEN || t->ps.count == 0)
        return;
    uint64_t now = client_now_ms(), quiet = now - t->last_io_ms;
    if (quiet >= (uint64_t)t->request_timeout_ms) {
        char *msg = client_strf("Connection to %s has been quiet for %llu ms while there are "
                                "outstanding requests (request timeout %d ms): assuming it is "
                                "dead",
                                t->peer, (unsigned long long)quiet, t->request_timeout_ms);
        tconn_close(t, SHUFFLE_EIO, msg);
        free(msg);
        return;
    }
    arm_request_timer(t, (uint64_t)t->request_timeout_ms - quiet);
}

/* Closes when a reply said so. */
static bool closes(struct tconn *t, const struct reply_close *rc)
{
    if (rc->status)
        close_io(t, rc->status, rc->fmt, rc->detail);
    return t->state == CONN_OPEN;
}

static bool rx_frame(void *arg, const struct frame_out *out)
{
    struct tconn *t = arg;
    struct reply_close rc;
    replies_frame(&t->rs, out, &rc);
    if (t->rs.sink_fd >= 0 && rc.status == 0)
        rx_sink_to(t->rx, t->rs.sink_fd);
    return closes(t, &rc);
}

/* out->raw NULL: the bytes went to the stream's sink file. */
static bool rx_raw(void *arg, const struct frame_out *out)
{
    struct tconn *t = arg;
    struct reply_close rc;
    replies_stream_bytes(&t->rs, out, &rc);
    return closes(t, &rc);
}

static void arm_idle(struct tconn *t, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(t->idle, &tv);
}

/* Nothing outstanding and nothing heard for IDLE_RELEASE_MS: rx gives its buffer back
 * (a connection kept for later costs no receive buffer meanwhile). */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
    struct tconn *t = arg;
    uint64_t quiet = client_now_ms() - t->last_io_ms;
    if (t->ps.count > 0)
        return; /* busy again: armed again when it goes quiet */
    if (quiet >= IDLE_RELEASE_MS)
        rx_release_idle(t->rx);
    else
        arm_idle(t, IDLE_RELEASE_MS - quiet);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct tconn *t = arg;
    tconn_ref(t);
    t->last_io_ms = client_now_ms();
    switch (rx_pump(t->rx, fd)) {
    case RX_AGAIN:
        if (link_pending(&t->link) > 0) /* held by the cipher: no readiness event will come */
            event_active(t->readable, EV_READ, 0);
        else if (t->ps.count == 0 && !evtimer_pending(t->idle, NULL))
            arm_idle(t, IDLE_RELEASE_MS);
        break;
    case RX_STOPPED:
        break;
    case RX_EOF:
        close_io(t, SHUFFLE_EIO, "Connection from %s closed%s", NULL);
        break;
    case RX_IO_ERROR:
        close_io(t, SHUFFLE_EIO, "Connection to %s failed: %s",
                 evutil_socket_error_to_string(rx_errno(t->rx)));
        break;
    case RX_MALFORMED:
        close_io(t, SHUFFLE_EPROTO, "Malformed data from %s: %s", rx_error(t->rx));
        break;
    case RX_SINK_ERROR: {
        struct reply_close rc;
        replies_abandon_stream(&t->rs, &rc);
        closes(t, &rc);
        break;
    }
    }
    tconn_unref(t);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct tconn *t = arg;
    int e = EVUTIL_SOCKET_ERROR();
    if (what & BEV_EVENT_EOF)
        close_io(t, SHUFFLE_EIO, "Connection from %s closed%s", NULL);
    else
        close_io(t, SHUFFLE_EIO, "Connection to %s failed: %s",
                 e ? evutil_socket_error_to_string(e) : "I/O error");
}

static struct tconn *tconn_alloc(const struct tconn_env *env, const char *host, int port,
                                 int connect_timeout_ms, int request_timeout_ms)
{
    struct tconn *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->env = env;
    t->refs = 1;
    t->state = CONN_CONNECTING;
    t->connect_timeout_ms = connect_timeout_ms;
    t->request_timeout_ms = request_timeout_ms;
    client_peer_name(t->peer, sizeof(t->peer), host, port);
    t->rs.ps = &t->ps;
    proto_writer_init(&t->w);
    struct rx_handler h = {rx_frame, rx_raw, t};
    t->rx = rx_new(env->max_frame_bytes, env->no_splice, &h);
    t->timer = evtimer_new(env->base, on_timer, t);
    t->queued = evbuffer_new();
    if (!t->rx || !t->timer || !t->queued) {
        tconn_destroy(t);
        return NULL;
    }
    return t;
}

/* The connect failed before any I/O: requests queued meanwhile fail with it on
 * the next loop iteration (never from inside the call that queued them). */
static void fail_soon(struct tconn *t, char *msg)
{
    t->early_error = msg;
    struct timeval tv = {0, 0};
    evtimer_add(t->timer, &tv);
}

struct tconn *tconn_new_failed(const struct tconn_env *env, const char *host, int port,
                               const char *why)
{
    struct tconn *t = tconn_alloc(env, host, port, 0, 0);
    if (t)
        fail_soon(t, client_strf("%s", why));
    return t;
}

/* Sends what waited for the connection (or for authentication). */
static void release_queued(struct tconn *t)
{
    if (link_write_buffer(&t->link, bufferevent_get_output(t->bev), t->queued) != 0)
        tconn_close(t, SHUFFLE_ELOCAL,
                    "out of memory sending the requests queued while connecting");
}

/* ---- TLS first (spark.ssl.rpc): the handshake, then auth or the held requests ---- */

static struct evbuffer *tls_out(void *arg)
{
    struct tconn *t = arg;
    return t->bev ? bufferevent_get_output(t->bev) : NULL;
}

static void on_tls_handshake(void *arg, const char *failure)
{
    struct tconn *t = arg;
    if (failure) {
        close_io(t, SHUFFLE_EIO, "TLS handshake with %s failed: %s", failure);
        return;
    }
    t->tls_handshaking = false;
    if (t->env->auth && auth_creds_enabled(t->env->auth)) {
        auth_begin(t);
    } else {
        t->authing = false;
        release_queued(t);
    }
}

static void on_tls_error(void *arg, const char *why)
{
    close_io(arg, SHUFFLE_EIO, "TLS with %s failed: %s", why);
}

static void tls_begin(struct tconn *t)
{
    char err[256];
    struct tls_link_owner owner = {tls_out, on_tls_handshake, on_tls_error, t};
    if (tls_link_start(&t->link, t->env->tls, bufferevent_getfd(t->bev), t->host, &owner, err,
                       sizeof err) != 0) {
        close_io(t, SHUFFLE_ELOCAL, "Connecting to %s failed: %s", err);
        return;
    }
    (void)rx_set_link(t->rx, &t->link); /* nothing was read yet */
}

/* Runs once per dial_start unless the connection closed first. */
static void on_dialed(void *arg, struct bufferevent *bev, const char *error)
{
    struct tconn *t = arg;
    t->dial = NULL;
    if (!bev) {
        fail_soon(t, client_strf("Failed to connect to %s: %s", t->peer, error));
        return;
    }
    t->readable =
        event_new(t->env->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST, on_readable, t);
    t->idle = evtimer_new(t->env->base, on_idle, t);
    if (!t->readable || !t->idle || event_add(t->readable, NULL) != 0) {
        if (t->readable)
            event_free(t->readable);
        if (t->idle)
            event_free(t->idle);
        t->readable = t->idle = NULL;
        bufferevent_free(bev);
        fail_soon(t, client_strf("Failed to connect to %s: out of memory", t->peer));
        return;
    }
    t->bev = bev;
    bufferevent_setcb(bev, NULL, NULL, on_event, t); /* write errors */
    bufferevent_disable(bev, EV_READ);
    bufferevent_enable(bev, EV_WRITE);
    t->state = CONN_OPEN;
    t->was_connected = true;
    report_connect(t, true);
    evtimer_del(t->timer);
    t->timer_armed = false;
    t->last_io_ms = client_now_ms();
    if (t->ps.count && t->request_timeout_ms > 0)
        arm_request_timer(t, (uint64_t)t->request_timeout_ms);
    if (t->state != CONN_OPEN)
        return; /* closed by the pool's connect callback */
    if (t->tls_handshaking)
        tls_begin(t);
    else if (t->authing)
        auth_begin(t);
    else
        release_queued(t);
}

struct tconn *tconn_new(const struct tconn_env *env, const char *host, int port,
                        int connect_timeout_ms, int request_timeout_ms)
{
    struct tconn *t = tconn_alloc(env, host, port, connect_timeout_ms, request_timeout_ms);
    if (!t)
        return NULL;
    if (env->tls) {
        t->tls_handshaking = t->authing = true; /* requests wait for the TLS handshake */
        if (!(t->host = strdup(host))) {
            tconn_destroy(t);
            return NULL;
        }
    }
    if (env->auth && auth_creds_enabled(env->auth)) {
        t->authing = true; /* requests wait until the handshake is done */
        if (!(t->auth_timer = evtimer_new(env->base, on_auth_timeout, t))) {
            tconn_destroy(t);
            return NULL;
        }
    }
    if (connect_timeout_ms > 0) { /* covers the name lookup too */
        struct timeval tv = {connect_timeout_ms / 1000, (connect_timeout_ms % 1000) * 1000};
        evtimer_add(t->timer, &tv);
    }
    t->dial = dial_start(env->base, env->resolver, host, port, on_dialed, t);
    return t;
}

/* Queues m's frame, then the after-frame bytes (UploadStream's body) by reference:
 * they are read when the socket takes them, never copied. */
static int send_frame_then(struct tconn *t, const struct proto_msg *m, const uint8_t *after,
                           size_t after_len)
{
    proto_writer_reset(&t->w);
    proto_msg_encode(&t->w, m);
    if (t->w.failed)
        return -1;
    if (t->state != CONN_OPEN || (t->authing && !t->bypass_queue)) {
        /* held until the connection is up; the release pulls the outbox up into one run
         * (a copy, as header and body are two chains) before the link writes it */
        if (evbuffer_add(t->queued, t->w.buf, t->w.len) != 0)
            return -1;
        return after_len ? evbuffer_add_reference(t->queued, after, after_len, NULL, NULL) : 0;
    }
    struct evbuffer *out = bufferevent_get_output(t->bev);
    if (link_write(&t->link, out, t->w.buf, t->w.len) != 0)
        return -1;
    if (!after_len)
        return 0;
    if (link_is_plain(&t->link))
        return evbuffer_add_reference(out, after, after_len, NULL, NULL);
    /* a cipher transforms what it writes in place: a copy, never the caller's block */
    struct evbuffer *copy = evbuffer_new();
    int rc = copy && evbuffer_add(copy, after, after_len) == 0
                 ? link_write_buffer(&t->link, out, copy)
                 : -1;
    if (copy)
        evbuffer_free(copy);
    return rc;
}

static int send_frame(struct tconn *t, const struct proto_msg *m)
{
    return send_frame_then(t, m, NULL, 0);
}

/* Sends m for p (NULL: out of memory), an RPC or chunk request whose reply is matched by
 * its key; 0, or -1 with p freed. */
static int send_matched_then(struct tconn *t, struct pending *p, tconn_reply_fn fn, void *arg,
                             const struct proto_msg *m, const uint8_t *after, size_t after_len)
{
    if (!p || pending_index(&t->ps, p) != 0) {
        free(p);
        return -1;
    }
    p->fn = fn;
    p->arg = arg;
    if (send_frame_then(t, m, after, after_len) != 0) {
        pending_find(&t->ps, p->kind, p->a, p->b, true);
        free(p);
        return -1;
    }
    track(t, p);
    return 0;
}

static int send_matched(struct tconn *t, struct pending *p, tconn_reply_fn fn, void *arg,
                        const struct proto_msg *m)
{
    return send_matched_then(t, p, fn, arg, m, NULL, 0);
}

/* A request id no outstanding request of t uses. */
static int64_t fresh_request_id(struct tconn *t)
{
    int64_t id;
    do
        id = client_rng_id(t->env->rng);
    while (pending_find(&t->ps, PEND_RPC, id, 0, false));
    return id;
}

int tconn_rpc(struct tconn *t, const uint8_t *body, size_t len, tconn_reply_fn fn, void *arg)
{
    if (t->state == CONN_CLOSED)
        return -1;
    int64_t id = fresh_request_id(t);
    struct proto_msg m = {.type = PROTO_RPC_REQUEST};
    m.u.rpc.request_id = id;
    m.u.rpc.body.data = body;
    m.u.rpc.body.len = (uint32_t)len;
    return send_matched(t, pending_new(PEND_RPC, id, 0), fn, arg, &m);
}

int tconn_upload_stream(struct tconn *t, const uint8_t *meta, size_t meta_len, const uint8_t *body,
                        size_t body_len, tconn_reply_fn fn, void *arg)
{
    if (t->state == CONN_CLOSED)
        return -1;
    int64_t id = fresh_request_id(t);
    struct proto_msg m = {.type = PROTO_UPLOAD_STREAM};
    m.u.upload_stream.request_id = id;
    m.u.upload_stream.meta.data = meta;
    m.u.upload_stream.meta.len = (uint32_t)meta_len;
    m.u.upload_stream.body_byte_count = (int64_t)body_len;
    return send_matched_then(t, pending_new(PEND_RPC, id, 0), fn, arg, &m, body, body_len);
}

int tconn_merged_meta(struct tconn *t, const char *app_id, int32_t shuffle_id,
                      int32_t shuffle_merge_id, int32_t reduce_id, tconn_reply_fn fn, void *arg)
{
    if (t->state == CONN_CLOSED)
        return -1;
    int64_t id = fresh_request_id(t);
    struct proto_msg m = {.type = PROTO_MERGED_BLOCK_META_REQUEST};
    m.u.merged_block_meta_request.request_id = id;
    m.u.merged_block_meta_request.app_id.data = (const uint8_t *)app_id;
    m.u.merged_block_meta_request.app_id.len = (uint32_t)strlen(app_id);
    m.u.merged_block_meta_request.shuffle_id = shuffle_id;
    m.u.merged_block_meta_request.shuffle_merge_id = shuffle_merge_id;
    m.u.merged_block_meta_request.reduce_id = reduce_id;
    return send_matched(t, pending_new(PEND_RPC, id, 0), fn, arg, &m);
}

bool tconn_was_connected(const struct tconn *t)
{
    return t->was_connected;
}

int tconn_oneway(struct tconn *t, const uint8_t *body, size_t len)
{
    if (t->state == CONN_CLOSED)
        return -1;
    struct proto_msg m = {.type = PROTO_ONE_WAY_MESSAGE};
    m.u.one_way.body.data = body;
    m.u.one_way.body.len = (uint32_t)len;
    return send_frame(t, &m);
}

int tconn_fetch_chunk(struct tconn *t, int64_t stream_id, int32_t chunk_index, tconn_reply_fn fn,
                      void *arg)
{
    if (t->state == CONN_CLOSED || pending_find(&t->ps, PEND_CHUNK, stream_id, chunk_index, false))
        return -1;
    struct proto_msg m = {.type = PROTO_CHUNK_FETCH_REQUEST};
    m.u.chunk_fetch_request.stream_id = stream_id;
    m.u.chunk_fetch_request.chunk_index = chunk_index;
    return send_matched(t, pending_new(PEND_CHUNK, stream_id, chunk_index), fn, arg, &m);
}

int tconn_fetch_stream(struct tconn *t, const char *stream_id, const struct tconn_stream_cb *cb)
{
    if (t->state == CONN_CLOSED)
        return -1;
    struct pending *p = pending_new(PEND_STREAM, 0, 0);
    if (!p)
        return -1;
    p->scb = *cb;
    struct proto_msg m = {.type = PROTO_STREAM_REQUEST};
    m.u.stream_request.stream_id.data = (const uint8_t *)stream_id;
    m.u.stream_request.stream_id.len = (uint32_t)strlen(stream_id);
    if (send_frame(t, &m) != 0) {
        free(p);
        return -1;
    }
    pending_fifo_push(&t->ps, p);
    track(t, p);
    return 0;
}

/* ---- The authentication phase: auth.c produces the messages, this sends them ---- */

static void auth_fail(struct tconn *t, int status, const char *why)
{
    close_io(t, status, "Authentication with %s failed: %s", why);
}

static void on_auth_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len);

/* The same under TLS: the cipher goes between the socket and the TLS records. Neither rx nor
 * the TLS session may hold bytes after the reply. False when t was closed. */
static bool install_under_tls(struct tconn *t, struct link *l)
{
    const char *why = NULL;
    if (rx_set_link(t->rx, &t->link) != 0) /* the same link: only checks that rx holds nothing */
        why = "bytes after the authentication reply, before the cipher was on";
    if (why || tls_link_set_below(&t->link, l, &why) != 0) {
        link_clear(l);
        close_io(t, SHUFFLE_EPROTO, "Malformed data from %s: %s", why);
        return false;
    }
    return true;
}

/* Puts the handshake's security layer (if any; taken from l) under every later byte. The
 * reply that ended the handshake was the last plaintext: a server speaks only when asked, so
 * bytes read after it cannot come from a conforming one. False when t was closed. */
static bool install_link(struct tconn *t, struct link *l)
{
    if (link_is_plain(l))
        return true;
    if (tls_link_is(&t->link)) /* Spark puts AES and SASL auth-conf under TLS (docs/tls.md) */
        return install_under_tls(t, l);
    if (!link_is_plain(&t->link)) {
        link_clear(l);
        close_io(t, SHUFFLE_EAUTH, "Authentication with %s failed: %s",
                 "a second encrypting security layer is not supported");
        return false;
    }
    t->link = *l;
    l->ops = NULL;
    l->state = NULL;
    if (rx_set_link(t->rx, &t->link) != 0) {
        close_io(t, SHUFFLE_EPROTO, "Malformed data from %s: %s",
                 "bytes after the authentication reply, before the cipher was on");
        return false;
    }
    return true;
}

/* Sends the message of step (or fails) and arms the round-trip timer. */
static void auth_follow(struct tconn *t, struct auth_step *step)
{
    if (step->next == AUTH_FAILED) {
        auth_fail(t, step->status, step->why);
    } else if (step->next == AUTH_DONE) {
        t->authing = false;
        if (install_link(t, &step->link))
            release_queued(t);
    } else {
        t->bypass_queue = true;
        int rc = tconn_rpc(t, step->msg, step->len, on_auth_reply, t);
        t->bypass_queue = false;
        if (rc != 0) {
            auth_fail(t, SHUFFLE_ELOCAL, "out of memory");
        } else {
            int ms = t->env->auth->timeout_ms;
            struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
            evtimer_add(t->auth_timer, &tv);
        }
    }
    auth_step_clear(step);
}

static void on_auth_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len)
{
    struct tconn *t = arg;
    evtimer_del(t->auth_timer);
    if (t->state != CONN_OPEN)
        return; /* closed meanwhile: its requests fail with the reason already */
    if (status != SHUFFLE_OK) {
        auth_fail(t, status == SHUFFLE_ESERVER ? SHUFFLE_EAUTH : status, err);
        return;
    }
    struct auth_step step;
    if (t->aes)
        aes_phase_step(t->aes, body, len, &step);
    else
        auth_phase_step(t->auth, body, len, &step);
    auth_follow(t, &step);
}

static void on_auth_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct tconn *t = arg;
    char *msg =
        client_strf("Authentication with %s timed out (%d ms)", t->peer, t->env->auth->timeout_ms);
    tconn_close(t, SHUFFLE_EIO, msg);
    free(msg);
}

static void auth_begin(struct tconn *t)
{
    struct auth_step step;
    tconn_ref(t); /* a failing start closes t, which may drop the last other ref */
    if (t->env->auth->crypto)
        t->aes = aes_phase_start(t->env->auth, &step);
    else
        t->auth = auth_phase_start(t->env->auth, &step);
    auth_follow(t, &step);
    tconn_unref(t);
}
