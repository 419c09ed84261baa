/* SPDX-License-Identifier: Apache-2.0 */
/* Removals after a restart delete what they delete without one: attempt 1 merges (shuffle 0
 * unfinalized, three blocks; shuffle 1 finalized, one block), then the daemon goes on, or is
 * killed (SIGKILL) and restarted on its state; then
 * - the application removed with cleanup: its merged files are deleted; without cleanup they
 *   stay (as in Spark); so too when a crash came between the removal and the deletion;
 * - an executor removed: merged files stay (they are the application's, not the executor's);
 * - RemoveShuffleMerge of both merges: their files are deleted, later pushes are TOO_LATE;
 * - a push of shuffleMergeId 1 for both shuffles: merge 0's files are deleted, finalized or
 *   not, merge 1's made. */
#include <config.h>

#include <signal.h>
#include <zlib.h>

#include "push_replay.h"
#include "../check_main.h"
#include "../harness/process.h"
#include "../harness/wait.h"

static char data_dir[800];
static char extra[300]; /* the daemon's options outlive it (a restart reuses them) */
static int admin;

/* Files under the merge dir whose names start with prefix. */
static int merged_files(const char *prefix)
{
    char cmd[1200], out[64];
    snprintf(cmd, sizeof cmd, "find '%s/" MERGED "' -type f -name '%s*' | wc -l", data_dir, prefix);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 0);
    return atoi(out);
}

/* One complete push of body by attempt 1 into (shuffle, merge_id, map, reduce 0): its code. */
static int push_merge(struct client *c, int64_t id, int32_t shuffle, int32_t merge_id, int32_t map,
                      const uint8_t *body, size_t len)
{
    push_start_merge(c, id, 1, shuffle, merge_id, map, 0, body, len, len);
    return push_code(c, id);
}

/* The daemon (with its admin port) on a fresh copy of the data set, attempt 1 registered and
 * merged as above (6 files); then killed and restarted when `restart`. */
static void merged_then(struct harness_daemon *d, bool restart)
{
    const char *tmp = harness_test_dir();
    copy_data(tmp, data_dir, sizeof data_dir);
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    admin = harness_free_port();
    snprintf(extra, sizeof extra,
             "\"push_enabled\": true, \"push_min_chunk_bytes\": 200, \"admin_port\": %d", admin);
    daemon_start(d, tmp, state_dir, extra);
    replay(d->port, "register-executor-with-merge-dir", data_dir, false);
    struct client c;
    client_open(&c, d->port);
    uint8_t body[100];
    for (int32_t map = 0; map < 3; map++) {
        memset(body, 'a' + map, sizeof body);
        ck_assert_int_eq(push_merge(&c, map + 1, 0, 0, map, body, sizeof body), 0);
    }
    ck_assert_int_eq(push_merge(&c, 10, 1, 0, 0, body, 10), 0);
    ck_assert_int_eq(finalize_size(&c, 1), 10);
    client_close(&c);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_"), 6);
    if (restart) {
        harness_daemon_kill(d, SIGKILL);
        ck_assert_int_eq(harness_daemon_restart(d, 0), 0);
        ck_assert_int_eq(merged_files("shuffleMerged_app-cap_"), 6);
    }
}

static bool no_merged_files(void *arg)
{
    (void)arg;
    return merged_files("shuffleMerged_app-cap_") == 0;
}

/* The removal just asked for deletes every merged file, within a bounded wait. */
static void expect_all_deleted(void)
{
    ck_assert_msg(harness_wait_until(no_merged_files, NULL, 10000, 20), "%d merged files left",
                  merged_files("shuffleMerged_app-cap_"));
}

/* The admin endpoint removes the application; with cleanup its files go (bounded wait). */
static void remove_app(bool cleanup)
{
    char target[200];
    snprintf(target, sizeof target, "/admin/remove-application?app_id=app-cap%s",
             cleanup ? "&cleanup_local_dirs=true" : "");
    http_expect(admin, "POST", target, 200, NULL);
    if (cleanup)
        expect_all_deleted();
}

static void app_removed(bool restart, bool cleanup)
{
    struct harness_daemon d;
    merged_then(&d, restart);
    remove_app(cleanup);
    if (!cleanup)
        ck_assert_int_eq(merged_files("shuffleMerged_app-cap_"), 6);
    daemon_stop_clean(&d);
}

START_TEST(test_app_removed_with_cleanup)
{
    app_removed(false, true);
}
END_TEST

START_TEST(test_app_removed_with_cleanup_after_restart)
{
    app_removed(true, true);
}
END_TEST

START_TEST(test_app_removed_without_cleanup_after_restart)
{
    app_removed(true, false);
}
END_TEST

/* --- a crash between the removal (journaled) and the deletion of the files --- */

/* The application removed (its registrations go, its removal is journaled), then a crash
 * before its files are deleted: killed with them put back, restarted. With cleanup the
 * restart deletes them, where its attempt record says its dirs were, before it serves;
 * without, they stay (a removal record without the cleanup byte is the previous version's). The
 * restart before the removal folds the finalized shuffle 1 into a partition record. */
static void app_removed_crash(bool cleanup)
{
    struct harness_daemon d;
    merged_then(&d, true);
    save_merged(data_dir);
    remove_app(cleanup);
    harness_daemon_kill(&d, SIGKILL);
    restore_merged(data_dir);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_"), 6);
    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_"), (cleanup ? 0 : 6));
    daemon_stop_clean(&d);
}

START_TEST(test_app_removed_with_cleanup_crash_before_deletion)
{
    app_removed_crash(true);
}
END_TEST

START_TEST(test_app_removed_without_cleanup_crash)
{
    app_removed_crash(false);
}
END_TEST

/* A record appended to merges.wal by hand: u32 "SHM1" | u32 length | u32 CRC32 | u8 op,
 * String "app-cap", i32 attempt 1, shuffle 0, mergeId 0, then tail. */
static void append_record(int op, const uint8_t *tail, size_t tail_len)
{
    uint8_t rec[128], *p = rec + 12;
    static const uint8_t common[] = {0, 0, 0, 7, 'a', 'p', 'p', '-', 'c', 'a', 'p', 0,
                                     0, 0, 1, 0, 0,   0,   0,   0,   0,   0,   0};
    *p++ = (uint8_t)op;
    memcpy(p, common, sizeof common);
    p += sizeof common;
    memcpy(p, tail, tail_len);
    p += tail_len;
    uint32_t len = (uint32_t)(p - rec - 12), crc = (uint32_t)crc32(0, rec + 12, len);
    const uint32_t head[3] = {0x53484d31u, len, crc};
    for (int i = 0; i < 12; i++)
        rec[i] = (uint8_t)(head[i / 4] >> (8 * (3 - i % 4)));
    char path[900];
    snprintf(path, sizeof path, "%s/merges.wal", state_dir);
    FILE *f = fopen(path, "ab");
    ck_assert(f && fwrite(rec, 1, 12 + len, f) == 12 + len);
    fclose(f);
}

/* The removal journaled with cleanup (its record written by hand), then a crash before the
 * registrations went: the restart rebuilds the application's state, drops it and deletes its
 * files. Unless a record of the application follows the removal (it came back: a commit of
 * shuffle 0's reduce 0, map 0): its files are left, that partition's state rebuilt. */
static void removal_journaled_registered(bool came_back)
{
    struct harness_daemon d;
    merged_then(&d, false);
    harness_daemon_kill(&d, SIGKILL);
    static const uint8_t cleanup[] = {1};
    append_record(4, cleanup, sizeof cleanup);
    if (came_back) { /* i32 reduce 0, i32 map 0, i64 end 100, u8 no chunk closed */
        static const uint8_t commit[17] = {[15] = 100};
        append_record(1, commit, sizeof commit);
    }
    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_"), came_back ? 6 : 0);
    if (came_back) {
        struct client c;
        client_open(&c, d.port);
        uint8_t body[100];
        memset(body, 'a', sizeof body); /* map 0 is known again: a duplicate */
        ck_assert_int_eq(push_merge(&c, 40, 0, 0, 0, body, sizeof body), 0);
        ck_assert_int_eq(finalize_size(&c, 0), 100);
        client_close(&c);
    }
    daemon_stop_clean(&d);
}

START_TEST(test_removal_journaled_registrations_left)
{
    removal_journaled_registered(false);
}
END_TEST

START_TEST(test_removal_journaled_then_came_back)
{
    removal_journaled_registered(true);
}
END_TEST

static void executor_removed(bool restart)
{
    struct harness_daemon d;
    merged_then(&d, restart);
    http_expect(admin, "POST", "/admin/remove-executor?app_id=app-cap&exec_id=1", 200, NULL);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_"), 6);
    daemon_stop_clean(&d);
}

START_TEST(test_executor_removed)
{
    executor_removed(false);
}
END_TEST

START_TEST(test_executor_removed_after_restart)
{
    executor_removed(true);
}
END_TEST

static void merges_removed(bool restart)
{
    struct harness_daemon d;
    merged_then(&d, restart);
    struct client c;
    client_open(&c, d.port);
    send_remove_merge(&c, 1, 0, 0);
    send_remove_merge(&c, 1, 1, -1);
    expect_all_deleted();
    uint8_t body[10] = {0};
    ck_assert_int_eq(push_merge(&c, 20, 0, 0, 5, body, sizeof body), 1); /* TOO_LATE */
    ck_assert_int_eq(push_merge(&c, 21, 1, 0, 5, body, sizeof body), 1);
    client_close(&c);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_"), 0);
    daemon_stop_clean(&d);
}

START_TEST(test_merges_removed)
{
    merges_removed(false);
}
END_TEST

START_TEST(test_merges_removed_after_restart)
{
    merges_removed(true);
}
END_TEST

static void newer_merge_ids(bool restart)
{
    struct harness_daemon d;
    merged_then(&d, restart);
    struct client c;
    client_open(&c, d.port);
    uint8_t body[10] = {0};
    ck_assert_int_eq(push_merge(&c, 30, 0, 1, 5, body, sizeof body), 0);
    ck_assert_int_eq(push_merge(&c, 31, 1, 1, 5, body, sizeof body), 0);
    ck_assert_int_eq(push_merge(&c, 32, 0, 0, 6, body, sizeof body), 3); /* STALE */
    client_close(&c);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_0_0_"), 0);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_1_0_"), 0);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_0_1_"), 3);
    ck_assert_int_eq(merged_files("shuffleMerged_app-cap_1_1_"), 3);
    daemon_stop_clean(&d);
}

START_TEST(test_newer_merge_ids)
{
    newer_merge_ids(false);
}
END_TEST

START_TEST(test_newer_merge_ids_after_restart)
{
    newer_merge_ids(true);
}
END_TEST

CHECK_MAIN((.suite = "push_restart_removals", .name = "restart_removals", .timeout_s = 300,
            .needs_shared_vectors = true),
           test_app_removed_with_cleanup, test_app_removed_with_cleanup_after_restart,
           test_app_removed_without_cleanup_after_restart,
           test_app_removed_with_cleanup_crash_before_deletion,
           test_app_removed_without_cleanup_crash, test_removal_journaled_registrations_left,
           test_removal_journaled_then_came_back, test_executor_removed,
           test_executor_removed_after_restart, test_merges_removed,
           test_merges_removed_after_restart, test_newer_merge_ids,
           test_newer_merge_ids_after_restart)
