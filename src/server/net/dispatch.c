#include "server/net/dispatch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/message.h"
#include "server/net/auth.h"
#include "server/stream/blocking_pool.h"
#include "server/net/conn.h"
#include "server/net/handler.h"
#include "server/ops/log.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "server/stream/stream_manager_internal.h"
#include "server/net/worker.h"

struct rpc_reply {
    struct conn *c;
    struct resp *resp;
    int64_t request_id;
    bool ok;
    uint8_t *body;
    size_t len;
    char *error;
    int msg_type;        /* BlockTransferMessage type byte, -1 if none (metrics) */
    uint64_t start_usec; /* metrics_now_usec() when the request arrived */
};

static void reply_complete(void *arg)
{
    struct rpc_reply *r = arg;
    struct conn *c = r->c;
    if (c->closed) {
        conn_resp_discard(r->resp);
    } else {
        struct proto_msg m = {0};
        if (r->ok) {
            m.type = PROTO_RPC_RESPONSE;
            m.u.rpc.request_id = r->request_id;
            m.u.rpc.body.data = r->body;
            m.u.rpc.body.len = (uint32_t)r->len;
        } else {
            m.type = PROTO_RPC_FAILURE;
            m.u.rpc_failure.request_id = r->request_id;
            m.u.rpc_failure.error.data = (const uint8_t *)r->error;
            m.u.rpc_failure.error.len = (uint32_t)strlen(r->error);
        }
        conn_resp_msg(c, r->resp, &m);
    }
    free(r->body);
    free(r->error);
    free(r);
    conn_unref(c);
}

static void reply_post(struct rpc_reply *r)
{
    metrics_rpc_done(r->msg_type, r->start_usec, r->ok);
    if (worker_is_current(r->c->w))
        reply_complete(r);
    else
        worker_post(r->c->w, reply_complete, r);
}

void rpc_reply_ok(struct rpc_reply *r, const uint8_t *body, size_t len)
{
    r->ok = true;
    if (len > PROTO_MAX_FRAME_CONTENT - 21) {
        r->ok = false;
        r->error = strdup("java.lang.IllegalArgumentException: reply too large for one frame");
    } else if (len > 0) {
        r->body = malloc(len);
        if (r->body) {
            memcpy(r->body, body, len);
            r->len = len;
        } else {
            r->ok = false;
        }
    }
    if (!r->ok && !r->error)
        r->error = strdup("java.lang.OutOfMemoryError");
    reply_post(r);
}

void rpc_reply_fail(struct rpc_reply *r, const char *error)
{
    r->ok = false;
    r->error = strdup(error ? error : "java.lang.RuntimeException");
    if (!r->error)
        r->error = strdup(""); /* still answers; may be NULL only if memory is gone */
    reply_post(r);
}

static void handle_rpc(struct conn *c, int64_t request_id, const uint8_t *body, size_t len)
{
    struct rpc_reply *r = calloc(1, sizeof *r);
    struct resp *slot = r ? conn_resp_reserve(c, false) : NULL;
    if (!slot) {
        free(r);
        log_error("%s: out of memory for an RPC, closing", c->peer);
        conn_close(c, NULL);
        return;
    }
    r->c = c;
    r->resp = slot;
    r->request_id = request_id;
    r->msg_type = len > 0 ? body[0] : -1;
    r->start_usec = metrics_now_usec();
    metrics_rpc_request(metrics_rpc_from_msg_type(r->msg_type));
    conn_resp_charge_rpc(c, slot, len);
    conn_ref(c);
    struct rpc_handler *h = c->srv->handler;
    h->on_rpc(h->ctx, c, r, body, len);
}

/* An immediate RpcFailure, optionally closing once it is written (UploadStream, spec 7). */
static void rpc_fail_now(struct conn *c, int64_t request_id, const char *error, bool close)
{
    struct resp *slot = conn_resp_reserve(c, false);
    if (!slot) {
        conn_close(c, "out of memory");
        return;
    }
    slot->close_after = close;
    struct proto_msg m = {.type = PROTO_RPC_FAILURE};
    m.u.rpc_failure.request_id = request_id;
    m.u.rpc_failure.error.data = (const uint8_t *)error;
    m.u.rpc_failure.error.len = (uint32_t)strlen(error);
    conn_resp_msg(c, slot, &m);
}

void dispatch_frame(struct conn *c, uint8_t type, const uint8_t *content, size_t len)
{
    struct proto_msg m;
    char err[256];
    if (proto_msg_decode(type, content, len, &m, err, sizeof err) != 0) {
        log_warn("%s: bad %s frame, closing the connection: %s", c->peer, proto_msg_type_name(type),
                 err);
        metrics_inc(MC_CAUGHT_EXCEPTIONS);
        conn_close(c, NULL);
        return;
    }
    switch (m.type) {
    case PROTO_RPC_REQUEST:
        if (c->auth_pending) {
            auth_on_rpc(c, m.u.rpc.request_id, m.u.rpc.body.data, m.u.rpc.body.len);
            break;
        }
        handle_rpc(c, m.u.rpc.request_id, m.u.rpc.body.data, m.u.rpc.body.len);
        break;
    case PROTO_ONE_WAY_MESSAGE: {
        if (c->auth_pending) {
            auth_on_oneway(c);
            break;
        }
        struct rpc_handler *h = c->srv->handler;
        h->on_rpc(h->ctx, c, NULL, m.u.one_way.body.data, m.u.one_way.body.len);
        break;
    }
    case PROTO_CHUNK_FETCH_REQUEST:
        metrics_rpc_request(MR_CHUNK_FETCH);
        stream_manager_chunk_fetch(c, m.u.chunk_fetch_request.stream_id,
                                   m.u.chunk_fetch_request.chunk_index);
        break;
    case PROTO_STREAM_REQUEST:
        metrics_rpc_request(MR_STREAM);
        stream_manager_stream_request(c, m.u.stream_request.stream_id.data,
                                      m.u.stream_request.stream_id.len);
        break;
    case PROTO_UPLOAD_STREAM: {
        if (c->auth_pending) {
            auth_on_upload_stream(c, m.u.upload_stream.request_id);
            break;
        }
        /* No merge support: answer and close, since the pushed bytes cannot be skipped
         * reliably (spec 7, step 4). */
        const struct proto_view *meta = &m.u.upload_stream.meta;
        char why[160];
        if (meta->len > 0 && meta->data[0] == 12)
            snprintf(why, sizeof why,
                     "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
        else
            snprintf(why, sizeof why,
                     "java.lang.UnsupportedOperationException: Unexpected message with "
                     "#receiveStream: type %d",
                     meta->len > 0 ? meta->data[0] : -1);
        log_info("%s: UploadStream refused (%s); closing after the reply", c->peer, why);
        rpc_fail_now(c, m.u.upload_stream.request_id, why, true);
        if (!c->closed)
            conn_finish(c);
        break;
    }
    case PROTO_MERGED_BLOCK_META_REQUEST:
        rpc_fail_now(c, m.u.merged_block_meta_request.request_id,
                     "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge",
                     false);
        break;
    default:
        /* A response type: a server never asked for it. Spark logs and ignores these. */
        log_debug("%s: ignoring unexpected %s", c->peer, proto_msg_type_name(m.type));
        break;
    }
}

struct blocking_job {
    struct conn *c;
    void (*fn)(void *arg);
    void (*done)(struct conn *c, void *arg);
    void *arg;
};

static void blocking_done(void *p)
{
    struct blocking_job *j = p;
    if (j->done)
        j->done(j->c->closed ? NULL : j->c, j->arg);
    conn_unref(j->c);
    free(j);
}

static void blocking_run(void *p)
{
    struct blocking_job *j = p;
    j->fn(j->arg);
    worker_post(j->c->w, blocking_done, j);
}

void conn_run_blocking(struct conn *c, void (*fn)(void *arg),
                       void (*done)(struct conn *c, void *arg), void *arg)
{
    struct blocking_job *j = malloc(sizeof *j);
    if (!j) { /* no memory for the job: do the work here rather than lose it */
        fn(arg);
        if (done)
            done(c, arg);
        return;
    }
    *j = (struct blocking_job){c, fn, done, arg};
    conn_ref(c);
    if (blocking_pool_submit(c->srv->pool, blocking_run, j) != 0)
        blocking_run(j);
}
