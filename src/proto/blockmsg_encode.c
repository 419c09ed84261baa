/* BlockTransferMessage encoders and Spark-style descriptions (spec section 8). */
#include "proto/blockmsg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

static void write_bitmaps(struct proto_writer *w, const struct proto_bytes *bitmaps, uint32_t n)
{
    proto_write_i32(w, (int32_t)n);
    for (uint32_t i = 0; i < n; i++)
        proto_write_raw(w, bitmaps[i].data, bitmaps[i].len); /* self-delimiting, no prefix */
}

void blockmsg_encode(struct proto_writer *w, const struct blockmsg *m)
{
    proto_write_u8(w, (uint8_t)m->type);
    switch (m->type) {
    case BLOCKMSG_OPEN_BLOCKS:
    case BLOCKMSG_REMOVE_BLOCKS:
        proto_write_proto_bytes(w, &m->u.open_blocks.app_id);
        proto_write_proto_bytes(w, &m->u.open_blocks.exec_id);
        proto_write_string_array(w, &m->u.open_blocks.block_ids);
        break;
    case BLOCKMSG_UPLOAD_BLOCK:
        proto_write_proto_bytes(w, &m->u.upload_block.app_id);
        proto_write_proto_bytes(w, &m->u.upload_block.exec_id);
        proto_write_proto_bytes(w, &m->u.upload_block.block_id);
        proto_write_proto_bytes(w, &m->u.upload_block.metadata);
        proto_write_proto_bytes(w, &m->u.upload_block.block_data);
        break;
    case BLOCKMSG_REGISTER_EXECUTOR:
        proto_write_proto_bytes(w, &m->u.register_executor.app_id);
        proto_write_proto_bytes(w, &m->u.register_executor.exec_id);
        proto_write_string_array(w, &m->u.register_executor.info.local_dirs);
        proto_write_i32(w, m->u.register_executor.info.sub_dirs_per_local_dir);
        proto_write_proto_bytes(w, &m->u.register_executor.info.shuffle_manager);
        break;
    case BLOCKMSG_STREAM_HANDLE:
        proto_write_i64(w, m->u.stream_handle.stream_id);
        proto_write_i32(w, m->u.stream_handle.num_chunks);
        break;
    case BLOCKMSG_REGISTER_DRIVER:
        proto_write_proto_bytes(w, &m->u.register_driver.app_id);
        proto_write_i64(w, m->u.register_driver.heartbeat_timeout_ms);
        break;
    case BLOCKMSG_SHUFFLE_SERVICE_HEARTBEAT:
        proto_write_proto_bytes(w, &m->u.heartbeat.app_id);
        break;
    case BLOCKMSG_UPLOAD_BLOCK_STREAM:
        proto_write_proto_bytes(w, &m->u.upload_block_stream.block_id);
        proto_write_proto_bytes(w, &m->u.upload_block_stream.metadata);
        break;
    case BLOCKMSG_BLOCKS_REMOVED:
        proto_write_i32(w, m->u.blocks_removed.num_removed_blocks);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS:
        proto_write_proto_bytes(w, &m->u.fetch_shuffle_blocks.app_id);
        proto_write_proto_bytes(w, &m->u.fetch_shuffle_blocks.exec_id);
        proto_write_i32(w, m->u.fetch_shuffle_blocks.shuffle_id);
        proto_write_long_array(w, &m->u.fetch_shuffle_blocks.map_ids);
        proto_write_int_matrix(w, &m->u.fetch_shuffle_blocks.reduce_ids);
        proto_write_bool(w, m->u.fetch_shuffle_blocks.batch_fetch_enabled);
        break;
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS:
        proto_write_proto_bytes(w, &m->u.get_local_dirs.app_id);
        proto_write_string_array(w, &m->u.get_local_dirs.exec_ids);
        break;
    case BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS:
        proto_write_string_array(w, &m->u.local_dirs.exec_ids);
        proto_write_int_array(w, &m->u.local_dirs.num_local_dirs_by_exec);
        proto_write_string_array(w, &m->u.local_dirs.all_local_dirs);
        break;
    case BLOCKMSG_PUSH_BLOCK_STREAM:
        proto_write_proto_bytes(w, &m->u.push_block_stream.app_id);
        if (m->u.push_block_stream.layout == BLOCKMSG_LAYOUT_32)
            proto_write_i32(w, m->u.push_block_stream.app_attempt_id);
        proto_write_i32(w, m->u.push_block_stream.shuffle_id);
        if (m->u.push_block_stream.layout == BLOCKMSG_LAYOUT_32)
            proto_write_i32(w, m->u.push_block_stream.shuffle_merge_id);
        proto_write_i32(w, m->u.push_block_stream.map_index);
        proto_write_i32(w, m->u.push_block_stream.reduce_id);
        proto_write_i32(w, m->u.push_block_stream.index);
        break;
    case BLOCKMSG_FINALIZE_SHUFFLE_MERGE:
        proto_write_proto_bytes(w, &m->u.finalize_shuffle_merge.app_id);
        if (m->u.finalize_shuffle_merge.layout == BLOCKMSG_LAYOUT_32)
            proto_write_i32(w, m->u.finalize_shuffle_merge.app_attempt_id);
        proto_write_i32(w, m->u.finalize_shuffle_merge.shuffle_id);
        if (m->u.finalize_shuffle_merge.layout == BLOCKMSG_LAYOUT_32)
            proto_write_i32(w, m->u.finalize_shuffle_merge.shuffle_merge_id);
        break;
    case BLOCKMSG_MERGE_STATUSES:
        proto_write_i32(w, m->u.merge_statuses.shuffle_id);
        if (m->u.merge_statuses.layout == BLOCKMSG_LAYOUT_32)
            proto_write_i32(w, m->u.merge_statuses.shuffle_merge_id);
        write_bitmaps(w, m->u.merge_statuses.bitmaps, m->u.merge_statuses.bitmap_count);
        proto_write_int_array(w, &m->u.merge_statuses.reduce_ids);
        proto_write_long_array(w, &m->u.merge_statuses.sizes);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS:
        proto_write_proto_bytes(w, &m->u.fetch_shuffle_block_chunks.app_id);
        proto_write_proto_bytes(w, &m->u.fetch_shuffle_block_chunks.exec_id);
        proto_write_i32(w, m->u.fetch_shuffle_block_chunks.shuffle_id);
        proto_write_i32(w, m->u.fetch_shuffle_block_chunks.shuffle_merge_id);
        proto_write_int_array(w, &m->u.fetch_shuffle_block_chunks.reduce_ids);
        proto_write_int_matrix(w, &m->u.fetch_shuffle_block_chunks.chunk_ids);
        break;
    case BLOCKMSG_DIAGNOSE_CORRUPTION:
        proto_write_proto_bytes(w, &m->u.diagnose_corruption.app_id);
        proto_write_proto_bytes(w, &m->u.diagnose_corruption.exec_id);
        proto_write_i32(w, m->u.diagnose_corruption.shuffle_id);
        proto_write_i64(w, m->u.diagnose_corruption.map_id);
        proto_write_i32(w, m->u.diagnose_corruption.reduce_id);
        proto_write_i64(w, m->u.diagnose_corruption.checksum);
        proto_write_proto_bytes(w, &m->u.diagnose_corruption.algorithm);
        break;
    case BLOCKMSG_CORRUPTION_CAUSE:
        proto_write_u8(w, m->u.corruption_cause.cause);
        break;
    case BLOCKMSG_BLOCK_PUSH_RETURN_CODE:
        proto_write_u8(w, m->u.block_push_return_code.return_code);
        proto_write_proto_bytes(w, &m->u.block_push_return_code.failure_block_id);
        break;
    case BLOCKMSG_REMOVE_SHUFFLE_MERGE:
        proto_write_proto_bytes(w, &m->u.remove_shuffle_merge.app_id);
        proto_write_i32(w, m->u.remove_shuffle_merge.app_attempt_id);
        proto_write_i32(w, m->u.remove_shuffle_merge.shuffle_id);
        proto_write_i32(w, m->u.remove_shuffle_merge.shuffle_merge_id);
        break;
    case BLOCKMSG_TYPE_COUNT:
        break;
    }
}

/* A bounded appender for descriptions: output is cut, never overrun. */
struct text {
    char *buf;
    size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void add(struct text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = (size_t)n < t->cap - t->len ? t->len + (size_t)n : t->cap - 1;
}

static void add_strings(struct text *t, const struct proto_string_array *a)
{
    add(t, "[");
    for (uint32_t i = 0; i < a->count; i++)
        add(t, "%s%s", i ? ", " : "", a->items[i].data);
    add(t, "]");
}

/* Spark's messages print as ClassName[field=value,...] (commons-lang short prefix style). */
void blockmsg_describe(const struct blockmsg *m, char *buf, size_t buflen)
{
    struct text t = {buf, buflen, 0};
    if (buflen == 0)
        return;
    buf[0] = '\0';
    add(&t, "%s[", blockmsg_type_name(m->type));
    switch (m->type) {
    case BLOCKMSG_OPEN_BLOCKS:
    case BLOCKMSG_REMOVE_BLOCKS:
        add(&t, "appId=%s,execId=%s,blockIds=", m->u.open_blocks.app_id.data,
            m->u.open_blocks.exec_id.data);
        add_strings(&t, &m->u.open_blocks.block_ids);
        break;
    case BLOCKMSG_UPLOAD_BLOCK:
        add(&t, "appId=%s,execId=%s,blockId=%s,metadata size=%u,block size=%u",
            m->u.upload_block.app_id.data, m->u.upload_block.exec_id.data,
            m->u.upload_block.block_id.data, m->u.upload_block.metadata.len,
            m->u.upload_block.block_data.len);
        break;
    case BLOCKMSG_REGISTER_EXECUTOR:
        add(&t, "appId=%s,execId=%s,executorInfo=ExecutorShuffleInfo[localDirs=",
            m->u.register_executor.app_id.data, m->u.register_executor.exec_id.data);
        add_strings(&t, &m->u.register_executor.info.local_dirs);
        add(&t, ",subDirsPerLocalDir=%d,shuffleManager=%s]",
            m->u.register_executor.info.sub_dirs_per_local_dir,
            m->u.register_executor.info.shuffle_manager.data);
        break;
    case BLOCKMSG_STREAM_HANDLE:
        add(&t, "streamId=%" PRId64 ",numChunks=%d", m->u.stream_handle.stream_id,
            m->u.stream_handle.num_chunks);
        break;
    case BLOCKMSG_REGISTER_DRIVER:
        add(&t, "appId=%s,heartbeatTimeoutMs=%" PRId64, m->u.register_driver.app_id.data,
            m->u.register_driver.heartbeat_timeout_ms);
        break;
    case BLOCKMSG_SHUFFLE_SERVICE_HEARTBEAT:
        add(&t, "appId=%s", m->u.heartbeat.app_id.data);
        break;
    case BLOCKMSG_UPLOAD_BLOCK_STREAM:
        add(&t, "blockId=%s,metadata size=%u", m->u.upload_block_stream.block_id.data,
            m->u.upload_block_stream.metadata.len);
        break;
    case BLOCKMSG_BLOCKS_REMOVED:
        add(&t, "numRemovedBlocks=%d", m->u.blocks_removed.num_removed_blocks);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS:
        add(&t, "appId=%s,execId=%s,shuffleId=%d,mapIds=[", m->u.fetch_shuffle_blocks.app_id.data,
            m->u.fetch_shuffle_blocks.exec_id.data, m->u.fetch_shuffle_blocks.shuffle_id);
        for (uint32_t i = 0; i < m->u.fetch_shuffle_blocks.map_ids.count; i++)
            add(&t, "%s%" PRId64, i ? ", " : "", m->u.fetch_shuffle_blocks.map_ids.items[i]);
        add(&t, "],reduceIds=[");
        for (uint32_t i = 0; i < m->u.fetch_shuffle_blocks.reduce_ids.count; i++) {
            const struct proto_int_array *row = &m->u.fetch_shuffle_blocks.reduce_ids.rows[i];
            add(&t, "%s[", i ? ", " : "");
            for (uint32_t j = 0; j < row->count; j++)
                add(&t, "%s%d", j ? ", " : "", row->items[j]);
            add(&t, "]");
        }
        add(&t, "],batchFetchEnabled=%s",
            m->u.fetch_shuffle_blocks.batch_fetch_enabled ? "true" : "false");
        break;
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS:
        add(&t, "appId=%s,execIds=", m->u.get_local_dirs.app_id.data);
        add_strings(&t, &m->u.get_local_dirs.exec_ids);
        break;
    case BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS:
        add(&t, "execIds=");
        add_strings(&t, &m->u.local_dirs.exec_ids);
        add(&t, ",allLocalDirs=");
        add_strings(&t, &m->u.local_dirs.all_local_dirs);
        break;
    case BLOCKMSG_PUSH_BLOCK_STREAM:
        add(&t, "appId=%s,shuffleId=%d,mapIndex=%d,reduceId=%d,index=%d",
            m->u.push_block_stream.app_id.data, m->u.push_block_stream.shuffle_id,
            m->u.push_block_stream.map_index, m->u.push_block_stream.reduce_id,
            m->u.push_block_stream.index);
        break;
    case BLOCKMSG_FINALIZE_SHUFFLE_MERGE:
        add(&t, "appId=%s,shuffleId=%d", m->u.finalize_shuffle_merge.app_id.data,
            m->u.finalize_shuffle_merge.shuffle_id);
        break;
    case BLOCKMSG_MERGE_STATUSES:
        add(&t, "shuffleId=%d,reduceId size=%u", m->u.merge_statuses.shuffle_id,
            m->u.merge_statuses.reduce_ids.count);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS:
        add(&t, "appId=%s,execId=%s,shuffleId=%d,shuffleMergeId=%d",
            m->u.fetch_shuffle_block_chunks.app_id.data,
            m->u.fetch_shuffle_block_chunks.exec_id.data,
            m->u.fetch_shuffle_block_chunks.shuffle_id,
            m->u.fetch_shuffle_block_chunks.shuffle_merge_id);
        break;
    case BLOCKMSG_DIAGNOSE_CORRUPTION:
        add(&t,
            "appId=%s,execId=%s,shuffleId=%d,mapId=%" PRId64 ",reduceId=%d,checksum=%" PRId64
            ",algorithm=%s",
            m->u.diagnose_corruption.app_id.data, m->u.diagnose_corruption.exec_id.data,
            m->u.diagnose_corruption.shuffle_id, m->u.diagnose_corruption.map_id,
            m->u.diagnose_corruption.reduce_id, m->u.diagnose_corruption.checksum,
            m->u.diagnose_corruption.algorithm.data);
        break;
    case BLOCKMSG_CORRUPTION_CAUSE:
        add(&t, "cause=%u", m->u.corruption_cause.cause);
        break;
    case BLOCKMSG_BLOCK_PUSH_RETURN_CODE:
        add(&t, "returnCode=%u,failureBlockId=%s", m->u.block_push_return_code.return_code,
            m->u.block_push_return_code.failure_block_id.data);
        break;
    case BLOCKMSG_REMOVE_SHUFFLE_MERGE:
        add(&t, "appId=%s,attemptId=%d,shuffleId=%d,shuffleMergeId=%d",
            m->u.remove_shuffle_merge.app_id.data, m->u.remove_shuffle_merge.app_attempt_id,
            m->u.remove_shuffle_merge.shuffle_id, m->u.remove_shuffle_merge.shuffle_merge_id);
        break;
    case BLOCKMSG_TYPE_COUNT:
        break;
    }
    add(&t, "]");
}
