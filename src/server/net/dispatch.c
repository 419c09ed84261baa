/* SPDX-License-Identifier: Apache-2.0 */
/* See dispatch.h. */
#include <config.h>

#include "server/net/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/net/handler.h"
#include "server/net/rpc_reply.h"
#include "common/log.h"
#include "server/ops/metrics.h"

#define ROUTES 32

struct dispatch {
    struct rpc_handler *rpc;
    struct {
        dispatch_fn fn;
        void *ctx;
    } routes[ROUTES];
};

static void on_rpc(struct dispatch *d, struct conn *c, const struct proto_msg *m)
{
    struct rpc_reply *r =
        rpc_reply_start(c, m->u.rpc.request_id, m->u.rpc.body.data, m->u.rpc.body.len);
    if (r)
        d->rpc->on_rpc(d->rpc->ctx, c, r, m->u.rpc.body.data, m->u.rpc.body.len);
}

/* An immediate RpcFailure, optionally closing once it is written (UploadStream, protocol.md 7). */
static void rpc_fail_now(struct conn *c, int64_t request_id, const char *error, bool close)
{
    rpc_answer_now(c, NULL, request_id, false, error, strlen(error), close);
}

/* No merge support: answer and close, since the pushed bytes cannot be skipped reliably
 * (protocol.md 7, step 4). */
void dispatch_refuse_upload(struct conn *c, const struct proto_msg *m)
{
    const struct proto_view *meta = &m->u.upload_stream.meta;
    char why[160];
    if (meta->len > 0 && meta->data[0] == 12)
        snprintf(why, sizeof why,
                 "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
    else
        snprintf(why, sizeof why,
                 "java.lang.UnsupportedOperationException: Unexpected message with "
                 "#receiveStream: type %d",
                 meta->len > 0 ? meta->data[0] : -1);
    log_info("%s: UploadStream refused (%s); closing after the reply", conn_peer(c), why);
    metrics_rpc_error(metrics_rpc_from_msg_type(meta->len > 0 ? meta->data[0] : -1));
    rpc_fail_now(c, m->u.upload_stream.request_id, why, true);
}

static void on_msg(void *ctx, struct conn *c, const struct proto_msg *m)
{
    struct dispatch *d = ctx;
    if ((unsigned)m->type < ROUTES && d->routes[m->type].fn) {
        d->routes[m->type].fn(d->routes[m->type].ctx, c, m);
        return;
    }
    switch (m->type) {
    case PROTO_RPC_REQUEST:
        on_rpc(d, c, m);
        break;
    case PROTO_ONE_WAY_MESSAGE:
        metrics_rpc_request(
            metrics_rpc_from_msg_type(m->u.one_way.body.len > 0 ? m->u.one_way.body.data[0] : -1));
        d->rpc->on_rpc(d->rpc->ctx, c, NULL, m->u.one_way.body.data, m->u.one_way.body.len);
        break;
    case PROTO_UPLOAD_STREAM: /* counted by its meta's type: PushBlockStream, UploadBlockStream */
        metrics_rpc_request(metrics_rpc_from_msg_type(
            m->u.upload_stream.meta.len > 0 ? m->u.upload_stream.meta.data[0] : -1));
        if (d->rpc->on_upload)
            d->rpc->on_upload(d->rpc->ctx, c, m);
        else
            dispatch_refuse_upload(c, m);
        break;
    case PROTO_MERGED_BLOCK_META_REQUEST:
        metrics_rpc_request(MR_MERGED_BLOCK_META);
        metrics_rpc_error(MR_MERGED_BLOCK_META);
        rpc_fail_now(c, m->u.merged_block_meta_request.request_id,
                     "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge",
                     false);
        break;
    default:
        /* A response type: a server never asked for it. Spark logs and ignores these. */
        log_debug("%s: ignoring unexpected %s", conn_peer(c), proto_msg_type_name(m->type));
        break;
    }
}

struct dispatch *dispatch_create(struct rpc_handler *rpc)
{
    struct dispatch *d = calloc(1, sizeof *d);
    if (d)
        d->rpc = rpc;
    return d;
}

void dispatch_destroy(struct dispatch *d)
{
    free(d);
}

void dispatch_route(struct dispatch *d, enum proto_msg_type type, dispatch_fn fn, void *ctx)
{
    if ((unsigned)type < ROUTES) {
        d->routes[type].fn = fn;
        d->routes[type].ctx = ctx;
    }
}

struct conn_phase dispatch_phase(struct dispatch *d)
{
    return (struct conn_phase){on_msg, d};
}
