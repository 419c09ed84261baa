#include "proto/message.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
    "ChunkFetchRequest",
    "ChunkFetchSuccess",
    "ChunkFetchFailure",
    "RpcRequest",
    "RpcResponse",
    "RpcFailure",
    "StreamRequest",
    "StreamResponse",
    "StreamFailure",
    "OneWayMessage",
    "UploadStream",
    "MergedBlockMetaRequest",
    "MergedBlockMetaSuccess",
};

bool proto_msg_type_is_known(int type)
{
    return type >= 0 && type <= PROTO_MERGED_BLOCK_META_SUCCESS;
}

const char *proto_msg_type_name(int type)
{
    return proto_msg_type_is_known(type) ? type_names[type] : "Unknown";
}

static void read_view(struct proto_reader *r, struct proto_view *v)
{
    proto_read_bytes_borrowed(r, &v->data, &v->len);
}

/* The rest of the frame, for messages whose body is everything after the header. */
static void read_rest(struct proto_reader *r, struct proto_view *v)
{
    size_t n = proto_reader_remaining(r);
    v->len = (uint32_t)n;
    proto_read_raw(r, n, &v->data);
}

int proto_msg_decode(int type, const uint8_t *content, size_t len, struct proto_msg *out, char *err,
                     size_t errlen)
{
    struct proto_reader r;
    int32_t legacy_body_len;
    bool has_body = false;
    memset(out, 0, sizeof(*out));
    out->type = (enum proto_msg_type)type;
    proto_reader_init(&r, content, len);
    switch (type) {
    case PROTO_CHUNK_FETCH_REQUEST:
        proto_read_i64(&r, &out->u.chunk_fetch_request.stream_id);
        proto_read_i32(&r, &out->u.chunk_fetch_request.chunk_index);
        break;
    case PROTO_CHUNK_FETCH_SUCCESS:
        proto_read_i64(&r, &out->u.chunk_fetch_success.stream_id);
        proto_read_i32(&r, &out->u.chunk_fetch_success.chunk_index);
        read_rest(&r, &out->u.chunk_fetch_success.body);
        has_body = true;
        break;
    case PROTO_CHUNK_FETCH_FAILURE:
        proto_read_i64(&r, &out->u.chunk_fetch_failure.stream_id);
        proto_read_i32(&r, &out->u.chunk_fetch_failure.chunk_index);
        read_view(&r, &out->u.chunk_fetch_failure.error);
        break;
    case PROTO_RPC_REQUEST:
    case PROTO_RPC_RESPONSE:
        /* The legacy body length is ignored: the frame length decides (spec 3.1). */
        proto_read_i64(&r, &out->u.rpc.request_id);
        proto_read_i32(&r, &legacy_body_len);
        read_rest(&r, &out->u.rpc.body);
        has_body = true;
        break;
    case PROTO_RPC_FAILURE:
        proto_read_i64(&r, &out->u.rpc_failure.request_id);
        read_view(&r, &out->u.rpc_failure.error);
        break;
    case PROTO_STREAM_REQUEST:
        read_view(&r, &out->u.stream_request.stream_id);
        break;
    case PROTO_STREAM_RESPONSE:
        read_view(&r, &out->u.stream_response.stream_id);
        proto_read_i64(&r, &out->u.stream_response.byte_count);
        if (!proto_reader_error(&r) && out->u.stream_response.byte_count < 0)
            proto_reader_fail(&r, "negative byte count");
        break;
    case PROTO_STREAM_FAILURE:
        read_view(&r, &out->u.stream_failure.stream_id);
        read_view(&r, &out->u.stream_failure.error);
        break;
    case PROTO_ONE_WAY_MESSAGE:
        proto_read_i32(&r, &legacy_body_len);
        read_rest(&r, &out->u.one_way.body);
        has_body = true;
        break;
    case PROTO_UPLOAD_STREAM:
        proto_read_i64(&r, &out->u.upload_stream.request_id);
        read_view(&r, &out->u.upload_stream.meta);
        proto_read_i64(&r, &out->u.upload_stream.body_byte_count);
        if (!proto_reader_error(&r) && out->u.upload_stream.body_byte_count < 0)
            proto_reader_fail(&r, "negative byte count");
        break;
    case PROTO_MERGED_BLOCK_META_REQUEST:
        proto_read_i64(&r, &out->u.merged_block_meta_request.request_id);
        read_view(&r, &out->u.merged_block_meta_request.app_id);
        proto_read_i32(&r, &out->u.merged_block_meta_request.shuffle_id);
        proto_read_i32(&r, &out->u.merged_block_meta_request.shuffle_merge_id);
        proto_read_i32(&r, &out->u.merged_block_meta_request.reduce_id);
        break;
    case PROTO_MERGED_BLOCK_META_SUCCESS:
        proto_read_i64(&r, &out->u.merged_block_meta_success.request_id);
        proto_read_i32(&r, &out->u.merged_block_meta_success.num_chunks);
        read_rest(&r, &out->u.merged_block_meta_success.body);
        has_body = true;
        break;
    default:
        snprintf(err, errlen, "unknown message type %d", type);
        return -1;
    }
    if (!proto_reader_error(&r) && !has_body && proto_reader_remaining(&r) != 0)
        proto_reader_fail(&r, "trailing bytes after the message");
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "malformed %s (%zu bytes): %s", proto_msg_type_name(type), len,
                 proto_reader_error(&r));
        return -1;
    }
    return 0;
}

static size_t view_len(const struct proto_view *v)
{
    return 4 + (size_t)v->len;
}

size_t proto_msg_header_len(const struct proto_msg *m)
{
    size_t n = PROTO_FRAME_HEADER_LEN;
    switch (m->type) {
    case PROTO_CHUNK_FETCH_REQUEST:
    case PROTO_CHUNK_FETCH_SUCCESS:
        return n + 12;
    case PROTO_CHUNK_FETCH_FAILURE:
        return n + 12 + view_len(&m->u.chunk_fetch_failure.error);
    case PROTO_RPC_REQUEST:
    case PROTO_RPC_RESPONSE:
        return n + 12;
    case PROTO_RPC_FAILURE:
        return n + 8 + view_len(&m->u.rpc_failure.error);
    case PROTO_STREAM_REQUEST:
        return n + view_len(&m->u.stream_request.stream_id);
    case PROTO_STREAM_RESPONSE:
        return n + view_len(&m->u.stream_response.stream_id) + 8;
    case PROTO_STREAM_FAILURE:
        return n + view_len(&m->u.stream_failure.stream_id) + view_len(&m->u.stream_failure.error);
    case PROTO_ONE_WAY_MESSAGE:
        return n + 4;
    case PROTO_UPLOAD_STREAM:
        return n + 8 + view_len(&m->u.upload_stream.meta) + 8;
    case PROTO_MERGED_BLOCK_META_REQUEST:
        return n + 8 + view_len(&m->u.merged_block_meta_request.app_id) + 12;
    case PROTO_MERGED_BLOCK_META_SUCCESS:
        return n + 12;
    }
    return n;
}

static void write_view(struct proto_writer *w, const struct proto_view *v)
{
    proto_write_bytes(w, v->data, v->len);
}

/* Header fields after the type byte; body_len feeds the legacy length fields. */
static void write_fields(struct proto_writer *w, const struct proto_msg *m, uint64_t body_len)
{
    switch (m->type) {
    case PROTO_CHUNK_FETCH_REQUEST:
    case PROTO_CHUNK_FETCH_SUCCESS:
        proto_write_i64(w, m->u.chunk_fetch_request.stream_id);
        proto_write_i32(w, m->u.chunk_fetch_request.chunk_index);
        break;
    case PROTO_CHUNK_FETCH_FAILURE:
        proto_write_i64(w, m->u.chunk_fetch_failure.stream_id);
        proto_write_i32(w, m->u.chunk_fetch_failure.chunk_index);
        write_view(w, &m->u.chunk_fetch_failure.error);
        break;
    case PROTO_RPC_REQUEST:
    case PROTO_RPC_RESPONSE:
        proto_write_i64(w, m->u.rpc.request_id);
        proto_write_i32(w, (int32_t)body_len);
        break;
    case PROTO_RPC_FAILURE:
        proto_write_i64(w, m->u.rpc_failure.request_id);
        write_view(w, &m->u.rpc_failure.error);
        break;
    case PROTO_STREAM_REQUEST:
        write_view(w, &m->u.stream_request.stream_id);
        break;
    case PROTO_STREAM_RESPONSE:
        write_view(w, &m->u.stream_response.stream_id);
        proto_write_i64(w, m->u.stream_response.byte_count);
        break;
    case PROTO_STREAM_FAILURE:
        write_view(w, &m->u.stream_failure.stream_id);
        write_view(w, &m->u.stream_failure.error);
        break;
    case PROTO_ONE_WAY_MESSAGE:
        proto_write_i32(w, (int32_t)body_len);
        break;
    case PROTO_UPLOAD_STREAM:
        proto_write_i64(w, m->u.upload_stream.request_id);
        write_view(w, &m->u.upload_stream.meta);
        proto_write_i64(w, m->u.upload_stream.body_byte_count);
        break;
    case PROTO_MERGED_BLOCK_META_REQUEST:
        proto_write_i64(w, m->u.merged_block_meta_request.request_id);
        write_view(w, &m->u.merged_block_meta_request.app_id);
        proto_write_i32(w, m->u.merged_block_meta_request.shuffle_id);
        proto_write_i32(w, m->u.merged_block_meta_request.shuffle_merge_id);
        proto_write_i32(w, m->u.merged_block_meta_request.reduce_id);
        break;
    case PROTO_MERGED_BLOCK_META_SUCCESS:
        proto_write_i64(w, m->u.merged_block_meta_success.request_id);
        proto_write_i32(w, m->u.merged_block_meta_success.num_chunks);
        break;
    }
}

void proto_msg_encode_header(struct proto_writer *w, const struct proto_msg *m, uint64_t body_len)
{
    size_t header_len = proto_msg_header_len(m);
    if (!proto_writer_reserve(w, header_len))
        return;
    proto_write_i64(w, (int64_t)(header_len + body_len));
    proto_write_u8(w, (uint8_t)m->type);
    write_fields(w, m, body_len);
}

static const struct proto_view *in_frame_body(const struct proto_msg *m)
{
    switch (m->type) {
    case PROTO_CHUNK_FETCH_SUCCESS:
        return &m->u.chunk_fetch_success.body;
    case PROTO_RPC_REQUEST:
    case PROTO_RPC_RESPONSE:
        return &m->u.rpc.body;
    case PROTO_ONE_WAY_MESSAGE:
        return &m->u.one_way.body;
    case PROTO_MERGED_BLOCK_META_SUCCESS:
        return &m->u.merged_block_meta_success.body;
    default:
        return NULL;
    }
}

void proto_msg_encode(struct proto_writer *w, const struct proto_msg *m)
{
    const struct proto_view *body = in_frame_body(m);
    uint64_t body_len = body ? body->len : 0;
    proto_msg_encode_header(w, m, body_len);
    if (body && body->len)
        proto_write_raw(w, body->data, body->len);
}

/* Copies a view into buf as printable text, eliding long strings. */
static const char *printable(const struct proto_view *v, char *buf, size_t buflen)
{
    size_t n = 0;
    for (uint32_t i = 0; i < v->len && n + 4 < buflen; i++) {
        uint8_t c = v->data[i];
        buf[n++] = (c >= 32 && c < 127) ? (char)c : '?';
    }
    if (n < v->len && n >= 3)
        memcpy(buf + n - 3, "...", 3);
    buf[n] = '\0';
    return buf;
}

void proto_msg_describe(const struct proto_msg *m, char *buf, size_t buflen)
{
    char a[96], b[96];
    const char *name = proto_msg_type_name(m->type);
    switch (m->type) {
    case PROTO_CHUNK_FETCH_REQUEST:
        snprintf(buf, buflen, "%s streamId=%" PRId64 " chunkIndex=%d", name,
                 m->u.chunk_fetch_request.stream_id, m->u.chunk_fetch_request.chunk_index);
        break;
    case PROTO_CHUNK_FETCH_SUCCESS:
        snprintf(buf, buflen, "%s streamId=%" PRId64 " chunkIndex=%d body=%u bytes", name,
                 m->u.chunk_fetch_success.stream_id, m->u.chunk_fetch_success.chunk_index,
                 m->u.chunk_fetch_success.body.len);
        break;
    case PROTO_CHUNK_FETCH_FAILURE:
        snprintf(buf, buflen, "%s streamId=%" PRId64 " chunkIndex=%d error='%s'", name,
                 m->u.chunk_fetch_failure.stream_id, m->u.chunk_fetch_failure.chunk_index,
                 printable(&m->u.chunk_fetch_failure.error, a, sizeof(a)));
        break;
    case PROTO_RPC_REQUEST:
    case PROTO_RPC_RESPONSE:
        snprintf(buf, buflen, "%s requestId=%" PRId64 " body=%u bytes", name, m->u.rpc.request_id,
                 m->u.rpc.body.len);
        break;
    case PROTO_RPC_FAILURE:
        snprintf(buf, buflen, "%s requestId=%" PRId64 " error='%s'", name,
                 m->u.rpc_failure.request_id, printable(&m->u.rpc_failure.error, a, sizeof(a)));
        break;
    case PROTO_STREAM_REQUEST:
        snprintf(buf, buflen, "%s streamId='%s'", name,
                 printable(&m->u.stream_request.stream_id, a, sizeof(a)));
        break;
    case PROTO_STREAM_RESPONSE:
        snprintf(buf, buflen, "%s streamId='%s' byteCount=%" PRId64, name,
                 printable(&m->u.stream_response.stream_id, a, sizeof(a)),
                 m->u.stream_response.byte_count);
        break;
    case PROTO_STREAM_FAILURE:
        snprintf(buf, buflen, "%s streamId='%s' error='%s'", name,
                 printable(&m->u.stream_failure.stream_id, a, sizeof(a)),
                 printable(&m->u.stream_failure.error, b, sizeof(b)));
        break;
    case PROTO_ONE_WAY_MESSAGE:
        snprintf(buf, buflen, "%s body=%u bytes", name, m->u.one_way.body.len);
        break;
    case PROTO_UPLOAD_STREAM:
        snprintf(buf, buflen, "%s requestId=%" PRId64 " meta=%u bytes bodyByteCount=%" PRId64, name,
                 m->u.upload_stream.request_id, m->u.upload_stream.meta.len,
                 m->u.upload_stream.body_byte_count);
        break;
    case PROTO_MERGED_BLOCK_META_REQUEST:
        snprintf(buf, buflen,
                 "%s requestId=%" PRId64 " appId='%s' shuffleId=%d mergeId=%d reduceId=%d", name,
                 m->u.merged_block_meta_request.request_id,
                 printable(&m->u.merged_block_meta_request.app_id, a, sizeof(a)),
                 m->u.merged_block_meta_request.shuffle_id,
                 m->u.merged_block_meta_request.shuffle_merge_id,
                 m->u.merged_block_meta_request.reduce_id);
        break;
    case PROTO_MERGED_BLOCK_META_SUCCESS:
        snprintf(buf, buflen, "%s requestId=%" PRId64 " numChunks=%d body=%u bytes", name,
                 m->u.merged_block_meta_success.request_id,
                 m->u.merged_block_meta_success.num_chunks,
                 m->u.merged_block_meta_success.body.len);
        break;
    default:
        snprintf(buf, buflen, "%s(%d)", name, (int)m->type);
    }
}
