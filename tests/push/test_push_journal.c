/* SPDX-License-Identifier: Apache-2.0 */
/* The merge journal (state_dir/merges.wal) is compacted while the daemon runs: once a removed
 * merge's records make up most of it, it is rewritten with the live records only, and a
 * restart after that loses nothing of the merges still there. A finalized merge's commit
 * records (one per block) fold into one partition record per partition, and restarts on that
 * journal leave the merge as it was. */
#include <config.h>

#include "push_replay.h"
#include "../check_main.h"
#include "../harness/wait.h"

#define REMOVED_BLOCKS 1000 /* about 53 KB of commit records */

static long long journal_size(void)
{
    char path[800];
    struct stat st;
    snprintf(path, sizeof path, "%s/merges.wal", state_dir);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static long long journal_before;

static bool journal_shrank(void *arg)
{
    (void)arg;
    return journal_size() < journal_before / 4;
}

/* One complete push of body into (shuffle, map, reduce 0): its BlockPushReturnCode. */
static int push_one(struct client *c, int64_t id, int32_t shuffle, int32_t map, const uint8_t *body,
                    size_t len)
{
    push_start(c, id, shuffle, map, 0, body, len, len);
    return push_code(c, id);
}

static void remove_merge(struct client *c, int32_t shuffle)
{
    send_remove_merge(c, 1, shuffle, 0);
}

START_TEST(test_journal_compacted_while_running)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    struct client c;
    client_open(&c, d.port);
    uint8_t body[10];
    int64_t id = 1;
    /* shuffle 7: many one-byte blocks, removed below; shuffle 8: ten blocks that stay */
    for (int32_t map = 0; map < REMOVED_BLOCKS; map++) {
        body[0] = (uint8_t)map;
        ck_assert_int_eq(push_one(&c, id++, 7, map, body, 1), 0);
    }
    for (int32_t map = 0; map < 10; map++) {
        memset(body, '0' + map, sizeof body);
        ck_assert_int_eq(push_one(&c, id++, 8, map, body, sizeof body), 0);
    }
    journal_before = journal_size();
    ck_assert_int_gt(journal_before, REMOVED_BLOCKS * 50);

    remove_merge(&c, 7);
    ck_assert_msg(harness_wait_until(journal_shrank, NULL, 20000, 20),
                  "merges.wal holds %lld bytes, %lld before the removal", journal_size(),
                  journal_before);
    ck_assert_int_eq(push_one(&c, id++, 7, 5000, body, 1), 1); /* TOO_LATE: removed */
    client_close(&c);

    /* After a restart shuffle 8's blocks are all known (a duplicate is recognised), shuffle
     * 7 stays removed, and shuffle 8 finalizes to what was merged. */
    restart(&d);
    client_open(&c, d.port);
    memset(body, '3', sizeof body);
    ck_assert_int_eq(push_one(&c, id++, 8, 3, body, sizeof body), 0); /* duplicate: dropped */
    memset(body, 'x', sizeof body);
    ck_assert_int_eq(push_one(&c, id++, 8, 10, body, sizeof body), 0);
    ck_assert_int_eq(push_one(&c, id++, 7, 5001, body, 1), 1);
    ck_assert_int_eq(finalize_size(&c, 8), 110);
    size_t len;
    uint8_t *merged = merged_data(data_dir, 8, &len);
    ck_assert_uint_eq(len, 110);
    for (size_t i = 0; i < 100; i++)
        ck_assert_int_eq(merged[i], '0' + (int)(i / 10));
    ck_assert_int_eq(merged[100], 'x');
    free(merged);
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

/* ---- a finalized merge: one record per partition ---- */

#define FOLD_SHUFFLE 9
#define FOLD_REDUCES 3
#define FOLD_MAPS 400 /* per reduce: 1200 commit records, about 64 KB */

struct ops {
    int commits, finalizes, parts, other;
};

/* The records in merges.wal by op, walking "SHM1" | length | CRC | payload. */
static struct ops journal_ops(void)
{
    char path[800];
    snprintf(path, sizeof path, "%s/merges.wal", state_dir);
    size_t len, at = 0;
    uint8_t *b = harness_read_file(path, &len);
    ck_assert(b != NULL);
    struct ops o = {0};
    while (len - at >= 12) {
        size_t n = (size_t)b[at + 4] << 24 | (size_t)b[at + 5] << 16 | b[at + 6] << 8 | b[at + 7];
        uint8_t op = b[at + 12];
        o.commits += op == 1;
        o.finalizes += op == 2;
        o.parts += op == 6;
        o.other += op != 1 && op != 2 && op != 6;
        at += 12 + n;
    }
    free(b);
    return o;
}

static bool folded(void *arg)
{
    (void)arg;
    struct ops o = journal_ops();
    return o.parts == FOLD_REDUCES && o.commits < 100;
}

/* What a reader of the merge gets: every reduce's MergedBlockMetaSuccess (chunk count and
 * chunk bitmaps) and merged files, concatenated. */
static uint8_t *merge_view(struct client *c, const char *data_dir, size_t *len)
{
    struct proto_writer w;
    proto_writer_init(&w);
    for (int32_t reduce = 0; reduce < FOLD_REDUCES; reduce++) {
        struct proto_msg m = {.type = PROTO_MERGED_BLOCK_META_REQUEST};
        m.u.merged_block_meta_request.request_id = 77;
        m.u.merged_block_meta_request.app_id = (struct proto_view){(const uint8_t *)"app-cap", 7};
        m.u.merged_block_meta_request.shuffle_id = FOLD_SHUFFLE;
        m.u.merged_block_meta_request.reduce_id = reduce;
        client_send_msg(c, &m);
        struct reply r;
        ck_assert(client_read(c, &r));
        ck_assert_int_eq(r.type, PROTO_MERGED_BLOCK_META_SUCCESS);
        ck_assert_int_gt(r.msg.u.merged_block_meta_success.num_chunks, 10);
        proto_write_i32(&w, r.msg.u.merged_block_meta_success.num_chunks);
        proto_write_bytes(&w, r.msg.u.merged_block_meta_success.body.data,
                          r.msg.u.merged_block_meta_success.body.len);
        reply_free(&r);
        static const char *const exts[] = {"data", "index", "meta"};
        for (int k = 0; k < 3; k++) {
            char cmd[1200], path[1200];
            snprintf(cmd, sizeof cmd,
                     "find '%s/" MERGED "' -name 'shuffleMerged_app-cap_%d_0_%d.%s'", data_dir,
                     FOLD_SHUFFLE, (int)reduce, exts[k]);
            FILE *p = popen(cmd, "r");
            ck_assert(p && fgets(path, sizeof path, p));
            pclose(p);
            path[strcspn(path, "\n")] = 0;
            size_t n;
            uint8_t *b = harness_read_file(path, &n);
            ck_assert(b != NULL);
            proto_write_bytes(&w, b, n);
            free(b);
        }
    }
    ck_assert(!w.failed);
    *len = w.len;
    return w.buf;
}

/* A second finalize of the folded merge is refused, a push of it is too late. */
static void expect_finalized(struct client *c, int64_t *id)
{
    struct reply a;
    finalize_rpc(c, FOLD_SHUFFLE, &a);
    ck_assert_int_eq(a.type, PROTO_RPC_FAILURE);
    reply_free(&a);
    uint8_t body[4] = {1, 2, 3, 4};
    push_start(c, *id, FOLD_SHUFFLE, FOLD_MAPS + 1, 0, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(c, (*id)++), 1); /* TOO_LATE */
}

START_TEST(test_finalized_merge_folds)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    struct client c;
    client_open(&c, d.port);
    int64_t id = 1;
    uint8_t body[20];
    for (int32_t map = 0; map < FOLD_MAPS; map++)
        for (int32_t reduce = 0; reduce < FOLD_REDUCES; reduce++) {
            memset(body, 'a' + (map + reduce) % 26, sizeof body);
            push_start(&c, id, FOLD_SHUFFLE, map, reduce, body, sizeof body, sizeof body);
            ck_assert_int_eq(push_code(&c, id++), 0);
        }
    /* shuffle 8: not finalized, its commit records stay */
    for (int32_t map = 0; map < 10; map++) {
        memset(body, '0' + map, 10);
        ck_assert_int_eq(push_one(&c, id++, 8, map, body, 10), 0);
    }
    struct ops before = journal_ops();
    ck_assert_int_eq(before.commits, FOLD_MAPS * FOLD_REDUCES + 10);
    journal_before = journal_size();

    /* finalized: its commits count as reclaimable, the journal is compacted after the answer */
    struct reply a;
    finalize_rpc(&c, FOLD_SHUFFLE, &a);
    ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
    reply_free(&a);
    ck_assert_msg(harness_wait_until(folded, NULL, 20000, 20),
                  "merges.wal not folded: %d commit, %d partition records (%lld bytes, %lld "
                  "before)",
                  journal_ops().commits, journal_ops().parts, journal_size(), journal_before);
    struct ops after = journal_ops();
    ck_assert_int_eq(after.commits, 10);
    ck_assert_int_eq(after.finalizes, 1);
    ck_assert_int_lt(journal_size(), journal_before / 10);
    size_t view_len;
    uint8_t *view = merge_view(&c, data_dir, &view_len);
    expect_finalized(&c, &id);
    client_close(&c);

    /* Twice: replaying the partition records, then the journal the first restart compacted
     * (partition records written again from the replayed state). */
    for (int round = 0; round < 2; round++) {
        restart(&d);
        struct ops o = journal_ops();
        ck_assert_int_eq(o.commits, 10);
        ck_assert_int_eq(o.parts, FOLD_REDUCES);
        ck_assert_int_eq(o.finalizes, 1);
        client_open(&c, d.port);
        size_t len;
        uint8_t *again = merge_view(&c, data_dir, &len);
        ck_assert_uint_eq(len, view_len);
        ck_assert(memcmp(again, view, len) == 0);
        free(again);
        expect_finalized(&c, &id);
        memset(body, '3', 10);
        ck_assert_int_eq(push_one(&c, id++, 8, 3, body, 10), 0); /* duplicate: dropped */
        client_close(&c);
    }
    client_open(&c, d.port);
    ck_assert_int_eq(finalize_size(&c, 8), 100); /* the unfinalized merge, whole */
    client_close(&c);
    free(view);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "push_journal", .name = "journal", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_journal_compacted_while_running, test_finalized_merge_folds)
