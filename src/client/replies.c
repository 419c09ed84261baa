/* SPDX-License-Identifier: Apache-2.0 */
/* Replies matched to outstanding requests: see replies.h. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/pending.h"
#include "client/replies.h"
#include "client/util.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "shuffle/client.h"

static void must_close(struct reply_close *rc, int status, const char *fmt, const char *detail)
{
    rc->status = status;
    rc->fmt = fmt;
    rc->then_complete = NULL;
    snprintf(rc->detail, sizeof(rc->detail), "%s", detail ? detail : "");
}

static void finish(struct reply_state *rs, struct pending *p, int status, const char *err,
                   const uint8_t *body, size_t len)
{
    pending_unlink(rs->ps, p);
    pending_complete(p, status, err, body, len);
}

static void finish_view(struct reply_state *rs, struct pending *p, struct proto_view error)
{
    char *e = client_strf("%.*s", (int)error.len, (const char *)error.data);
    finish(rs, p, SHUFFLE_ESERVER, e, NULL, 0);
    free(e);
}

static void stream_response(struct reply_state *rs, int64_t byte_count, struct reply_close *rc)
{
    struct pending *p = pending_fifo_pop(rs->ps);
    if (!p) {
        must_close(rc, SHUFFLE_EPROTO, "Unexpected StreamResponse from %s%s", NULL);
        return;
    }
    if (p->scb.on_start && p->scb.on_start(p->scb.arg, (uint64_t)byte_count)) {
        rs->cur_stream = p;
        replies_abandon_stream(rs, rc);
    } else if (byte_count <= 0) {
        finish(rs, p, SHUFFLE_OK, NULL, NULL, 0);
    } else {
        rs->cur_stream = p;
        rs->sink_fd = p->scb.sink_fd ? p->scb.sink_fd(p->scb.arg) : -1;
    }
}

void replies_frame(struct reply_state *rs, const struct frame_out *out, struct reply_close *rc)
{
    struct proto_msg m;
    char err[256];
    struct pending *p;
    rc->status = 0;
    rc->then_complete = NULL;
    rs->sink_fd = -1;
    if (proto_msg_decode(out->type, out->content, out->content_len, &m, err, sizeof(err)) != 0) {
        must_close(rc, SHUFFLE_EPROTO, "Undecodable frame from %s: %s", err);
        return;
    }
    switch (m.type) {
    case PROTO_RPC_RESPONSE:
        if ((p = pending_find(rs->ps, PEND_RPC, m.u.rpc.request_id, 0, true)))
            finish(rs, p, SHUFFLE_OK, NULL, m.u.rpc.body.data, m.u.rpc.body.len);
        break;
    case PROTO_RPC_FAILURE:
        if (!(p = pending_find(rs->ps, PEND_RPC, m.u.rpc_failure.request_id, 0, true)))
            break;
        /* A server may fail the channel after refusing an upload (Spark does unless the
         * failure came after the whole body was read; shuffled does). With nothing else
         * outstanding the connection is closed here before p is told, so that what its owner
         * sends next goes on a new connection, not on one the server may be closing. With
         * requests in flight it stays: they are answered, or fail with the close (EIO, which
         * pushes retry). */
        if (!p->closes_on_failure || rs->ps->count > 1) {
            finish_view(rs, p, m.u.rpc_failure.error);
            break;
        }
        pending_unlink(rs->ps, p);
        must_close(rc, SHUFFLE_EIO, "Connection to %s closed after a refused upload%s", NULL);
        rc->then_complete = p;
        rc->then_error = client_strf("%.*s", (int)m.u.rpc_failure.error.len,
                                     (const char *)m.u.rpc_failure.error.data);
        break;
    case PROTO_CHUNK_FETCH_SUCCESS:
        if ((p = pending_find(rs->ps, PEND_CHUNK, m.u.chunk_fetch_success.stream_id,
                              m.u.chunk_fetch_success.chunk_index, true)))
            finish(rs, p, SHUFFLE_OK, NULL, m.u.chunk_fetch_success.body.data,
                   m.u.chunk_fetch_success.body.len);
        break;
    case PROTO_CHUNK_FETCH_FAILURE:
        if ((p = pending_find(rs->ps, PEND_CHUNK, m.u.chunk_fetch_failure.stream_id,
                              m.u.chunk_fetch_failure.chunk_index, true))) {
            char *e = client_strf("Failure while fetching StreamChunkId[streamId=%lld,"
                                  "chunkIndex=%d]: %.*s",
                                  (long long)m.u.chunk_fetch_failure.stream_id,
                                  (int)m.u.chunk_fetch_failure.chunk_index,
                                  (int)m.u.chunk_fetch_failure.error.len,
                                  (const char *)m.u.chunk_fetch_failure.error.data);
            finish(rs, p, SHUFFLE_ESERVER, e, NULL, 0);
            free(e);
        }
        break;
    case PROTO_MERGED_BLOCK_META_SUCCESS:
        /* handed over from numChunks on: the request id (8 bytes) has done its job */
        if ((p = pending_find(rs->ps, PEND_RPC, m.u.merged_block_meta_success.request_id, 0, true)))
            finish(rs, p, SHUFFLE_OK, NULL, out->content + 8, out->content_len - 8);
        break;
    case PROTO_STREAM_RESPONSE:
        stream_response(rs, m.u.stream_response.byte_count, rc);
        break;
    case PROTO_STREAM_FAILURE:
        if ((p = pending_fifo_pop(rs->ps)))
            finish_view(rs, p, m.u.stream_failure.error);
        else
            must_close(rc, SHUFFLE_EPROTO, "Unexpected StreamFailure from %s%s", NULL);
        break;
    default:
        /* Requests from the server side are not expected from a shuffle service. */
        break;
    }
}

void replies_stream_bytes(struct reply_state *rs, const struct frame_out *out,
                          struct reply_close *rc)
{
    struct pending *p = rs->cur_stream;
    rc->status = 0;
    rc->then_complete = NULL;
    if (!p)
        return; /* bytes of a stream we already gave up on */
    if (out->raw_len && p->scb.on_data(p->scb.arg, out->raw, out->raw_len)) {
        replies_abandon_stream(rs, rc);
    } else if (out->raw_remaining == 0) {
        rs->cur_stream = NULL;
        finish(rs, p, SHUFFLE_OK, NULL, NULL, 0);
    }
}

void replies_abandon_stream(struct reply_state *rs, struct reply_close *rc)
{
    struct pending *p = rs->cur_stream;
    rs->cur_stream = NULL;
    if (p)
        finish(rs, p, SHUFFLE_ELOCAL, "cannot store the stream's bytes", NULL, 0);
    must_close(rc, SHUFFLE_EIO, "Connection to %s closed: a stream was abandoned%s", NULL);
}
