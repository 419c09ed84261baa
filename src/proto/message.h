/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's network-common (transport) messages: protocol.md 1.1 and 4.
 *
 * Ownership: a decoded proto_msg BORROWS the frame content it was decoded
 * from (strings, bodies and metadata point into it). It stays valid only as
 * long as that buffer does; it holds no heap memory and needs no free. */
#ifndef SHUFFLED_PROTO_MESSAGE_H
#define SHUFFLED_PROTO_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

enum proto_msg_type {
    PROTO_CHUNK_FETCH_REQUEST = 0,
    PROTO_CHUNK_FETCH_SUCCESS = 1,
    PROTO_CHUNK_FETCH_FAILURE = 2,
    PROTO_RPC_REQUEST = 3,
    PROTO_RPC_RESPONSE = 4,
    PROTO_RPC_FAILURE = 5,
    PROTO_STREAM_REQUEST = 6,
    PROTO_STREAM_RESPONSE = 7,
    PROTO_STREAM_FAILURE = 8,
    PROTO_ONE_WAY_MESSAGE = 9,
    PROTO_UPLOAD_STREAM = 10,
    PROTO_MERGED_BLOCK_META_REQUEST = 11,
    PROTO_MERGED_BLOCK_META_SUCCESS = 12,
};

/* Frame header: i64 frameLen + u8 type. */
#define PROTO_FRAME_HEADER_LEN 9
/* Largest frameLen - 8 Java's decoder accepts (protocol.md 3.1). */
#define PROTO_MAX_FRAME_CONTENT 2147483646ULL

struct proto_msg {
    enum proto_msg_type type;
    union {
        struct {
            int64_t stream_id;
            int32_t chunk_index;
        } chunk_fetch_request, chunk_fetch_success_hdr;
        struct {
            int64_t stream_id;
            int32_t chunk_index;
            struct proto_view body; /* in-frame chunk bytes */
        } chunk_fetch_success;
        struct {
            int64_t stream_id;
            int32_t chunk_index;
            struct proto_view error;
        } chunk_fetch_failure;
        struct {
            int64_t request_id;
            struct proto_view body; /* RpcRequest and RpcResponse */
        } rpc;
        struct {
            int64_t request_id;
            struct proto_view error;
        } rpc_failure;
        struct {
            struct proto_view stream_id;
        } stream_request;
        struct {
            struct proto_view stream_id;
            int64_t byte_count; /* bytes that follow the frame */
        } stream_response;
        struct {
            struct proto_view stream_id;
            struct proto_view error;
        } stream_failure;
        struct {
            struct proto_view body;
        } one_way;
        struct {
            int64_t request_id;
            struct proto_view meta;
            int64_t body_byte_count; /* bytes that follow the frame */
        } upload_stream;
        struct {
            int64_t request_id;
            struct proto_view app_id;
            int32_t shuffle_id;
            int32_t shuffle_merge_id;
            int32_t reduce_id;
        } merged_block_meta_request;
        struct {
            int64_t request_id;
            int32_t num_chunks;
            struct proto_view body; /* numChunks bitmaps back to back */
        } merged_block_meta_success;
    } u;
};

#define PROTO_MSG_TYPE_COUNT (PROTO_MERGED_BLOCK_META_SUCCESS + 1)

const char *proto_msg_type_name(int type); /* "ChunkFetchRequest", ..., "Unknown" */
bool proto_msg_type_is_known(int type);

/* Decodes the content of one frame (everything after the 8-byte length and the
 * type byte). Returns 0, or -1 with a message in err (e.g. "RpcFailure: error
 * string length 900 past end of frame (12 bytes left)"). Trailing bytes after
 * the header of a message without an in-frame body are an error. */
int proto_msg_decode(int type, const uint8_t *content, size_t len, struct proto_msg *out, char *err,
                     size_t errlen);

/* Size of the header (length + type + fixed fields) that proto_msg_encode_header
 * writes for m; the in-frame body is not included. */
size_t proto_msg_header_len(const struct proto_msg *m);

/* Writes the whole frame of m, including its in-frame body (ChunkFetchSuccess,
 * RpcRequest/Response, OneWayMessage, MergedBlockMetaSuccess). The after-frame
 * data of StreamResponse/UploadStream is not written (it is not part of the frame). */
void proto_msg_encode(struct proto_writer *w, const struct proto_msg *m);

/* Writes only the frame header of a body-carrying message whose body_len bytes
 * the caller sends right after (e.g. with sendfile); frameLen and the legacy
 * bodyLen include body_len. The body view in m is ignored. */
void proto_msg_encode_header(struct proto_writer *w, const struct proto_msg *m, uint64_t body_len);

/* The description of a type (proto/msgdesc.h: name, fields in wire order), for
 * tests and generic tools; NULL for an unknown type. */
struct msgdesc;
const struct msgdesc *proto_msg_desc(int type);

/* Short human-readable one-line description for logs and test listings. */
void proto_msg_describe(const struct proto_msg *m, char *buf, size_t buflen);

#endif
