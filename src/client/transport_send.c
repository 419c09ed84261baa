/* SPDX-License-Identifier: Apache-2.0 */
/* A connection's write path (transport.h's request calls): each request registered with the
 * replies it waits for, its frame encoded and written through the link, or held in the
 * outbox while the connection is being set up; the request timer armed as requests go out. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/link.h"
#include "client/pending.h"
#include "client/transport.h"
#include "client/transport_conn.h"
#include "client/util.h"
#include "proto/codec.h"
#include "proto/message.h"
#include "shuffle/client.h"

void tconn_arm_request_timer(struct tconn *t, uint64_t delay_ms)
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
        tconn_arm_request_timer(t, (uint64_t)t->request_timeout_ms);
}

void tconn_release_queued(struct tconn *t)
{
    if (link_write_buffer(&t->link, bufferevent_get_output(t->bev), t->queued) != 0)
        tconn_close(t, SHUFFLE_ELOCAL,
                    "out of memory sending the requests queued while connecting");
}

/* Write errors (rx reads the socket itself, so reading never reports here). */
void tconn_on_write_event(struct bufferevent *bev, short what, void *arg)
{
    struct tconn *t = arg;
    int e = EVUTIL_SOCKET_ERROR();
    if (what & BEV_EVENT_EOF)
        tconn_close_io(t, SHUFFLE_EIO, "Connection from %s closed%s", NULL);
    else
        tconn_close_io(t, SHUFFLE_EIO, "Connection to %s failed: %s",
                       e ? evutil_socket_error_to_string(e) : "I/O error");
}

/* Adds body to buf by reference; body->release runs when buf frees that chain (written,
 * pulled up by a cipher, or drained by the close), or right away if it cannot be added. */
static int add_body_reference(struct evbuffer *buf, const struct tconn_body *body)
{
    if (evbuffer_add_reference(buf, body->data, body->len, body->release, body->release_arg) == 0)
        return 0;
    body->release(body->data, body->len, body->release_arg);
    return -1;
}

/* Queues m's frame, then the after-frame bytes (UploadStream's body): by reference on a plain
 * link, so the caller learns through body->release when its bytes are no longer read. Whatever
 * happens, body->release runs exactly once. */
static int send_frame_then(struct tconn *t, const struct proto_msg *m,
                           const struct tconn_body *body)
{
    bool has_body = body && body->len > 0;
    proto_writer_reset(&t->w);
    proto_msg_encode(&t->w, m);
    int rc = t->w.failed ? -1 : 0;
    if (rc == 0 && (t->state != CONN_OPEN || (t->authing && !t->bypass_queue))) {
        /* held until the connection is up; the release pulls the outbox up into one run
         * (a copy, as header and body are two chains) before a cipher link writes it */
        if (evbuffer_add(t->queued, t->w.buf, t->w.len) != 0)
            rc = -1;
        else if (has_body)
            return add_body_reference(t->queued, body);
    } else if (rc == 0) {
        struct evbuffer *out = bufferevent_get_output(t->bev);
        if (link_write(&t->link, out, t->w.buf, t->w.len) != 0)
            rc = -1;
        else if (has_body && link_is_plain(&t->link))
            return add_body_reference(out, body);
        else if (has_body) {
            /* a cipher transforms what it writes in place: a copy, never the caller's block */
            struct evbuffer *copy = evbuffer_new();
            rc = copy && evbuffer_add(copy, body->data, body->len) == 0
                     ? link_write_buffer(&t->link, out, copy)
                     : -1;
            if (copy)
                evbuffer_free(copy);
        }
    }
    if (body && body->release)
        body->release(body->data, body->len, body->release_arg);
    return rc;
}

static int send_frame(struct tconn *t, const struct proto_msg *m)
{
    return send_frame_then(t, m, NULL);
}

/* Sends m for p (NULL: out of memory), an RPC or chunk request whose reply is matched by
 * its key; 0, or -1 with p freed. */
static int send_matched_then(struct tconn *t, struct pending *p, tconn_reply_fn fn, void *arg,
                             const struct proto_msg *m, const struct tconn_body *body)
{
    if (!p || pending_index(&t->ps, p) != 0) {
        free(p);
        if (body && body->release)
            body->release(body->data, body->len, body->release_arg);
        return -1;
    }
    p->fn = fn;
    p->arg = arg;
    if (send_frame_then(t, m, body) != 0) {
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
    return send_matched_then(t, p, fn, arg, m, NULL);
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

int tconn_upload_stream(struct tconn *t, const uint8_t *meta, size_t meta_len,
                        const struct tconn_body *body, tconn_reply_fn fn, void *arg)
{
    if (t->state == CONN_CLOSED) {
        body->release(body->data, body->len, body->release_arg);
        return -1;
    }
    int64_t id = fresh_request_id(t);
    struct proto_msg m = {.type = PROTO_UPLOAD_STREAM};
    m.u.upload_stream.request_id = id;
    m.u.upload_stream.meta.data = meta;
    m.u.upload_stream.meta.len = (uint32_t)meta_len;
    m.u.upload_stream.body_byte_count = (int64_t)body->len;
    struct pending *p = pending_new(PEND_RPC, id, 0);
    if (p)
        p->closes_on_failure = true;
    return send_matched_then(t, p, fn, arg, &m, body);
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
