/* SPDX-License-Identifier: Apache-2.0 */
/* One RPC connection; see conn.h. */
#include <config.h>

#include "client/rpcenv/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/link.h"
#include "proto/frame.h"
#include "proto/message.h"

/* The output is "drained" below this many bytes (the outbox then moves more into it). */
#define RPC_CONN_LOW_WATER (256 * 1024)
/* Plaintext taken from a cipher link per read. */
#define RPC_CONN_LINK_READ (64 * 1024)

struct rpc_conn {
    struct bufferevent *bev;
    uint64_t id;
    char remote[128];
    bool authenticated;
    bool closed; /* on_close ran */
    bool paused; /* not read until resumed (back-pressure) */
    struct frame_decoder decoder;
    struct proto_writer answer; /* reused for every answer */
    void *attachment;
    void (*release)(void *attachment);
    const struct rpc_conn_handler *h;
    void *ctx;
    /* a cipher (after an AES handshake): every later byte through it; the connection then
     * reads the socket itself (link_read), as the link reads the fd */
    struct link link;
    struct event *link_read;
    uint8_t *plain; /* RPC_CONN_LINK_READ bytes */
};

/* Reports the close; c may be freed by the handler: callers return at once. */
static void closed(struct rpc_conn *c, const char *why)
{
    if (c->closed)
        return;
    c->closed = true;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    if (c->link_read)
        event_del(c->link_read);
    c->h->on_close(c->ctx, c, why);
}

/* False when the connection was closed (and maybe freed). */
static bool handle_frame(struct rpc_conn *c, const struct frame_out *f)
{
    struct proto_msg m;
    char err[160];
    if (proto_msg_decode(f->type, f->content, f->content_len, &m, err, sizeof err) != 0) {
        closed(c, err);
        return false;
    }
    switch (m.type) {
    case PROTO_RPC_REQUEST:
        c->h->on_request(c->ctx, c, m.u.rpc.request_id, m.u.rpc.body.data, m.u.rpc.body.len);
        return true;
    case PROTO_ONE_WAY_MESSAGE:
        c->h->on_request(c->ctx, c, -1, m.u.one_way.body.data, m.u.one_way.body.len);
        return true;
    case PROTO_RPC_RESPONSE:
        c->h->on_answer(c->ctx, c, m.u.rpc.request_id, NULL, 0, m.u.rpc.body.data,
                        m.u.rpc.body.len);
        return true;
    case PROTO_RPC_FAILURE:
        c->h->on_answer(c->ctx, c, m.u.rpc_failure.request_id,
                        (const char *)m.u.rpc_failure.error.data, m.u.rpc_failure.error.len, NULL,
                        0);
        return true;
    default:
        snprintf(err, sizeof err, "unexpected %s on an RPC connection",
                 proto_msg_type_name(m.type));
        closed(c, err);
        return false;
    }
}

/* Feeds one piece of input to the decoder: false when the connection was closed. */
static bool feed(struct rpc_conn *c, const uint8_t *data, size_t len)
{
    struct frame_out f;
    enum frame_event ev;
    bool plain = link_is_plain(&c->link);
    while ((ev = frame_decoder_next(&c->decoder, &data, &len, &f)) != FRAME_NEED_MORE) {
        if (ev == FRAME_ERROR) {
            closed(c, c->decoder.error);
            return false;
        }
        if (ev == FRAME_RAW) {
            closed(c, "stream data on an RPC connection");
            return false;
        }
        if (!handle_frame(c, &f))
            return false;
        if (plain && !link_is_plain(&c->link)) {
            /* the frame ended the handshake: a conforming peer sent nothing after it */
            if (len > 0) {
                closed(c, "bytes after the authentication message, before the cipher was on");
                return false;
            }
            return true;
        }
    }
    return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct rpc_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_iovec vec[16];
    while (evbuffer_get_length(in) > 0) {
        int n = evbuffer_peek(in, -1, NULL, vec, 16);
        if (n > 16)
            n = 16;
        size_t used = 0;
        for (int i = 0; i < n; i++) {
            if (!feed(c, vec[i].iov_base, vec[i].iov_len))
                return;
            used += vec[i].iov_len;
            if (!link_is_plain(&c->link))
                break;
        }
        evbuffer_drain(in, used);
        if (!link_is_plain(&c->link)) {
            if (evbuffer_get_length(in) > 0) {
                closed(c, "bytes after the authentication message, before the cipher was on");
                return;
            }
            break;
        }
    }
    c->h->on_read_end(c->ctx, c);
}

/* Readable socket under a cipher link: its plaintext to the decoder. */
static void on_link_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct rpc_conn *c = arg;
    struct iovec iov = {c->plain, RPC_CONN_LINK_READ};
    ssize_t n = link_readv(&c->link, fd, &iov, 1);
    if (n == 0) {
        closed(c, "connection closed by the peer");
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        closed(c, errno == EBADMSG || errno == EPROTO
                      ? "the peer's bytes do not decrypt under the session's cipher"
                      : strerror(errno));
        return;
    }
    if (!feed(c, c->plain, (size_t)n))
        return;
    c->h->on_read_end(c->ctx, c);
    /* held by the cipher: no readiness event will come */
    if (!c->paused && !c->closed && link_pending(&c->link) > 0)
        event_active(c->link_read, EV_READ, 0);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct rpc_conn *c = arg;
    c->h->on_drained(c->ctx, c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct rpc_conn *c = arg;
    if (what & BEV_EVENT_EOF)
        closed(c, "connection closed by the peer");
    else if (what & BEV_EVENT_ERROR)
        closed(c, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

struct rpc_conn *rpc_conn_new(struct bufferevent *bev, const char *remote, uint64_t id,
                              const struct rpc_conn_handler *h, void *ctx, uint64_t max_frame_bytes)
{
    struct rpc_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->bev = bev;
    c->id = id;
    snprintf(c->remote, sizeof c->remote, "%s", remote);
    c->h = h;
    c->ctx = ctx;
    frame_decoder_init(&c->decoder, max_frame_bytes);
    proto_writer_init(&c->answer);
    bufferevent_setwatermark(bev, EV_WRITE, RPC_CONN_LOW_WATER, 0);
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    return c;
}

void rpc_conn_attach(struct rpc_conn *c, void *state, void (*release)(void *state))
{
    if (c->attachment && c->release)
        c->release(c->attachment);
    c->attachment = state;
    c->release = release;
}

void *rpc_conn_attachment(const struct rpc_conn *c)
{
    return c->attachment;
}

static void write_failed(struct rpc_conn *c);

int rpc_conn_set_link(struct rpc_conn *c, struct link *l)
{
    c->plain = malloc(RPC_CONN_LINK_READ);
    c->link_read = event_new(bufferevent_get_base(c->bev), bufferevent_getfd(c->bev),
                             EV_READ | EV_PERSIST, on_link_readable, c);
    if (!c->plain || !c->link_read || (!c->paused && event_add(c->link_read, NULL) != 0)) {
        link_clear(l);
        write_failed(c); /* the peer expects ciphertext from now on */
        return -1;
    }
    bufferevent_disable(c->bev, EV_READ);
    c->link = *l;
    l->ops = NULL;
    l->state = NULL;
    return 0;
}

void rpc_conn_free(struct rpc_conn *c)
{
    if (!c)
        return;
    rpc_conn_attach(c, NULL, NULL);
    if (c->link_read)
        event_free(c->link_read);
    link_clear(&c->link);
    free(c->plain);
    bufferevent_free(c->bev);
    frame_decoder_free(&c->decoder);
    proto_writer_free(&c->answer);
    free(c);
}

void rpc_conn_pause_reading(struct rpc_conn *c, bool paused)
{
    if (c->paused == paused || c->closed)
        return;
    c->paused = paused;
    if (!c->link_read) {
        if (paused)
            bufferevent_disable(c->bev, EV_READ);
        else
            bufferevent_enable(c->bev, EV_READ);
    } else if (paused) {
        event_del(c->link_read);
    } else if (event_add(c->link_read, NULL) == 0 && link_pending(&c->link) > 0) {
        event_active(c->link_read, EV_READ, 0);
    }
}

uint64_t rpc_conn_id(const struct rpc_conn *c)
{
    return c->id;
}

const char *rpc_conn_remote(const struct rpc_conn *c)
{
    return c->remote;
}

bool rpc_conn_authenticated(const struct rpc_conn *c)
{
    return c->authenticated;
}

void rpc_conn_set_authenticated(struct rpc_conn *c)
{
    c->authenticated = true;
}

size_t rpc_conn_output_len(const struct rpc_conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* A failed cipher write leaves the peer a stream it cannot decrypt: the connection goes, by
 * the next read (the caller still holds c, so it is not closed here). */
static void write_failed(struct rpc_conn *c)
{
    shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
}

void rpc_conn_write_buffer(struct rpc_conn *c, struct evbuffer *buf)
{
    if (link_write_buffer(&c->link, bufferevent_get_output(c->bev), buf) != 0)
        write_failed(c);
}

void rpc_conn_write(struct rpc_conn *c, const void *data, size_t len)
{
    if (link_is_plain(&c->link)) {
        bufferevent_write(c->bev, data, len);
        return;
    }
    uint8_t *copy = malloc(len ? len : 1); /* the link encrypts in place */
    if (!copy || (memcpy(copy, data, len),
                  link_write(&c->link, bufferevent_get_output(c->bev), copy, len)) != 0)
        write_failed(c);
    free(copy);
}

void rpc_conn_answer(struct rpc_conn *c, int64_t request_id, const char *error, const uint8_t *body,
                     size_t len)
{
    struct proto_msg m = {.type = error ? PROTO_RPC_FAILURE : PROTO_RPC_RESPONSE};
    if (error) {
        m.u.rpc_failure.request_id = request_id;
        m.u.rpc_failure.error =
            (struct proto_view){(const uint8_t *)error, (uint32_t)strlen(error)};
    } else {
        m.u.rpc.request_id = request_id;
        m.u.rpc.body = (struct proto_view){body, (uint32_t)len};
    }
    proto_writer_reset(&c->answer);
    proto_msg_encode(&c->answer, &m);
    if (!c->answer.failed &&
        link_write(&c->link, bufferevent_get_output(c->bev), c->answer.buf, c->answer.len) != 0)
        write_failed(c);
}
