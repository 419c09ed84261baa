/* SPDX-License-Identifier: Apache-2.0 */
/* Replies of the block service: BlockTransferMessages into RpcResponses, and the id check
 * every handler applies to appId/execId fields. See block_service.h. */
#include <config.h>

#include <stdbool.h>
#include <string.h>

#include "proto/codec.h"
#include "server/block/block_service.h"
#include "server/block/blockid.h"
#include "server/stream/stream_manager.h"

void block_reply_msg(struct rpc_reply *reply, const struct blockmsg *m)
{
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, m);
    if (w.failed)
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: encoding the reply");
    else
        rpc_reply_ok(reply, w.buf, w.len);
    proto_writer_free(&w);
}

void block_reply_stream(struct conn *c, struct rpc_reply *reply, struct stream_source src)
{
    uint32_t n = src.num_chunks;
    char err[400];
    int64_t id = stream_register(c, conn_client_id(c), src, err, sizeof err);
    if (id < 0) {
        rpc_reply_fail(reply, err);
        return;
    }
    struct blockmsg m = {.type = BLOCKMSG_STREAM_HANDLE};
    m.u.stream_handle.stream_id = id;
    m.u.stream_handle.num_chunks = (int32_t)n;
    block_reply_msg(reply, &m);
}

bool block_id_field_ok(const struct proto_bytes *b)
{
    return b->data && strlen(b->data) == b->len && id_is_safe(b->data, b->len);
}
