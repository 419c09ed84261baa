/* SPDX-License-Identifier: Apache-2.0 */
/* BlockTransferMessages (protocol.md 8): every type described once, and
 * decode, encode, free and describe driven by those descriptions.
 *
 * Each row: the code, Spark's class name and the fields in wire order, each
 * with the name Spark's toString prints (a field toString leaves out has none).
 * Push-based shuffle messages that grew fields in Spark 3.2 mark them EXT
 * (extended layout only) and name how the layout is told apart on decode
 * (msgdesc.h). The table is laid out by hand, one field a line. */
#include <config.h>

#include "proto/blockmsg.h"

#include <stdio.h>
#include <string.h>

#include "proto/msgdesc_codec.h"
#include "proto/msgdesc_describe.h"

/* The layout is stored as an enum blockmsg_layout and read by the engine as an int. */
_Static_assert(sizeof(enum blockmsg_layout) == sizeof(int), "layout is int-sized");
_Static_assert(BLOCKMSG_LAYOUT_31 == MSG_LAYOUT_BASE && BLOCKMSG_LAYOUT_32 == MSG_LAYOUT_EXTENDED,
               "layout values");

/* clang-format off */
#define AT(member) offsetof(struct blockmsg, u.member)
/* A field shown as label=value, as label=size, or not shown (no label). */
#define F(kind_, member, label_) {.label = label_, .kind = MSGF_##kind_, .offset = AT(member)}
#define SIZE_OF(kind_, member, label_) \
    {.label = label_, .kind = MSGF_##kind_, .show = MSG_SHOW_SIZE, .offset = AT(member)}
#define HIDDEN(kind_, member) {.kind = MSGF_##kind_, .offset = AT(member)}
#define EXT(kind_, member) {.kind = MSGF_##kind_, .flags = MSGF_EXTENDED_ONLY, .offset = AT(member)}
#define BITMAPS(member, count) {.kind = MSGF_BITMAPS, .offset = AT(member), .count_offset = AT(count)}
#define NESTED(member, label_, desc) \
    {.label = label_, .kind = MSGF_NESTED, .offset = AT(member), .nested = &(desc)}

#define ROW(code, spark_name, ...) \
    {.type = code, .name = spark_name, .size = sizeof(struct blockmsg), MSG_FIELDS(__VA_ARGS__)}
#define ROW_LAYOUTS(code, spark_name, rule, member, ...) \
    {.type = code, .name = spark_name, .size = sizeof(struct blockmsg), \
     .layout_rule = MSG_LAYOUT_##rule, .layout_offset = AT(member.layout), MSG_FIELDS(__VA_ARGS__)}

/* OpenBlocks and RemoveBlocks share their layout. */
#define BLOCK_IDS_FIELDS(msg) \
    F(BYTES,   msg.app_id,    "appId"), \
    F(BYTES,   msg.exec_id,   "execId"), \
    F(STRINGS, msg.block_ids, "blockIds")

#define INFO(kind_, member, label_) \
    {.label = label_, .kind = MSGF_##kind_, .offset = offsetof(struct executor_shuffle_info, member)}
static const struct msgdesc executor_shuffle_info = {
    .type = -1, .name = "ExecutorShuffleInfo", .size = sizeof(struct executor_shuffle_info),
    MSG_FIELDS(
        INFO(STRINGS, local_dirs,             "localDirs"),
        INFO(I32,     sub_dirs_per_local_dir, "subDirsPerLocalDir"),
        INFO(BYTES,   shuffle_manager,        "shuffleManager")),
};

static const struct msgdesc blockmsg_descs[BLOCKMSG_TYPE_COUNT] = {
    ROW(BLOCKMSG_OPEN_BLOCKS, "OpenBlocks", BLOCK_IDS_FIELDS(open_blocks)),
    ROW(BLOCKMSG_UPLOAD_BLOCK, "UploadBlock",
        F(BYTES,       upload_block.app_id,     "appId"),
        F(BYTES,       upload_block.exec_id,    "execId"),
        F(BYTES,       upload_block.block_id,   "blockId"),
        SIZE_OF(BYTES, upload_block.metadata,   "metadata size"),
        SIZE_OF(BYTES, upload_block.block_data, "block size")),
    ROW(BLOCKMSG_REGISTER_EXECUTOR, "RegisterExecutor",
        F(BYTES, register_executor.app_id,  "appId"),
        F(BYTES, register_executor.exec_id, "execId"),
        NESTED(register_executor.info, "executorInfo", executor_shuffle_info)),
    ROW(BLOCKMSG_STREAM_HANDLE, "StreamHandle",
        F(I64, stream_handle.stream_id,  "streamId"),
        F(I32, stream_handle.num_chunks, "numChunks")),
    ROW(BLOCKMSG_REGISTER_DRIVER, "RegisterDriver",
        F(BYTES, register_driver.app_id,               "appId"),
        F(I64,   register_driver.heartbeat_timeout_ms, "heartbeatTimeoutMs")),
    ROW(BLOCKMSG_SHUFFLE_SERVICE_HEARTBEAT, "ShuffleServiceHeartbeat",
        F(BYTES, heartbeat.app_id, "appId")),
    ROW(BLOCKMSG_UPLOAD_BLOCK_STREAM, "UploadBlockStream",
        F(BYTES,       upload_block_stream.block_id, "blockId"),
        SIZE_OF(BYTES, upload_block_stream.metadata, "metadata size")),
    ROW(BLOCKMSG_REMOVE_BLOCKS, "RemoveBlocks", BLOCK_IDS_FIELDS(remove_blocks)),
    ROW(BLOCKMSG_BLOCKS_REMOVED, "BlocksRemoved",
        F(I32, blocks_removed.num_removed_blocks, "numRemovedBlocks")),
    ROW(BLOCKMSG_FETCH_SHUFFLE_BLOCKS, "FetchShuffleBlocks",
        F(BYTES,      fetch_shuffle_blocks.app_id,              "appId"),
        F(BYTES,      fetch_shuffle_blocks.exec_id,             "execId"),
        F(I32,        fetch_shuffle_blocks.shuffle_id,          "shuffleId"),
        F(LONGS,      fetch_shuffle_blocks.map_ids,             "mapIds"),
        F(INT_MATRIX, fetch_shuffle_blocks.reduce_ids,          "reduceIds"),
        F(BOOL,       fetch_shuffle_blocks.batch_fetch_enabled, "batchFetchEnabled")),
    ROW(BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS, "GetLocalDirsForExecutors",
        F(BYTES,   get_local_dirs.app_id,   "appId"),
        F(STRINGS, get_local_dirs.exec_ids, "execIds")),
    ROW(BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS, "LocalDirsForExecutors",
        F(STRINGS,    local_dirs.exec_ids,               "execIds"),
        HIDDEN(INTS,  local_dirs.num_local_dirs_by_exec),
        F(STRINGS,    local_dirs.all_local_dirs,         "allLocalDirs")),
    ROW_LAYOUTS(BLOCKMSG_PUSH_BLOCK_STREAM, "PushBlockStream", BY_REMAINING, push_block_stream,
        F(BYTES,  push_block_stream.app_id,           "appId"),
        EXT(I32,  push_block_stream.app_attempt_id),
        F(I32,    push_block_stream.shuffle_id,       "shuffleId"),
        EXT(I32,  push_block_stream.shuffle_merge_id),
        F(I32,    push_block_stream.map_index,        "mapIndex"),
        F(I32,    push_block_stream.reduce_id,        "reduceId"),
        F(I32,    push_block_stream.index,            "index")),
    ROW_LAYOUTS(BLOCKMSG_FINALIZE_SHUFFLE_MERGE, "FinalizeShuffleMerge", BY_REMAINING,
                finalize_shuffle_merge,
        F(BYTES,  finalize_shuffle_merge.app_id,           "appId"),
        EXT(I32,  finalize_shuffle_merge.app_attempt_id),
        F(I32,    finalize_shuffle_merge.shuffle_id,       "shuffleId"),
        EXT(I32,  finalize_shuffle_merge.shuffle_merge_id)),
    /* 3.1 is tried first: it is right when it consumes the message exactly. */
    ROW_LAYOUTS(BLOCKMSG_MERGE_STATUSES, "MergeStatuses", BY_EXACT_FIT, merge_statuses,
        F(I32,         merge_statuses.shuffle_id,       "shuffleId"),
        EXT(I32,       merge_statuses.shuffle_merge_id),
        BITMAPS(       merge_statuses.bitmaps,          merge_statuses.bitmap_count),
        SIZE_OF(INTS,  merge_statuses.reduce_ids,       "reduceId size"),
        HIDDEN(LONGS,  merge_statuses.sizes)),
    ROW(BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS, "FetchShuffleBlockChunks",
        F(BYTES,           fetch_shuffle_block_chunks.app_id,           "appId"),
        F(BYTES,           fetch_shuffle_block_chunks.exec_id,          "execId"),
        F(I32,             fetch_shuffle_block_chunks.shuffle_id,       "shuffleId"),
        F(I32,             fetch_shuffle_block_chunks.shuffle_merge_id, "shuffleMergeId"),
        HIDDEN(INTS,       fetch_shuffle_block_chunks.reduce_ids),
        HIDDEN(INT_MATRIX, fetch_shuffle_block_chunks.chunk_ids)),
    ROW(BLOCKMSG_DIAGNOSE_CORRUPTION, "DiagnoseCorruption",
        F(BYTES, diagnose_corruption.app_id,     "appId"),
        F(BYTES, diagnose_corruption.exec_id,    "execId"),
        F(I32,   diagnose_corruption.shuffle_id, "shuffleId"),
        F(I64,   diagnose_corruption.map_id,     "mapId"),
        F(I32,   diagnose_corruption.reduce_id,  "reduceId"),
        F(I64,   diagnose_corruption.checksum,   "checksum"),
        F(BYTES, diagnose_corruption.algorithm,  "algorithm")),
    ROW(BLOCKMSG_CORRUPTION_CAUSE, "CorruptionCause",
        F(U8, corruption_cause.cause, "cause")),
    ROW(BLOCKMSG_BLOCK_PUSH_RETURN_CODE, "BlockPushReturnCode",
        F(U8,    block_push_return_code.return_code,      "returnCode"),
        F(BYTES, block_push_return_code.failure_block_id, "failureBlockId")),
    ROW(BLOCKMSG_REMOVE_SHUFFLE_MERGE, "RemoveShuffleMerge",
        F(BYTES, remove_shuffle_merge.app_id,           "appId"),
        F(I32,   remove_shuffle_merge.app_attempt_id,   "attemptId"),
        F(I32,   remove_shuffle_merge.shuffle_id,       "shuffleId"),
        F(I32,   remove_shuffle_merge.shuffle_merge_id, "shuffleMergeId")),
};
/* clang-format on */

static const struct msg_style blockmsg_style = {
    .open = "[", .first_sep = "", .sep = ",", .close = "]", .size_unit = ""};

/* The hot paths, one unrolled instance per row (msgdesc_codec.h). */
_Static_assert(BLOCKMSG_TYPE_COUNT <= MSG_MAX_TYPES, "extend MSG_CASES_0_TO_31");
#define ROW_OF(code) MSG_ROW(blockmsg_descs, BLOCKMSG_TYPE_COUNT, code)

static void decode_fields(int type, struct proto_reader *r, struct blockmsg *m)
{
#define DECODE(code) msgdesc_decode_row(ROW_OF(code), r, m)
    switch (type) {
        MSG_CASES_0_TO_31(BLOCKMSG_TYPE_COUNT, DECODE)
    }
}

static void encode_fields(int type, struct proto_writer *w, const struct blockmsg *m)
{
#define ENCODE(code) msgdesc_encode_row(ROW_OF(code), w, m, 0)
    switch (type) {
        MSG_CASES_0_TO_31(BLOCKMSG_TYPE_COUNT, ENCODE)
    }
}

static void free_fields(int type, struct blockmsg *m)
{
#define FREE(code) msgdesc_free_row(ROW_OF(code), m)
    switch (type) {
        MSG_CASES_0_TO_31(BLOCKMSG_TYPE_COUNT, FREE)
    }
}

const struct msgdesc *blockmsg_desc(int type)
{
    return (type >= 0 && type < BLOCKMSG_TYPE_COUNT) ? &blockmsg_descs[type] : NULL;
}

const char *blockmsg_type_name(int type)
{
    const struct msgdesc *d = blockmsg_desc(type);
    return d ? d->name : "Unknown";
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
    const struct msgdesc *d = blockmsg_desc(type);
    if (!d) {
        /* Java's byte is signed: 0xFF is reported as -1. */
        snprintf(err, errlen, "Unknown message type: %d", (int)(int8_t)type);
        return -1;
    }
    out->type = (enum blockmsg_type)type;
    decode_fields(type, &r, out);
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "malformed %s (%zu bytes): %s", d->name, len, proto_reader_error(&r));
        blockmsg_free(out);
        return -1;
    }
    return 0;
}

void blockmsg_encode(struct proto_writer *w, const struct blockmsg *m)
{
    proto_write_u8(w, (uint8_t)m->type);
    encode_fields((int)m->type, w, m);
}

void blockmsg_free(struct blockmsg *m)
{
    free_fields((int)m->type, m);
    memset(m, 0, sizeof(*m));
}

void blockmsg_describe(const struct blockmsg *m, char *buf, size_t buflen)
{
    static const struct msgdesc unknown = {.name = "Unknown"};
    const struct msgdesc *d = blockmsg_desc((int)m->type);
    struct msg_text t;
    msg_text_init(&t, buf, buflen);
    msgdesc_describe(d ? d : &unknown, &blockmsg_style, m, &t);
}
