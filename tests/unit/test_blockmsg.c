/* SPDX-License-Identifier: Apache-2.0 */
/* Shuffle RPC bodies (protocol.md 8): the spec's dumps, round trips of all
 * 20 types with edge values, and malformed bodies. */
#include <config.h>

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blockmsg.h"
#include "test_util.h"

/* Decodes hex, re-encodes and compares; returns the decoded message. */
static void spec_round_trip(const char *hex, struct blockmsg *m)
{
    size_t len;
    char err[256];
    uint8_t *buf = test_hex(hex, &len);
    ck_assert_msg(blockmsg_decode(buf, len, m, err, sizeof(err)) == 0, "%s", err);
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, m);
    ck_assert_uint_eq(w.len, len);
    ck_assert_mem_eq(w.buf, buf, len);
    proto_writer_free(&w);
    free(buf);
}

START_TEST(spec_examples)
{
    struct blockmsg m;
    spec_round_trip(
        "00 00 00 00 05 61 70 70 2d 31 00 00 00 01 30 00 00 00 02 00 00 00 0d 73 68 75 "
        "66 66 6c 65 5f 30 5f 35 5f 31 00 00 00 0d 73 68 75 66 66 6c 65 5f 30 5f 35 5f 32",
        &m);
    ck_assert_int_eq(m.type, BLOCKMSG_OPEN_BLOCKS);
    ck_assert_str_eq(m.u.open_blocks.app_id.data, "app-1");
    ck_assert_uint_eq(m.u.open_blocks.block_ids.count, 2);
    ck_assert_str_eq(m.u.open_blocks.block_ids.items[1].data, "shuffle_0_5_2");
    blockmsg_free(&m);

    spec_round_trip("01 00 00 00 05 61 70 70 2d 31 00 00 00 01 30 00 00 00 07 72 64 64 5f 31 5f 32 "
                    "00 00 00 01 09 00 00 00 02 01 02",
                    &m);
    ck_assert_int_eq(m.type, BLOCKMSG_UPLOAD_BLOCK);
    ck_assert_uint_eq(m.u.upload_block.block_data.len, 2);
    char desc[256];
    blockmsg_describe(&m, desc, sizeof(desc));
    ck_assert_str_eq(desc, "UploadBlock[appId=app-1,execId=0,blockId=rdd_1_2,metadata size=1,"
                           "block size=2]");
    blockmsg_free(&m);

    spec_round_trip(
        "02 | 00 00 00 05 61 70 70 2d 31 | 00 00 00 01 30 | 00 00 00 01 00 00 00 07 2f "
        "74 6d 70 2f 6c 31 | 00 00 00 40 | 00 00 00 30 6f 72 67 2e 61 70 61 63 68 65 2e "
        "73 70 61 72 6b 2e 73 68 75 66 66 6c 65 2e 73 6f 72 74 2e 53 6f 72 74 53 68 75 66 "
        "66 6c 65 4d 61 6e 61 67 65 72",
        &m);
    ck_assert_int_eq(m.u.register_executor.info.sub_dirs_per_local_dir, 64);
    ck_assert_str_eq(m.u.register_executor.info.local_dirs.items[0].data, "/tmp/l1");
    ck_assert_str_eq(m.u.register_executor.info.shuffle_manager.data,
                     "org.apache.spark.shuffle.sort.SortShuffleManager");
    blockmsg_free(&m);

    spec_round_trip("03 00 00 00 00 00 0f 42 40 00 00 00 03", &m);
    ck_assert(m.u.stream_handle.stream_id == 1000000 && m.u.stream_handle.num_chunks == 3);
    spec_round_trip("04 00 00 00 05 61 70 70 2d 31 00 00 00 00 00 01 d4 c0", &m);
    ck_assert(m.u.register_driver.heartbeat_timeout_ms == 120000);
    blockmsg_free(&m);
    spec_round_trip("05 00 00 00 05 61 70 70 2d 31", &m);
    ck_assert_str_eq(m.u.heartbeat.app_id.data, "app-1");
    blockmsg_free(&m);
    spec_round_trip("06 00 00 00 07 72 64 64 5f 31 5f 32 00 00 00 02 09 09", &m);
    ck_assert_uint_eq(m.u.upload_block_stream.metadata.len, 2);
    blockmsg_free(&m);
    spec_round_trip("07 00 00 00 05 61 70 70 2d 31 00 00 00 01 30 00 00 00 01 00 00 00 07 72 64 64 "
                    "5f 31 5f 32",
                    &m);
    ck_assert_int_eq(m.type, BLOCKMSG_REMOVE_BLOCKS);
    ck_assert_str_eq(m.u.remove_blocks.block_ids.items[0].data, "rdd_1_2");
    blockmsg_free(&m);
    spec_round_trip("08 00 00 00 01", &m);
    ck_assert_int_eq(m.u.blocks_removed.num_removed_blocks, 1);

    spec_round_trip(
        "09 00 00 00 05 61 70 70 2d 31 00 00 00 01 30 00 00 00 00 00 00 00 02 00 00 00 "
        "00 00 00 00 05 00 00 00 00 00 00 00 07 00 00 00 02 00 00 00 02 00 00 00 01 00 00 "
        "00 02 00 00 00 01 00 00 00 03 00",
        &m);
    ck_assert_uint_eq(m.u.fetch_shuffle_blocks.map_ids.count, 2);
    ck_assert(m.u.fetch_shuffle_blocks.map_ids.items[1] == 7);
    ck_assert_uint_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[0].count, 2);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[1].items[0], 3);
    ck_assert(!m.u.fetch_shuffle_blocks.batch_fetch_enabled);
    blockmsg_free(&m);
    spec_round_trip("09 00 00 00 05 61 70 70 2d 31 00 00 00 01 30 00 00 00 00 00 00 00 01 00 00 00 "
                    "00 00 00 00 05 00 00 00 01 00 00 00 02 00 00 00 00 00 00 00 03 01",
                    &m);
    ck_assert(m.u.fetch_shuffle_blocks.batch_fetch_enabled);
    blockmsg_free(&m);

    spec_round_trip("0a 00 00 00 05 61 70 70 2d 31 00 00 00 02 00 00 00 01 30 00 00 00 01 31", &m);
    ck_assert_uint_eq(m.u.get_local_dirs.exec_ids.count, 2);
    blockmsg_free(&m);
    spec_round_trip(
        "0b 00 00 00 02 00 00 00 01 30 00 00 00 01 31 | 00 00 00 02 00 00 00 02 00 00 00 "
        "01 | 00 00 00 03 00 00 00 02 2f 61 00 00 00 02 2f 62 00 00 00 02 2f 63",
        &m);
    ck_assert_uint_eq(m.u.local_dirs.all_local_dirs.count, 3);
    ck_assert_int_eq(m.u.local_dirs.num_local_dirs_by_exec.items[0], 2);
    blockmsg_free(&m);

    spec_round_trip("0c 00 00 00 05 61 70 70 2d 31 00 00 00 00 00 00 00 05 00 00 00 02 00 00 00 00",
                    &m);
    ck_assert_int_eq(m.u.push_block_stream.layout, BLOCKMSG_LAYOUT_31);
    ck_assert_int_eq(m.u.push_block_stream.map_index, 5);
    ck_assert_int_eq(m.u.push_block_stream.reduce_id, 2);
    blockmsg_free(&m);
    spec_round_trip("0d 00 00 00 05 61 70 70 2d 31 00 00 00 00", &m);
    ck_assert_int_eq(m.u.finalize_shuffle_merge.layout, BLOCKMSG_LAYOUT_31);
    blockmsg_free(&m);

    spec_round_trip(
        "0e 00 00 00 00 | 00 00 00 01 | 3a 30 00 00 01 00 00 00 00 00 02 00 10 00 00 00 "
        "01 00 03 00 05 00 | 00 00 00 01 00 00 00 02 | 00 00 00 01 00 00 00 00 00 00 04 00",
        &m);
    ck_assert_int_eq(m.u.merge_statuses.layout, BLOCKMSG_LAYOUT_31);
    ck_assert_uint_eq(m.u.merge_statuses.bitmap_count, 1);
    ck_assert_uint_eq(m.u.merge_statuses.bitmaps[0].len, 22);
    ck_assert_int_eq(m.u.merge_statuses.reduce_ids.items[0], 2);
    ck_assert(m.u.merge_statuses.sizes.items[0] == 1024);
    blockmsg_free(&m);
}
END_TEST

static struct proto_bytes str(const char *s)
{
    struct proto_bytes b;
    proto_bytes_set_str(&b, s);
    return b;
}

static struct proto_string_array strs(int n, const char *s)
{
    struct proto_string_array a = {calloc((size_t)n + 1, sizeof(struct proto_bytes)), (uint32_t)n};
    for (int i = 0; i < n; i++)
        a.items[i] = str(i % 2 ? "" : s);
    return a;
}

static struct proto_int_array ints(int n)
{
    struct proto_int_array a = {malloc(((size_t)n + 1) * sizeof(int32_t)), (uint32_t)n};
    for (int i = 0; i < n; i++)
        a.items[i] = i % 2 ? INT32_MAX : INT32_MIN + i;
    return a;
}

static struct proto_long_array longs(int n)
{
    struct proto_long_array a = {malloc(((size_t)n + 1) * sizeof(int64_t)), (uint32_t)n};
    for (int i = 0; i < n; i++)
        a.items[i] = i % 2 ? INT64_MAX : INT64_MIN;
    return a;
}

static struct proto_int_matrix matrix(int n)
{
    struct proto_int_matrix m = {calloc((size_t)n + 1, sizeof(struct proto_int_array)),
                                 (uint32_t)n};
    for (int i = 0; i < n; i++)
        m.rows[i] = ints(i);
    return m;
}

/* One message of each type, with empty, maximal and non-ASCII values. */
static void build(int type, struct blockmsg *m)
{
    static const char *u = "app-\xe2\x82\xac\xf0\x9f\x98\x80"; /* non-ASCII, 4-byte UTF-8 too */
    memset(m, 0, sizeof(*m));
    m->type = (enum blockmsg_type)type;
    switch (type) {
    case BLOCKMSG_OPEN_BLOCKS:
    case BLOCKMSG_REMOVE_BLOCKS:
        m->u.open_blocks.app_id = str(u);
        m->u.open_blocks.exec_id = str("");
        m->u.open_blocks.block_ids = strs(3, "shuffle_0_1_2");
        break;
    case BLOCKMSG_UPLOAD_BLOCK:
        m->u.upload_block.app_id = str(u);
        m->u.upload_block.exec_id = str("1");
        m->u.upload_block.block_id = str("rdd_1_2");
        m->u.upload_block.metadata = str("");
        proto_bytes_set(&m->u.upload_block.block_data, "\0\xff\0", 3);
        break;
    case BLOCKMSG_REGISTER_EXECUTOR:
        m->u.register_executor.app_id = str(u);
        m->u.register_executor.exec_id = str("2147483647");
        m->u.register_executor.info.local_dirs = strs(0, "");
        m->u.register_executor.info.sub_dirs_per_local_dir = INT32_MAX;
        m->u.register_executor.info.shuffle_manager = str(u);
        break;
    case BLOCKMSG_STREAM_HANDLE:
        m->u.stream_handle.stream_id = INT64_MAX;
        m->u.stream_handle.num_chunks = INT32_MAX;
        break;
    case BLOCKMSG_REGISTER_DRIVER:
        m->u.register_driver.app_id = str("");
        m->u.register_driver.heartbeat_timeout_ms = INT64_MIN;
        break;
    case BLOCKMSG_SHUFFLE_SERVICE_HEARTBEAT:
        m->u.heartbeat.app_id = str(u);
        break;
    case BLOCKMSG_UPLOAD_BLOCK_STREAM:
        m->u.upload_block_stream.block_id = str(u);
        m->u.upload_block_stream.metadata = str("meta");
        break;
    case BLOCKMSG_BLOCKS_REMOVED:
        m->u.blocks_removed.num_removed_blocks = INT32_MIN;
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS:
        m->u.fetch_shuffle_blocks.app_id = str(u);
        m->u.fetch_shuffle_blocks.exec_id = str("7");
        m->u.fetch_shuffle_blocks.shuffle_id = INT32_MAX;
        m->u.fetch_shuffle_blocks.map_ids = longs(3);
        m->u.fetch_shuffle_blocks.reduce_ids = matrix(3);
        m->u.fetch_shuffle_blocks.batch_fetch_enabled = true;
        break;
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS:
        m->u.get_local_dirs.app_id = str(u);
        m->u.get_local_dirs.exec_ids = strs(2, "1");
        break;
    case BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS:
        m->u.local_dirs.exec_ids = strs(2, "1");
        m->u.local_dirs.num_local_dirs_by_exec = ints(2);
        m->u.local_dirs.all_local_dirs = strs(4, "/d\xc3\xa9");
        break;
    case BLOCKMSG_PUSH_BLOCK_STREAM:
        m->u.push_block_stream.layout = BLOCKMSG_LAYOUT_32;
        m->u.push_block_stream.app_id = str(u);
        m->u.push_block_stream.app_attempt_id = -1;
        m->u.push_block_stream.shuffle_id = 1;
        m->u.push_block_stream.shuffle_merge_id = INT32_MAX;
        m->u.push_block_stream.map_index = 3;
        m->u.push_block_stream.reduce_id = 4;
        m->u.push_block_stream.index = 5;
        break;
    case BLOCKMSG_FINALIZE_SHUFFLE_MERGE:
        m->u.finalize_shuffle_merge.layout = BLOCKMSG_LAYOUT_32;
        m->u.finalize_shuffle_merge.app_id = str(u);
        m->u.finalize_shuffle_merge.app_attempt_id = 2;
        m->u.finalize_shuffle_merge.shuffle_id = 3;
        m->u.finalize_shuffle_merge.shuffle_merge_id = 4;
        break;
    case BLOCKMSG_MERGE_STATUSES: {
        size_t len;
        uint8_t *bm = test_hex("3b300000 01 00000900 0100 0000 0900", &len);
        m->u.merge_statuses.layout = BLOCKMSG_LAYOUT_32;
        m->u.merge_statuses.shuffle_id = 9;
        m->u.merge_statuses.shuffle_merge_id = 1;
        m->u.merge_statuses.bitmaps = calloc(2, sizeof(struct proto_bytes));
        proto_bytes_set(&m->u.merge_statuses.bitmaps[0], bm, len);
        proto_bytes_set(&m->u.merge_statuses.bitmaps[1], "\x3a\x30\0\0\0\0\0\0", 8);
        m->u.merge_statuses.bitmap_count = 2;
        m->u.merge_statuses.reduce_ids = ints(2);
        m->u.merge_statuses.sizes = longs(2);
        free(bm);
        break;
    }
    case BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS:
        m->u.fetch_shuffle_block_chunks.app_id = str(u);
        m->u.fetch_shuffle_block_chunks.exec_id = str("1");
        m->u.fetch_shuffle_block_chunks.shuffle_id = 2;
        m->u.fetch_shuffle_block_chunks.shuffle_merge_id = 3;
        m->u.fetch_shuffle_block_chunks.reduce_ids = ints(2);
        m->u.fetch_shuffle_block_chunks.chunk_ids = matrix(2);
        break;
    case BLOCKMSG_DIAGNOSE_CORRUPTION:
        m->u.diagnose_corruption.app_id = str(u);
        m->u.diagnose_corruption.exec_id = str("1");
        m->u.diagnose_corruption.shuffle_id = 1;
        m->u.diagnose_corruption.map_id = INT64_MAX;
        m->u.diagnose_corruption.reduce_id = 0;
        m->u.diagnose_corruption.checksum = -42;
        m->u.diagnose_corruption.algorithm = str("ADLER32");
        break;
    case BLOCKMSG_CORRUPTION_CAUSE:
        m->u.corruption_cause.cause = 4;
        break;
    case BLOCKMSG_BLOCK_PUSH_RETURN_CODE:
        m->u.block_push_return_code.return_code = 3;
        m->u.block_push_return_code.failure_block_id = str("");
        break;
    case BLOCKMSG_REMOVE_SHUFFLE_MERGE:
        m->u.remove_shuffle_merge.app_id = str(u);
        m->u.remove_shuffle_merge.app_attempt_id = 1;
        m->u.remove_shuffle_merge.shuffle_id = 2;
        m->u.remove_shuffle_merge.shuffle_merge_id = -1;
        break;
    }
}

START_TEST(every_type_round_trips_and_truncation_fails)
{
    for (int t = 0; t < BLOCKMSG_TYPE_COUNT; t++) {
        struct blockmsg m, back;
        struct proto_writer w, w2;
        char err[256], desc[512];
        build(t, &m);
        proto_writer_init(&w);
        proto_writer_init(&w2);
        blockmsg_encode(&w, &m);
        ck_assert(!w.failed);
        ck_assert_int_eq(w.buf[0], t);
        ck_assert_msg(blockmsg_decode(w.buf, w.len, &back, err, sizeof(err)) == 0, "%s: %s",
                      blockmsg_type_name(t), err);
        ck_assert_int_eq(back.type, t);
        blockmsg_encode(&w2, &back);
        ck_assert_uint_eq(w2.len, w.len);
        ck_assert_msg(memcmp(w2.buf, w.buf, w.len) == 0, "%s differs", blockmsg_type_name(t));
        blockmsg_describe(&back, desc, sizeof(desc));
        ck_assert_msg(strncmp(desc, blockmsg_type_name(t), strlen(blockmsg_type_name(t))) == 0,
                      "%s", desc);
        /* Every strict prefix is rejected, except where the shorter 3.1 layout of
         * a push message is itself complete. */
        bool has_31_layout = t == BLOCKMSG_PUSH_BLOCK_STREAM ||
                             t == BLOCKMSG_FINALIZE_SHUFFLE_MERGE || t == BLOCKMSG_MERGE_STATUSES;
        for (size_t cut = 0; cut < w.len && !has_31_layout; cut++) {
            struct blockmsg part;
            ck_assert_msg(blockmsg_decode(w.buf, cut, &part, err, sizeof(err)) == -1,
                          "%s cut at %zu decoded", blockmsg_type_name(t), cut);
            ck_assert_ptr_nonnull(strstr(err, cut ? blockmsg_type_name(t) : "empty message"));
        }
        /* Trailing bytes are ignored, as Java does (3.1-layout types excluded). */
        if (!has_31_layout) {
            struct blockmsg extra;
            proto_write_raw(&w, "\x01\x02", 2);
            ck_assert_int_eq(blockmsg_decode(w.buf, w.len, &extra, err, sizeof(err)), 0);
            blockmsg_free(&extra);
        }
        blockmsg_free(&m);
        blockmsg_free(&back);
        proto_writer_free(&w);
        proto_writer_free(&w2);
    }
}
END_TEST

START_TEST(unknown_types_are_named_like_spark)
{
    const uint8_t twenty[] = {20, 0, 0};
    const uint8_t minus_one[] = {0xff};
    struct blockmsg m;
    char err[128];
    ck_assert_int_eq(blockmsg_decode(twenty, sizeof(twenty), &m, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Unknown message type: 20");
    ck_assert_int_eq(blockmsg_decode(minus_one, 1, &m, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Unknown message type: -1");
    ck_assert_int_eq(blockmsg_decode(twenty, 0, &m, err, sizeof(err)), -1);
    ck_assert_str_eq(blockmsg_type_name(19), "RemoveShuffleMerge");
    ck_assert_str_eq(blockmsg_type_name(20), "Unknown");
}
END_TEST

START_TEST(hostile_counts_fail_without_huge_allocations)
{
    /* OpenBlocks announcing 2^30 block ids in a 20-byte body; FetchShuffleBlocks
     * with a negative map count; MergeStatuses with a bad bitmap. */
    const char *bodies[] = {
        "00 00000001 61 00000001 30 40000000 00000001",
        "09 00000001 61 00000001 30 00000000 ffffffff",
        "09 00000001 61 00000001 30 00000000 00000001 0000000000000005 7fffffff",
        "0e 00000000 00000001 3c300000 00000000 00000000 00000000",
        "02 00000001 61 00000001 30 00000001 00000005 2f746d70",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        size_t len;
        uint8_t *buf = test_hex(bodies[i], &len);
        struct blockmsg m;
        char err[256] = "";
        ck_assert_msg(blockmsg_decode(buf, len, &m, err, sizeof(err)) == -1, "body %zu decoded", i);
        ck_assert_ptr_nonnull(strstr(err, "malformed"));
        free(buf);
    }
}
END_TEST

CHECK_MAIN((.suite = "blockmsg", .name = "blockmsg"), spec_examples,
           every_type_round_trips_and_truncation_fails, unknown_types_are_named_like_spark,
           hostile_counts_fail_without_huge_allocations)
