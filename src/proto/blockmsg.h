/* SPDX-License-Identifier: Apache-2.0 */
/* Shuffle RPC bodies: Spark's BlockTransferMessage, types 0-19 (protocol.md 8).
 *
 * Ownership: a decoded blockmsg OWNS its memory (strings are NUL-terminated
 * copies); release it with blockmsg_free(). Encoders only read the struct. */
#ifndef SHUFFLED_PROTO_BLOCKMSG_H
#define SHUFFLED_PROTO_BLOCKMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

enum blockmsg_type {
    BLOCKMSG_OPEN_BLOCKS = 0,
    BLOCKMSG_UPLOAD_BLOCK = 1,
    BLOCKMSG_REGISTER_EXECUTOR = 2,
    BLOCKMSG_STREAM_HANDLE = 3,
    BLOCKMSG_REGISTER_DRIVER = 4,
    BLOCKMSG_SHUFFLE_SERVICE_HEARTBEAT = 5,
    BLOCKMSG_UPLOAD_BLOCK_STREAM = 6,
    BLOCKMSG_REMOVE_BLOCKS = 7,
    BLOCKMSG_BLOCKS_REMOVED = 8,
    BLOCKMSG_FETCH_SHUFFLE_BLOCKS = 9,
    BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS = 10,
    BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS = 11,
    BLOCKMSG_PUSH_BLOCK_STREAM = 12,
    BLOCKMSG_FINALIZE_SHUFFLE_MERGE = 13,
    BLOCKMSG_MERGE_STATUSES = 14,
    BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS = 15,
    BLOCKMSG_DIAGNOSE_CORRUPTION = 16,
    BLOCKMSG_CORRUPTION_CAUSE = 17,
    BLOCKMSG_BLOCK_PUSH_RETURN_CODE = 18,
    BLOCKMSG_REMOVE_SHUFFLE_MERGE = 19,
    BLOCKMSG_TYPE_COUNT
};

/* Push-based shuffle messages changed layout in 3.2 (protocol.md 8.13-8.15). */
enum blockmsg_layout { BLOCKMSG_LAYOUT_31 = 0, BLOCKMSG_LAYOUT_32 = 1 };

struct executor_shuffle_info {
    struct proto_string_array local_dirs;
    int32_t sub_dirs_per_local_dir;
    struct proto_bytes shuffle_manager;
};

struct blockmsg {
    enum blockmsg_type type;
    union {
        struct {
            struct proto_bytes app_id, exec_id;
            struct proto_string_array block_ids;
        } open_blocks, remove_blocks;
        struct {
            struct proto_bytes app_id, exec_id, block_id, metadata, block_data;
        } upload_block;
        struct {
            struct proto_bytes app_id, exec_id;
            struct executor_shuffle_info info;
        } register_executor;
        struct {
            int64_t stream_id;
            int32_t num_chunks;
        } stream_handle;
        struct {
            struct proto_bytes app_id;
            int64_t heartbeat_timeout_ms;
        } register_driver;
        struct {
            struct proto_bytes app_id;
        } heartbeat;
        struct {
            struct proto_bytes block_id, metadata;
        } upload_block_stream;
        struct {
            int32_t num_removed_blocks;
        } blocks_removed;
        struct {
            struct proto_bytes app_id, exec_id;
            int32_t shuffle_id;
            struct proto_long_array map_ids;
            struct proto_int_matrix reduce_ids; /* rows parallel to map_ids */
            bool batch_fetch_enabled;
        } fetch_shuffle_blocks;
        struct {
            struct proto_bytes app_id;
            struct proto_string_array exec_ids;
        } get_local_dirs;
        struct {
            struct proto_string_array exec_ids;
            struct proto_int_array num_local_dirs_by_exec;
            struct proto_string_array all_local_dirs;
        } local_dirs;
        struct {
            enum blockmsg_layout layout;
            struct proto_bytes app_id;
            int32_t app_attempt_id; /* 3.2+ only */
            int32_t shuffle_id;
            int32_t shuffle_merge_id; /* 3.2+ only */
            int32_t map_index, reduce_id, index;
        } push_block_stream;
        struct {
            enum blockmsg_layout layout;
            struct proto_bytes app_id;
            int32_t app_attempt_id; /* 3.2+ only */
            int32_t shuffle_id;
            int32_t shuffle_merge_id; /* 3.2+ only */
        } finalize_shuffle_merge;
        struct {
            enum blockmsg_layout layout;
            int32_t shuffle_id;
            int32_t shuffle_merge_id;    /* 3.2+ only */
            struct proto_bytes *bitmaps; /* raw portable RoaringBitmaps */
            uint32_t bitmap_count;
            struct proto_int_array reduce_ids;
            struct proto_long_array sizes;
        } merge_statuses;
        struct {
            struct proto_bytes app_id, exec_id;
            int32_t shuffle_id, shuffle_merge_id;
            struct proto_int_array reduce_ids;
            struct proto_int_matrix chunk_ids;
        } fetch_shuffle_block_chunks;
        struct {
            struct proto_bytes app_id, exec_id;
            int32_t shuffle_id;
            int64_t map_id;
            int32_t reduce_id;
            int64_t checksum;
            struct proto_bytes algorithm;
        } diagnose_corruption;
        struct {
            uint8_t cause;
        } corruption_cause;
        struct {
            uint8_t return_code;
            struct proto_bytes failure_block_id;
        } block_push_return_code;
        struct {
            struct proto_bytes app_id;
            int32_t app_attempt_id, shuffle_id, shuffle_merge_id;
        } remove_shuffle_merge;
    } u;
};

/* "OpenBlocks", "RegisterExecutor", ...; "Unknown" outside 0-19. */
const char *blockmsg_type_name(int type);

/* Decodes one message; trailing bytes are ignored, as Java does. Returns 0, or
 * -1 with err filled. An unknown type byte gives Spark's text
 * "Unknown message type: N"; a truncated field names the message and field. */
int blockmsg_decode(const uint8_t *buf, size_t len, struct blockmsg *out, char *err, size_t errlen);
/* Appends the encoding (type byte + fields) to w. */
void blockmsg_encode(struct proto_writer *w, const struct blockmsg *m);
/* Frees what a decode (or a caller using the proto_bytes helpers) allocated,
 * and zeroes the struct. Safe on a zeroed struct. */
void blockmsg_free(struct blockmsg *m);

/* The description of a type (proto/msgdesc.h: name, fields in wire order), for
 * tests and generic tools; NULL outside 0-19. */
struct msgdesc;
const struct msgdesc *blockmsg_desc(int type);

/* Spark's toString-like one-line description, used in error texts such as
 * "Unexpected message: UploadBlock[appId=app-1,execId=0,blockId=rdd_1_2,...]". */
void blockmsg_describe(const struct blockmsg *m, char *buf, size_t buflen);

#endif
