/* SPDX-License-Identifier: Apache-2.0 */
/* See rpc_reply.h and handler.h. */
#include <config.h>

#include "server/net/rpc_reply.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/message.h"
#include "server/net/conn.h"
#include "server/net/handler.h"
#include "server/net/worker.h"
#include "common/log.h"
#include "server/ops/metrics.h"

struct rpc_reply {
    struct conn *c;
    struct reply_slot *slot;
    int64_t request_id;
    bool ok;
    uint8_t *body;
    size_t len;
    char *error;
    int msg_type;        /* BlockTransferMessage type byte, -1 if none (metrics) */
    uint64_t start_usec; /* metrics_now_usec() when the request arrived */
};

struct rpc_reply *rpc_reply_start(struct conn *c, int64_t request_id, const uint8_t *body,
                                  size_t len)
{
    struct rpc_reply *r = calloc(1, sizeof *r);
    struct reply_slot *slot = r ? conn_slot_reserve(c, CONN_SLOT_RPC) : NULL;
    if (!slot) {
        free(r);
        log_error("%s: out of memory for an RPC, closing", conn_peer(c));
        conn_close(c, NULL);
        return NULL;
    }
    r->c = c;
    r->slot = slot;
    r->request_id = request_id;
    r->msg_type = len > 0 ? body[0] : -1;
    r->start_usec = metrics_now_usec();
    metrics_rpc_request(metrics_rpc_from_msg_type(r->msg_type));
    conn_slot_charge_rpc(c, slot, len);
    conn_ref(c);
    return r;
}

static void reply_complete(void *arg)
{
    struct rpc_reply *r = arg;
    struct conn *c = r->c;
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
    conn_slot_fill_msg(c, r->slot, &m, false); /* frees a detached slot */
    free(r->body);
    free(r->error);
    free(r);
    conn_unref(c);
}

static void reply_post(struct rpc_reply *r)
{
    metrics_rpc_done(r->msg_type, r->start_usec, r->ok);
    struct worker *w = conn_worker(r->c);
    if (worker_is_current(w))
        reply_complete(r);
    else
        worker_post(w, reply_complete, r);
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

void rpc_answer_now(struct conn *c, struct reply_slot *slot, int64_t request_id, bool ok,
                    const void *data, size_t len, bool close_after)
{
    if (!slot)
        slot = conn_slot_reserve(c, CONN_SLOT_RPC);
    if (!slot) {
        conn_close(c, "out of memory");
        return;
    }
    struct proto_msg m = {.type = ok ? PROTO_RPC_RESPONSE : PROTO_RPC_FAILURE};
    if (ok) {
        m.u.rpc.request_id = request_id;
        m.u.rpc.body.data = data;
        m.u.rpc.body.len = (uint32_t)len;
    } else {
        m.u.rpc_failure.request_id = request_id;
        m.u.rpc_failure.error.data = data;
        m.u.rpc_failure.error.len = (uint32_t)len;
    }
    conn_slot_fill_msg(c, slot, &m, close_after);
    if (close_after && !conn_is_closed(c))
        conn_finish(c);
}
