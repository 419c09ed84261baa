/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's FetchShuffleBlocks building rules (protocol.md 11.1): grouping by map id in
 * first-appearance order, the chunk order that follows, batch ranges, and the
 * local errors for mixed shuffle ids and malformed ids. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "client/blockids.h"
#include "proto/blockmsg.h"
#include "proto/codec.h"
#include "../check_main.h"

START_TEST(test_groups_by_map_in_first_appearance_order)
{
    const char *ids[] = {"shuffle_0_5_1", "shuffle_0_7_3", "shuffle_0_5_2"};
    struct blockmsg m;
    size_t order[3];
    char err[200];
    ck_assert_int_eq(blockids_plan_fetch_shuffle("app-1", "0", ids, 3, &m, order, err, sizeof(err)),
                     0);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.map_ids.count, 2);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.map_ids.items[0], 5);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.map_ids.items[1], 7);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[0].count, 2);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[0].items[0], 1);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[0].items[1], 2);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[1].items[0], 3);
    ck_assert(!m.u.fetch_shuffle_blocks.batch_fetch_enabled);
    ck_assert_uint_eq(order[0], 0);
    ck_assert_uint_eq(order[1], 2);
    ck_assert_uint_eq(order[2], 1);
    /* the spec's example encodes to its exact 64 bytes (protocol.md 8.10) */
    const char *ids2[] = {"shuffle_0_5_1", "shuffle_0_5_2", "shuffle_0_7_3"};
    struct blockmsg m2;
    ck_assert_int_eq(
        blockids_plan_fetch_shuffle("app-1", "0", ids2, 3, &m2, order, err, sizeof(err)), 0);
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &m2);
    static const uint8_t want[] = {0x09, 0, 0, 0, 5, 'a', 'p', 'p', '-', '1', 0, 0, 0, 1, '0', 0,
                                   0,    0, 0, 0, 0, 0,   2,   0,   0,   0,   0, 0, 0, 0, 5,   0,
                                   0,    0, 0, 0, 0, 0,   7,   0,   0,   0,   2, 0, 0, 0, 2,   0,
                                   0,    0, 1, 0, 0, 0,   2,   0,   0,   0,   1, 0, 0, 0, 3,   0};
    ck_assert_uint_eq(w.len, sizeof(want));
    ck_assert(memcmp(w.buf, want, sizeof(want)) == 0);
    proto_writer_free(&w);
    blockmsg_free(&m);
    blockmsg_free(&m2);
}
END_TEST

START_TEST(test_batch_ranges)
{
    const char *ids[] = {"shuffle_0_5_0_3"};
    struct blockmsg m;
    size_t order[1];
    char err[200];
    ck_assert_int_eq(blockids_plan_fetch_shuffle("app-1", "0", ids, 1, &m, order, err, sizeof(err)),
                     0);
    ck_assert(m.u.fetch_shuffle_blocks.batch_fetch_enabled);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[0].count, 2);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[0].items[0], 0);
    ck_assert_int_eq(m.u.fetch_shuffle_blocks.reduce_ids.rows[0].items[1], 3);
    blockmsg_free(&m);
}
END_TEST

START_TEST(test_errors)
{
    struct blockmsg m;
    size_t order[2];
    char err[200];
    const char *mixed[] = {"shuffle_0_0_0", "shuffle_1_0_0"};
    ck_assert_int_eq(blockids_plan_fetch_shuffle("a", "0", mixed, 2, &m, order, err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "Expected shuffleId=0, got:shuffle_1_0_0");
    const char *bad[] = {"shuffle_0_x_0"};
    ck_assert_int_eq(blockids_plan_fetch_shuffle("a", "0", bad, 1, &m, order, err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "Unexpected shuffle block id format: shuffle_0_x_0");
    const char *shortid[] = {"shuffle_0_1"};
    ck_assert_int_eq(blockids_plan_fetch_shuffle("a", "0", shortid, 1, &m, order, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(blockids_plan_fetch_shuffle("a", "0", NULL, 0, &m, order, err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "Zero-sized blockIds array");
    const char *rdd[] = {"shuffle_0_0_0", "rdd_1_2"};
    ck_assert(!blockids_all_shuffle(rdd, 2));
    ck_assert(blockids_all_shuffle(mixed, 2));
}
END_TEST

/* Merged chunks (push-based shuffle): FetchShuffleBlockChunks grouped by reduce id in order
 * of first appearance; the recorded Spark 3.5 request for shuffleChunk_0_0_0_{0,1,2}. */
START_TEST(test_chunk_ids)
{
    const char *ids[] = {"shuffleChunk_3_1_7_0", "shuffleChunk_3_1_2_4", "shuffleChunk_3_1_7_1"};
    struct blockmsg m;
    size_t order[3];
    char err[200];
    ck_assert(blockids_all_chunks(ids, 3));
    ck_assert(!blockids_all_shuffle(ids, 3));
    ck_assert_int_eq(blockids_plan_fetch_chunks("app", "1", ids, 3, &m, order, err, sizeof(err)),
                     0);
    ck_assert_int_eq(m.type, BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS);
    ck_assert_int_eq(m.u.fetch_shuffle_block_chunks.shuffle_id, 3);
    ck_assert_int_eq(m.u.fetch_shuffle_block_chunks.shuffle_merge_id, 1);
    ck_assert_uint_eq(m.u.fetch_shuffle_block_chunks.reduce_ids.count, 2);
    ck_assert_int_eq(m.u.fetch_shuffle_block_chunks.reduce_ids.items[0], 7);
    ck_assert_int_eq(m.u.fetch_shuffle_block_chunks.reduce_ids.items[1], 2);
    ck_assert_uint_eq(m.u.fetch_shuffle_block_chunks.chunk_ids.rows[0].count, 2);
    ck_assert_int_eq(m.u.fetch_shuffle_block_chunks.chunk_ids.rows[0].items[1], 1);
    ck_assert_int_eq(m.u.fetch_shuffle_block_chunks.chunk_ids.rows[1].items[0], 4);
    ck_assert_uint_eq(order[0], 0);
    ck_assert_uint_eq(order[1], 2);
    ck_assert_uint_eq(order[2], 1);
    blockmsg_free(&m);

    const char *rec[] = {"shuffleChunk_0_0_0_0", "shuffleChunk_0_0_0_1", "shuffleChunk_0_0_0_2"};
    ck_assert_int_eq(
        blockids_plan_fetch_chunks("app-cap", "1", rec, 3, &m, order, err, sizeof(err)), 0);
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &m);
    static const uint8_t want[] = {0x0f, 0, 0,   0, 7, 'a', 'p', 'p', '-', 'c', 'a', 'p', 0, 0,
                                   0,    1, '1', 0, 0, 0,   0,   0,   0,   0,   0,   0,   0, 0,
                                   1,    0, 0,   0, 0, 0,   0,   0,   1,   0,   0,   0,   3, 0,
                                   0,    0, 0,   0, 0, 0,   1,   0,   0,   0,   2};
    ck_assert_uint_eq(w.len, sizeof(want));
    ck_assert_mem_eq(w.buf, want, sizeof(want));
    proto_writer_free(&w);
    blockmsg_free(&m);

    const char *mixed_merge[] = {"shuffleChunk_0_0_0_0", "shuffleChunk_0_1_0_1"};
    ck_assert_int_eq(
        blockids_plan_fetch_chunks("a", "1", mixed_merge, 2, &m, order, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Expected shuffleMergeId=0, got:shuffleChunk_0_1_0_1");
    const char *mixed_shuffle[] = {"shuffleChunk_0_0_0_0", "shuffleChunk_5_0_0_1"};
    ck_assert_int_eq(
        blockids_plan_fetch_chunks("a", "1", mixed_shuffle, 2, &m, order, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Expected shuffleId=0, got:shuffleChunk_5_0_0_1");
    const char *bad[] = {"shuffleChunk_0_0_0"};
    ck_assert_int_eq(blockids_plan_fetch_chunks("a", "1", bad, 1, &m, order, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Unexpected shuffle chunk id format: shuffleChunk_0_0_0");
    const char *with_shuffle[] = {"shuffleChunk_0_0_0_0", "shuffle_0_0_0"};
    ck_assert(!blockids_all_chunks(with_shuffle, 2));
}
END_TEST

CHECK_MAIN((.suite = "blockids", .name = "plan"), test_groups_by_map_in_first_appearance_order,
           test_batch_ranges, test_errors, test_chunk_ids)
