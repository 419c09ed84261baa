#include "proto/blockmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[BLOCKMSG_TYPE_COUNT] = {
    "OpenBlocks",
    "UploadBlock",
    "RegisterExecutor",
    "StreamHandle",
    "RegisterDriver",
    "ShuffleServiceHeartbeat",
    "UploadBlockStream",
    "RemoveBlocks",
    "BlocksRemoved",
    "FetchShuffleBlocks",
    "GetLocalDirsForExecutors",
    "LocalDirsForExecutors",
    "PushBlockStream",
    "FinalizeShuffleMerge",
    "MergeStatuses",
    "FetchShuffleBlockChunks",
    "DiagnoseCorruption",
    "CorruptionCause",
    "BlockPushReturnCode",
    "RemoveShuffleMerge",
};

const char *blockmsg_type_name(int type)
{
    return (type >= 0 && type < BLOCKMSG_TYPE_COUNT) ? type_names[type] : "Unknown";
}

static void read_bitmaps(struct proto_reader *r, struct proto_bytes **out, uint32_t *count)
{
    int32_t n;
    *out = NULL;
    *count = 0;
    if (!proto_read_i32(r, &n))
        return;
    /* An empty bitmap is 8 bytes: bound the count by what is left. */
    if (n < 0 || (uint64_t)n * 8 > proto_reader_remaining(r)) {
        proto_reader_fail(r, "bitmap count negative or past end of message");
        return;
    }
    *out = calloc(n ? (size_t)n : 1, sizeof(**out));
    if (!*out) {
        proto_reader_fail(r, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n && proto_read_bitmap(r, &(*out)[i]); i++)
        *count = (uint32_t)i + 1;
}

/* 3.1 and 3.2 push messages differ only in extra int fields after the app id:
 * the 3.2 layout is chosen when the rest holds all of its ints. (A 3.1 message
 * with 8 or more trailing bytes would be misread; Spark never sends one.) */
static enum blockmsg_layout pick_layout(struct proto_reader *r, size_t ints_32)
{
    return proto_reader_remaining(r) >= ints_32 * 4 ? BLOCKMSG_LAYOUT_32 : BLOCKMSG_LAYOUT_31;
}

static void decode_merge_statuses(struct proto_reader *r, struct blockmsg *m)
{
    /* 3.1: shuffleId, Bitmap[] ... ; 3.2+: shuffleId, shuffleMergeId, Bitmap[] ...
     * Try 3.1 first; it is right when it consumes the message exactly. */
    struct proto_reader start = *r;
    for (int layout = BLOCKMSG_LAYOUT_31; layout <= BLOCKMSG_LAYOUT_32; layout++) {
        *r = start;
        memset(&m->u.merge_statuses, 0, sizeof(m->u.merge_statuses));
        m->u.merge_statuses.layout = (enum blockmsg_layout)layout;
        proto_read_i32(r, &m->u.merge_statuses.shuffle_id);
        if (layout == BLOCKMSG_LAYOUT_32)
            proto_read_i32(r, &m->u.merge_statuses.shuffle_merge_id);
        read_bitmaps(r, &m->u.merge_statuses.bitmaps, &m->u.merge_statuses.bitmap_count);
        proto_read_int_array(r, &m->u.merge_statuses.reduce_ids);
        proto_read_long_array(r, &m->u.merge_statuses.sizes);
        if (!proto_reader_error(r) &&
            (layout == BLOCKMSG_LAYOUT_32 || proto_reader_remaining(r) == 0))
            return;
        if (layout == BLOCKMSG_LAYOUT_31) {
            blockmsg_free(m);
            m->type = BLOCKMSG_MERGE_STATUSES;
        }
    }
}

static void decode_fields(struct proto_reader *r, struct blockmsg *m)
{
    switch (m->type) {
    case BLOCKMSG_OPEN_BLOCKS:
    case BLOCKMSG_REMOVE_BLOCKS:
        proto_read_bytes(r, &m->u.open_blocks.app_id);
        proto_read_bytes(r, &m->u.open_blocks.exec_id);
        proto_read_string_array(r, &m->u.open_blocks.block_ids);
        break;
    case BLOCKMSG_UPLOAD_BLOCK:
        proto_read_bytes(r, &m->u.upload_block.app_id);
        proto_read_bytes(r, &m->u.upload_block.exec_id);
        proto_read_bytes(r, &m->u.upload_block.block_id);
        proto_read_bytes(r, &m->u.upload_block.metadata);
        proto_read_bytes(r, &m->u.upload_block.block_data);
        break;
    case BLOCKMSG_REGISTER_EXECUTOR:
        proto_read_bytes(r, &m->u.register_executor.app_id);
        proto_read_bytes(r, &m->u.register_executor.exec_id);
        proto_read_string_array(r, &m->u.register_executor.info.local_dirs);
        proto_read_i32(r, &m->u.register_executor.info.sub_dirs_per_local_dir);
        proto_read_bytes(r, &m->u.register_executor.info.shuffle_manager);
        break;
    case BLOCKMSG_STREAM_HANDLE:
        proto_read_i64(r, &m->u.stream_handle.stream_id);
        proto_read_i32(r, &m->u.stream_handle.num_chunks);
        break;
    case BLOCKMSG_REGISTER_DRIVER:
        proto_read_bytes(r, &m->u.register_driver.app_id);
        proto_read_i64(r, &m->u.register_driver.heartbeat_timeout_ms);
        break;
    case BLOCKMSG_SHUFFLE_SERVICE_HEARTBEAT:
        proto_read_bytes(r, &m->u.heartbeat.app_id);
        break;
    case BLOCKMSG_UPLOAD_BLOCK_STREAM:
        proto_read_bytes(r, &m->u.upload_block_stream.block_id);
        proto_read_bytes(r, &m->u.upload_block_stream.metadata);
        break;
    case BLOCKMSG_BLOCKS_REMOVED:
        proto_read_i32(r, &m->u.blocks_removed.num_removed_blocks);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS:
        proto_read_bytes(r, &m->u.fetch_shuffle_blocks.app_id);
        proto_read_bytes(r, &m->u.fetch_shuffle_blocks.exec_id);
        proto_read_i32(r, &m->u.fetch_shuffle_blocks.shuffle_id);
        proto_read_long_array(r, &m->u.fetch_shuffle_blocks.map_ids);
        proto_read_int_matrix(r, &m->u.fetch_shuffle_blocks.reduce_ids);
        proto_read_bool(r, &m->u.fetch_shuffle_blocks.batch_fetch_enabled);
        break;
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS:
        proto_read_bytes(r, &m->u.get_local_dirs.app_id);
        proto_read_string_array(r, &m->u.get_local_dirs.exec_ids);
        break;
    case BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS:
        proto_read_string_array(r, &m->u.local_dirs.exec_ids);
        proto_read_int_array(r, &m->u.local_dirs.num_local_dirs_by_exec);
        proto_read_string_array(r, &m->u.local_dirs.all_local_dirs);
        break;
    case BLOCKMSG_PUSH_BLOCK_STREAM: {
        struct proto_bytes app;
        proto_read_bytes(r, &app);
        m->u.push_block_stream.app_id = app;
        m->u.push_block_stream.layout = pick_layout(r, 6);
        if (m->u.push_block_stream.layout == BLOCKMSG_LAYOUT_32)
            proto_read_i32(r, &m->u.push_block_stream.app_attempt_id);
        proto_read_i32(r, &m->u.push_block_stream.shuffle_id);
        if (m->u.push_block_stream.layout == BLOCKMSG_LAYOUT_32)
            proto_read_i32(r, &m->u.push_block_stream.shuffle_merge_id);
        proto_read_i32(r, &m->u.push_block_stream.map_index);
        proto_read_i32(r, &m->u.push_block_stream.reduce_id);
        proto_read_i32(r, &m->u.push_block_stream.index);
        break;
    }
    case BLOCKMSG_FINALIZE_SHUFFLE_MERGE:
        proto_read_bytes(r, &m->u.finalize_shuffle_merge.app_id);
        m->u.finalize_shuffle_merge.layout = pick_layout(r, 3);
        if (m->u.finalize_shuffle_merge.layout == BLOCKMSG_LAYOUT_32)
            proto_read_i32(r, &m->u.finalize_shuffle_merge.app_attempt_id);
        proto_read_i32(r, &m->u.finalize_shuffle_merge.shuffle_id);
        if (m->u.finalize_shuffle_merge.layout == BLOCKMSG_LAYOUT_32)
            proto_read_i32(r, &m->u.finalize_shuffle_merge.shuffle_merge_id);
        break;
    case BLOCKMSG_MERGE_STATUSES:
        decode_merge_statuses(r, m);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS:
        proto_read_bytes(r, &m->u.fetch_shuffle_block_chunks.app_id);
        proto_read_bytes(r, &m->u.fetch_shuffle_block_chunks.exec_id);
        proto_read_i32(r, &m->u.fetch_shuffle_block_chunks.shuffle_id);
        proto_read_i32(r, &m->u.fetch_shuffle_block_chunks.shuffle_merge_id);
        proto_read_int_array(r, &m->u.fetch_shuffle_block_chunks.reduce_ids);
        proto_read_int_matrix(r, &m->u.fetch_shuffle_block_chunks.chunk_ids);
        break;
    case BLOCKMSG_DIAGNOSE_CORRUPTION:
        proto_read_bytes(r, &m->u.diagnose_corruption.app_id);
        proto_read_bytes(r, &m->u.diagnose_corruption.exec_id);
        proto_read_i32(r, &m->u.diagnose_corruption.shuffle_id);
        proto_read_i64(r, &m->u.diagnose_corruption.map_id);
        proto_read_i32(r, &m->u.diagnose_corruption.reduce_id);
        proto_read_i64(r, &m->u.diagnose_corruption.checksum);
        proto_read_bytes(r, &m->u.diagnose_corruption.algorithm);
        break;
    case BLOCKMSG_CORRUPTION_CAUSE:
        proto_read_u8(r, &m->u.corruption_cause.cause);
        break;
    case BLOCKMSG_BLOCK_PUSH_RETURN_CODE:
        proto_read_u8(r, &m->u.block_push_return_code.return_code);
        proto_read_bytes(r, &m->u.block_push_return_code.failure_block_id);
        break;
    case BLOCKMSG_REMOVE_SHUFFLE_MERGE:
        proto_read_bytes(r, &m->u.remove_shuffle_merge.app_id);
        proto_read_i32(r, &m->u.remove_shuffle_merge.app_attempt_id);
        proto_read_i32(r, &m->u.remove_shuffle_merge.shuffle_id);
        proto_read_i32(r, &m->u.remove_shuffle_merge.shuffle_merge_id);
        break;
    case BLOCKMSG_TYPE_COUNT:
        break;
    }
}

int blockmsg_decode(const uint8_t *buf, size_t len, struct blockmsg *out, char *err, size_t errlen)
{
    struct proto_reader r;
    uint8_t type;
    memset(out, 0, sizeof(*out));
    proto_reader_init(&r, buf, len);
    if (!proto_read_u8(&r, &type)) {
        snprintf(err, errlen, "empty message: no BlockTransferMessage type byte");
        return -1;
    }
    if (type >= BLOCKMSG_TYPE_COUNT) {
        /* Java's byte is signed: 0xFF is reported as -1. */
        snprintf(err, errlen, "Unknown message type: %d", (int)(int8_t)type);
        return -1;
    }
    out->type = (enum blockmsg_type)type;
    decode_fields(&r, out);
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "malformed %s (%zu bytes): %s", blockmsg_type_name(type), len,
                 proto_reader_error(&r));
        blockmsg_free(out);
        return -1;
    }
    return 0;
}

void blockmsg_free(struct blockmsg *m)
{
    switch (m->type) {
    case BLOCKMSG_OPEN_BLOCKS:
    case BLOCKMSG_REMOVE_BLOCKS:
        proto_bytes_free(&m->u.open_blocks.app_id);
        proto_bytes_free(&m->u.open_blocks.exec_id);
        proto_string_array_free(&m->u.open_blocks.block_ids);
        break;
    case BLOCKMSG_UPLOAD_BLOCK:
        proto_bytes_free(&m->u.upload_block.app_id);
        proto_bytes_free(&m->u.upload_block.exec_id);
        proto_bytes_free(&m->u.upload_block.block_id);
        proto_bytes_free(&m->u.upload_block.metadata);
        proto_bytes_free(&m->u.upload_block.block_data);
        break;
    case BLOCKMSG_REGISTER_EXECUTOR:
        proto_bytes_free(&m->u.register_executor.app_id);
        proto_bytes_free(&m->u.register_executor.exec_id);
        proto_string_array_free(&m->u.register_executor.info.local_dirs);
        proto_bytes_free(&m->u.register_executor.info.shuffle_manager);
        break;
    case BLOCKMSG_REGISTER_DRIVER:
        proto_bytes_free(&m->u.register_driver.app_id);
        break;
    case BLOCKMSG_SHUFFLE_SERVICE_HEARTBEAT:
        proto_bytes_free(&m->u.heartbeat.app_id);
        break;
    case BLOCKMSG_UPLOAD_BLOCK_STREAM:
        proto_bytes_free(&m->u.upload_block_stream.block_id);
        proto_bytes_free(&m->u.upload_block_stream.metadata);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS:
        proto_bytes_free(&m->u.fetch_shuffle_blocks.app_id);
        proto_bytes_free(&m->u.fetch_shuffle_blocks.exec_id);
        proto_long_array_free(&m->u.fetch_shuffle_blocks.map_ids);
        proto_int_matrix_free(&m->u.fetch_shuffle_blocks.reduce_ids);
        break;
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS:
        proto_bytes_free(&m->u.get_local_dirs.app_id);
        proto_string_array_free(&m->u.get_local_dirs.exec_ids);
        break;
    case BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS:
        proto_string_array_free(&m->u.local_dirs.exec_ids);
        proto_int_array_free(&m->u.local_dirs.num_local_dirs_by_exec);
        proto_string_array_free(&m->u.local_dirs.all_local_dirs);
        break;
    case BLOCKMSG_PUSH_BLOCK_STREAM:
        proto_bytes_free(&m->u.push_block_stream.app_id);
        break;
    case BLOCKMSG_FINALIZE_SHUFFLE_MERGE:
        proto_bytes_free(&m->u.finalize_shuffle_merge.app_id);
        break;
    case BLOCKMSG_MERGE_STATUSES:
        for (uint32_t i = 0; i < m->u.merge_statuses.bitmap_count; i++)
            proto_bytes_free(&m->u.merge_statuses.bitmaps[i]);
        free(m->u.merge_statuses.bitmaps);
        proto_int_array_free(&m->u.merge_statuses.reduce_ids);
        proto_long_array_free(&m->u.merge_statuses.sizes);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS:
        proto_bytes_free(&m->u.fetch_shuffle_block_chunks.app_id);
        proto_bytes_free(&m->u.fetch_shuffle_block_chunks.exec_id);
        proto_int_array_free(&m->u.fetch_shuffle_block_chunks.reduce_ids);
        proto_int_matrix_free(&m->u.fetch_shuffle_block_chunks.chunk_ids);
        break;
    case BLOCKMSG_DIAGNOSE_CORRUPTION:
        proto_bytes_free(&m->u.diagnose_corruption.app_id);
        proto_bytes_free(&m->u.diagnose_corruption.exec_id);
        proto_bytes_free(&m->u.diagnose_corruption.algorithm);
        break;
    case BLOCKMSG_BLOCK_PUSH_RETURN_CODE:
        proto_bytes_free(&m->u.block_push_return_code.failure_block_id);
        break;
    case BLOCKMSG_REMOVE_SHUFFLE_MERGE:
        proto_bytes_free(&m->u.remove_shuffle_merge.app_id);
        break;
    case BLOCKMSG_STREAM_HANDLE:
    case BLOCKMSG_BLOCKS_REMOVED:
    case BLOCKMSG_CORRUPTION_CAUSE:
    case BLOCKMSG_TYPE_COUNT:
        break;
    }
    memset(m, 0, sizeof(*m));
}
