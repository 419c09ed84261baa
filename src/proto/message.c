/* SPDX-License-Identifier: Apache-2.0 */
/* Transport messages (protocol.md 1.1 and 4): every type described once, and
 * decode, encode and describe driven by those descriptions.
 *
 * Each row: the code, Spark's class name and the frame fields after the type
 * byte, in wire order, each with the name printed in descriptions. A BODY field
 * is the rest of the frame (the in-frame body); a BYTE_COUNT field counts bytes
 * sent after the frame. The table is laid out by hand, one field a line. */
#include <config.h>

#include "proto/message.h"

#include <stdio.h>
#include <string.h>

#include "proto/msgdesc_codec.h"
#include "proto/msgdesc_describe.h"

/* clang-format off */
#define AT(member) offsetof(struct proto_msg, u.member)
/* A field shown as label=value or label=size. */
#define F(kind_, member, label_) {.label = label_, .kind = MSGF_##kind_, .offset = AT(member)}
#define SIZE_OF(kind_, member, label_) \
    {.label = label_, .kind = MSGF_##kind_, .show = MSG_SHOW_SIZE, .offset = AT(member)}
/* Ignored on read, the frame length decides (protocol.md 3.1); written from the body length. */
#define LEGACY_LEN {.kind = MSGF_LEGACY_LEN}
/* A body or meta field holding an encoded BlockTransferMessage, shown by size. */
#define RPC(kind_, member, label_) \
    {.label = label_, .kind = MSGF_##kind_, .show = MSG_SHOW_SIZE, .flags = MSGF_CARRIES_RPC, \
     .offset = AT(member)}

/* RpcRequest and RpcResponse share their layout. */
#define RPC_FIELDS \
    F(I64,     rpc.request_id, "requestId"), \
    LEGACY_LEN, \
    RPC(BODY,  rpc.body,       "body")

#define ROW(code, spark_name, ...) \
    {.type = code, .name = spark_name, .size = sizeof(struct proto_msg), MSG_FIELDS(__VA_ARGS__)}

static const struct msgdesc proto_msg_descs[PROTO_MSG_TYPE_COUNT] = {
    ROW(PROTO_CHUNK_FETCH_REQUEST, "ChunkFetchRequest",
        F(I64, chunk_fetch_request.stream_id,   "streamId"),
        F(I32, chunk_fetch_request.chunk_index, "chunkIndex")),
    ROW(PROTO_CHUNK_FETCH_SUCCESS, "ChunkFetchSuccess",
        F(I64,        chunk_fetch_success.stream_id,   "streamId"),
        F(I32,        chunk_fetch_success.chunk_index, "chunkIndex"),
        SIZE_OF(BODY, chunk_fetch_success.body,        "body")),
    ROW(PROTO_CHUNK_FETCH_FAILURE, "ChunkFetchFailure",
        F(I64,  chunk_fetch_failure.stream_id,   "streamId"),
        F(I32,  chunk_fetch_failure.chunk_index, "chunkIndex"),
        F(VIEW, chunk_fetch_failure.error,       "error")),
    ROW(PROTO_RPC_REQUEST, "RpcRequest", RPC_FIELDS),
    ROW(PROTO_RPC_RESPONSE, "RpcResponse", RPC_FIELDS),
    ROW(PROTO_RPC_FAILURE, "RpcFailure",
        F(I64,  rpc_failure.request_id, "requestId"),
        F(VIEW, rpc_failure.error,      "error")),
    ROW(PROTO_STREAM_REQUEST, "StreamRequest",
        F(VIEW, stream_request.stream_id, "streamId")),
    ROW(PROTO_STREAM_RESPONSE, "StreamResponse",
        F(VIEW,       stream_response.stream_id,  "streamId"),
        F(BYTE_COUNT, stream_response.byte_count, "byteCount")),
    ROW(PROTO_STREAM_FAILURE, "StreamFailure",
        F(VIEW, stream_failure.stream_id, "streamId"),
        F(VIEW, stream_failure.error,     "error")),
    ROW(PROTO_ONE_WAY_MESSAGE, "OneWayMessage",
        LEGACY_LEN,
        RPC(BODY, one_way.body, "body")),
    ROW(PROTO_UPLOAD_STREAM, "UploadStream",
        F(I64,        upload_stream.request_id,      "requestId"),
        RPC(VIEW,     upload_stream.meta,            "meta"),
        F(BYTE_COUNT, upload_stream.body_byte_count, "bodyByteCount")),
    ROW(PROTO_MERGED_BLOCK_META_REQUEST, "MergedBlockMetaRequest",
        F(I64,  merged_block_meta_request.request_id,       "requestId"),
        F(VIEW, merged_block_meta_request.app_id,           "appId"),
        F(I32,  merged_block_meta_request.shuffle_id,       "shuffleId"),
        F(I32,  merged_block_meta_request.shuffle_merge_id, "mergeId"),
        F(I32,  merged_block_meta_request.reduce_id,        "reduceId")),
    /* The body is numChunks bitmaps back to back, kept opaque. */
    ROW(PROTO_MERGED_BLOCK_META_SUCCESS, "MergedBlockMetaSuccess",
        F(I64,        merged_block_meta_success.request_id, "requestId"),
        F(I32,        merged_block_meta_success.num_chunks, "numChunks"),
        SIZE_OF(BODY, merged_block_meta_success.body,       "body")),
};
/* clang-format on */

static const struct msg_style proto_msg_style = {.open = "",
                                                 .first_sep = " ",
                                                 .sep = " ",
                                                 .close = "",
                                                 .quote_text = true,
                                                 .size_unit = " bytes"};

/* The hot paths, one unrolled instance per row (msgdesc_codec.h). */
_Static_assert(PROTO_MSG_TYPE_COUNT <= MSG_MAX_TYPES, "extend MSG_CASES_0_TO_31");
#define ROW_OF(code) MSG_ROW(proto_msg_descs, PROTO_MSG_TYPE_COUNT, code)

static bool decode_fields(int type, struct proto_reader *r, struct proto_msg *m)
{
    bool has_body = false;
#define DECODE(code)                                                                               \
    msgdesc_decode_row(ROW_OF(code), r, m);                                                        \
    has_body = msgdesc_body(ROW_OF(code), m) != NULL
    switch (type) {
        MSG_CASES_0_TO_31(PROTO_MSG_TYPE_COUNT, DECODE)
    }
    return has_body;
}

static void encode_fields(int type, struct proto_writer *w, const struct proto_msg *m,
                          uint64_t body_len)
{
#define ENCODE(code) msgdesc_encode_row(ROW_OF(code), w, m, body_len)
    switch (type) {
        MSG_CASES_0_TO_31(PROTO_MSG_TYPE_COUNT, ENCODE)
    }
}

static size_t wire_len(int type, const struct proto_msg *m)
{
    size_t n = 0;
#define WIRE_LEN(code) n = msgdesc_wire_len_row(ROW_OF(code), m)
    switch (type) {
        MSG_CASES_0_TO_31(PROTO_MSG_TYPE_COUNT, WIRE_LEN)
    }
    return n;
}

const struct msgdesc *proto_msg_desc(int type)
{
    return (type >= 0 && type < PROTO_MSG_TYPE_COUNT) ? &proto_msg_descs[type] : NULL;
}

bool proto_msg_type_is_known(int type)
{
    return proto_msg_desc(type) != NULL;
}

const char *proto_msg_type_name(int type)
{
    const struct msgdesc *d = proto_msg_desc(type);
    return d ? d->name : "Unknown";
}

int proto_msg_decode(int type, const uint8_t *content, size_t len, struct proto_msg *out, char *err,
                     size_t errlen)
{
    struct proto_reader r;
    memset(out, 0, sizeof(*out));
    out->type = (enum proto_msg_type)type;
    if (!proto_msg_type_is_known(type)) {
        snprintf(err, errlen, "unknown message type %d", type);
        return -1;
    }
    proto_reader_init(&r, content, len);
    bool has_body = decode_fields(type, &r, out);
    /* Only a message with an in-frame body may have bytes after its header. */
    if (!proto_reader_error(&r) && !has_body && proto_reader_remaining(&r) != 0)
        proto_reader_fail(&r, "trailing bytes after the message");
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "malformed %s (%zu bytes): %s", proto_msg_type_name(type), len,
                 proto_reader_error(&r));
        return -1;
    }
    return 0;
}

size_t proto_msg_header_len(const struct proto_msg *m)
{
    return PROTO_FRAME_HEADER_LEN + wire_len((int)m->type, m);
}

void proto_msg_encode_header(struct proto_writer *w, const struct proto_msg *m, uint64_t body_len)
{
    size_t header_len = proto_msg_header_len(m);
    if (!proto_writer_reserve(w, header_len))
        return;
    proto_write_i64(w, (int64_t)(header_len + body_len));
    proto_write_u8(w, (uint8_t)m->type);
    encode_fields((int)m->type, w, m, body_len);
}

void proto_msg_encode(struct proto_writer *w, const struct proto_msg *m)
{
    const struct msgdesc *d = proto_msg_desc((int)m->type);
    const struct proto_view *body = d ? msgdesc_body(d, m) : NULL;
    uint64_t body_len = body ? body->len : 0;
    proto_msg_encode_header(w, m, body_len);
    if (body && body->len)
        proto_write_raw(w, body->data, body->len);
}

void proto_msg_describe(const struct proto_msg *m, char *buf, size_t buflen)
{
    const struct msgdesc *d = proto_msg_desc((int)m->type);
    struct msg_text t;
    msg_text_init(&t, buf, buflen);
    if (d)
        msgdesc_describe(d, &proto_msg_style, m, &t);
    else
        msg_text_add(&t, "Unknown(%d)", (int)m->type);
}
