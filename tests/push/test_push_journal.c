/* SPDX-License-Identifier: Apache-2.0 */
/* The merge journal (state_dir/merges.wal) is compacted while the daemon runs: once a removed
 * merge's records make up most of it, it is rewritten with the live records only, and a
 * restart after that loses nothing of the merges still there. */
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

CHECK_MAIN((.suite = "push_journal", .name = "journal", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_journal_compacted_while_running)
