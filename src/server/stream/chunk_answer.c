/* SPDX-License-Identifier: Apache-2.0 */
/* A chunk request's answer (protocol.md 6.2, 6.5): ChunkFetchSuccess / StreamResponse with
 * the body handed over without a copy (a file segment window by window, or memory), or
 * ChunkFetchFailure / StreamFailure with Spark's texts; see chunk_answer.h. */
#include <config.h>

#include "server/stream/chunk_answer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/message.h"
#include "server/net/conn.h"
#include "server/ops/metrics.h"
#include "server/stream/chunk_window.h"

/* Largest ChunkFetchSuccess body: frameLen - 8 = 1 + 12 + body must stay within Java's limit. */
#define MAX_IN_FRAME_CHUNK (PROTO_MAX_FRAME_CONTENT - 13)

void chunk_seg_release(struct chunk_segment *seg)
{
    free(seg->path);
    free(seg->data);
    if (seg->kind == CHUNK_OPEN_FILE && seg->fd >= 0) {
        if (seg->release)
            seg->release(seg->owner, seg->fd);
        else
            close(seg->fd);
    }
    memset(seg, 0, sizeof *seg);
    seg->fd = -1;
}

void chunk_req_clear(struct chunk_req *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    chunk_seg_release(&r->seg);
    free(r->name);
    r->name = NULL;
}

void chunk_req_free(struct chunk_req *r)
{
    chunk_req_clear(r);
    free(r);
}

void chunk_answer_failure(struct chunk_req *r, const char *error)
{
    struct proto_msg m = {0};
    if (r->is_stream) {
        m.type = PROTO_STREAM_FAILURE;
        m.u.stream_failure.stream_id.data = (const uint8_t *)r->name;
        m.u.stream_failure.stream_id.len = (uint32_t)strlen(r->name);
        m.u.stream_failure.error.data = (const uint8_t *)error;
        m.u.stream_failure.error.len = (uint32_t)strlen(error);
    } else {
        m.type = PROTO_CHUNK_FETCH_FAILURE;
        m.u.chunk_fetch_failure.stream_id = r->stream_id;
        m.u.chunk_fetch_failure.chunk_index = r->index;
        m.u.chunk_fetch_failure.error.data = (const uint8_t *)error;
        m.u.chunk_fetch_failure.error.len = (uint32_t)strlen(error);
    }
    conn_slot_fill_msg(r->c, r->slot, &m, false);
    r->slot = NULL;
    metrics_rpc_error(r->is_stream ? MR_STREAM : MR_CHUNK_FETCH);
}

void chunk_answer_unknown(struct chunk_req *r)
{
    chunk_answer_failure(r, !r->is_stream && conn_client_id(r->c)
                                ? "java.lang.IllegalArgumentException: Unknown stream ID."
                                : "java.lang.NullPointerException");
}

/* The header, then the body without copying it (memory handed over, or the file segment). */
static void answer_success(struct chunk_req *r)
{
    uint64_t len = r->seg.length;
    if (!r->is_stream && len > MAX_IN_FRAME_CHUNK) {
        char why[200];
        snprintf(why, sizeof why,
                 "java.lang.IllegalArgumentException: chunk of %" PRIu64
                 " bytes does not fit in one frame; fetch it with a StreamRequest",
                 len);
        chunk_answer_failure(r, why);
        return;
    }
    struct proto_msg m = {0};
    if (r->is_stream) {
        m.type = PROTO_STREAM_RESPONSE;
        m.u.stream_response.stream_id.data = (const uint8_t *)r->name;
        m.u.stream_response.stream_id.len = (uint32_t)strlen(r->name);
        m.u.stream_response.byte_count = (int64_t)len;
    } else {
        m.type = PROTO_CHUNK_FETCH_SUCCESS;
        m.u.chunk_fetch_success.stream_id = r->stream_id;
        m.u.chunk_fetch_success.chunk_index = r->index;
    }
    struct conn *c = r->c;
    struct reply_slot *slot = r->slot;
    r->slot = NULL;
    int rc;
    if (len > 0 && (r->seg.kind == CHUNK_FILE || r->seg.kind == CHUNK_OPEN_FILE)) {
        struct reply_file f = {.offset = r->seg.offset, .len = len};
        if (r->seg.kind == CHUNK_FILE) {
            f.fd = r->fd;
            r->fd = -1;
        } else {
            f.fd = r->seg.fd;
            f.release = r->seg.release;
            f.owner = r->seg.owner;
            r->seg.fd = -1;
        }
        rc = chunk_window_send(c, slot, &m, &f);
    } else {
        uint8_t *body = NULL;
        if (len > 0 && r->seg.kind == CHUNK_MEMORY) {
            body = r->seg.data;
            r->seg.data = NULL;
        }
        rc = conn_slot_fill_body(c, slot, &m, body ? len : 0, body, NULL, 0);
    }
    if (rc == 0) {
        metrics_add(MC_BLOCK_TRANSFER_BYTES, len);
        metrics_inc(MC_BLOCK_TRANSFER_MESSAGES);
    }
}

void chunk_answer(struct chunk_req *r)
{
    if (r->failed) {
        chunk_answer_failure(r, r->err);
    } else if (r->seg.kind == CHUNK_MISSING) {
        if (r->is_stream) {
            char why[300];
            snprintf(why, sizeof why, "Stream '%s' was not found.", r->name);
            chunk_answer_failure(r, why);
        } else {
            chunk_answer_failure(r, "java.lang.IllegalStateException: Chunk was not found");
        }
    } else {
        answer_success(r);
    }
}
