/* Every transport message, described once: its code, Spark's class name and the
 * frame fields after the type byte, in wire order, each with the name printed in
 * descriptions. A BODY field is the rest of the frame (the in-frame body); a
 * BYTE_COUNT field counts bytes sent after the frame. Laid out by hand. */
#include "proto/message_table.h"

#include "proto/msgdesc_inline.h"

/* clang-format off */
#define AT(member) offsetof(struct proto_msg, u.member)
/* A field shown as label=value or label=size. */
#define F(kind_, member, label_) {.label = label_, .kind = MSGF_##kind_, .offset = AT(member)}
#define SIZE_OF(kind_, member, label_) \
    {.label = label_, .kind = MSGF_##kind_, .show = MSG_SHOW_SIZE, .offset = AT(member)}
/* Ignored on read, the frame length decides (spec 3.1); written from the body length. */
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

const struct msgdesc proto_msg_descs[PROTO_MSG_TYPE_COUNT] = {
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

const struct msg_style proto_msg_style = {.open = "",
                                          .first_sep = " ",
                                          .sep = " ",
                                          .close = "",
                                          .quote_text = true,
                                          .size_unit = " bytes"};

/* The hot paths, one unrolled instance per row (msgdesc_inline.h). */
_Static_assert(PROTO_MSG_TYPE_COUNT <= MSG_MAX_TYPES, "extend MSG_CASES_0_TO_31");
#define ROW_OF(code) MSG_ROW(proto_msg_descs, PROTO_MSG_TYPE_COUNT, code)

bool proto_msg_table_decode(int type, struct proto_reader *r, struct proto_msg *m)
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

void proto_msg_table_encode(int type, struct proto_writer *w, const struct proto_msg *m,
                            uint64_t body_len)
{
#define ENCODE(code) msgdesc_encode_row(ROW_OF(code), w, m, body_len)
    switch (type) {
        MSG_CASES_0_TO_31(PROTO_MSG_TYPE_COUNT, ENCODE)
    }
}

size_t proto_msg_table_wire_len(int type, const struct proto_msg *m)
{
    size_t n = 0;
#define WIRE_LEN(code) n = msgdesc_wire_len_row(ROW_OF(code), m)
    switch (type) {
        MSG_CASES_0_TO_31(PROTO_MSG_TYPE_COUNT, WIRE_LEN)
    }
    return n;
}
