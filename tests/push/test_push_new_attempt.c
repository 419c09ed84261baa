/* SPDX-License-Identifier: Apache-2.0 */
/* A newer application attempt's registration deletes the older attempt's merged files at
 * once, as Spark's RemoteBlockPushResolver.registerExecutor does (not at the new attempt's
 * first push): attempt 1 pushes (and finalizes a merge), attempt 2's executor registers, and
 * attempt 1's .data/.index/.meta files are gone within a bounded wait with nothing else sent.
 * Across a restart: killed right after the registration, and restarted with attempt 1's files
 * back as if it had died before deleting them (its commits still in the journal), the daemon
 * keeps attempt 2 and leaves none of attempt 1's files; attempt 2's pushes merge throughout. */
#include <config.h>

#include <signal.h>

#include "push_replay.h"
#include "../check_main.h"
#include "../harness/process.h"
#include "../harness/wait.h"

#define NEW_MERGED "merge_manager_2"

static char data_dir[800];

/* Merged files of app-cap under data_dir/<merge_dir>. */
static int merged_files(const char *merge_dir)
{
    char cmd[1200], out[64];
    snprintf(cmd, sizeof cmd, "find '%s/%s' -type f -name 'shuffleMerged_app-cap_*' | wc -l",
             data_dir, merge_dir);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 0);
    return atoi(out);
}

static bool old_files_gone(void *arg)
{
    (void)arg;
    return merged_files(MERGED) == 0;
}

/* One complete push of body by attempt into (shuffle, map, reduce 0): its return code. */
static int push_one(struct client *c, int64_t id, int32_t attempt, int32_t shuffle, int32_t map,
                    const uint8_t *body, size_t len)
{
    push_start_attempt(c, id, attempt, shuffle, map, 0, body, len, len);
    return push_code(c, id);
}

/* Attempt 1 (the recorded registration) merges shuffle 0 (three blocks) and shuffle 1 (one
 * block, finalized): 3 files each. */
static void attempt_one_merges(const struct harness_daemon *d)
{
    struct client c;
    client_open(&c, d->port);
    uint8_t body[100];
    for (int32_t map = 0; map < 3; map++) {
        memset(body, 'a' + map, sizeof body);
        ck_assert_int_eq(push_one(&c, map + 1, 1, 0, map, body, sizeof body), 0);
    }
    ck_assert_int_eq(push_one(&c, 10, 1, 1, 0, body, 10), 0);
    ck_assert_int_eq(finalize_size(&c, 1), 10);
    client_close(&c);
    ck_assert_int_eq(merged_files(MERGED), 6);
}

/* Executor "2" of attempt 2 registers with merge dir merge_manager_2 (made by the executor,
 * as Spark's are), answered OK. */
static void register_attempt_two(const struct harness_daemon *d)
{
    char merged[1000];
    snprintf(merged, sizeof merged, "%s/" NEW_MERGED, data_dir);
    ck_assert_int_eq(harness_fill_block_dir(merged, 64), 0);
    struct rec_frames c2s;
    rec_load("register-executor-with-merge-dir", "c2s.bin", &c2s);
    struct client c;
    client_open(&c, d->port);
    send_registration_as(&c, &c2s.f[0], data_dir, "2",
                         "org.apache.spark.shuffle.sort.SortShuffleManager:"
                         "{\"mergeDir\":\"" NEW_MERGED "\",\"attemptId\":\"2\"}}}");
    struct reply a;
    ck_assert(client_read(&c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
    reply_free(&a);
    client_close(&c);
    rec_unload(&c2s);
}

/* Attempt 2 merges into merge_manager_2; after a restart, its block is known (a duplicate);
 * attempt 1 is too old. */
static void attempt_two_merges(const struct harness_daemon *d, int64_t id)
{
    struct client c;
    client_open(&c, d->port);
    uint8_t body[50];
    memset(body, 'z', sizeof body);
    ck_assert_int_eq(push_one(&c, id, 2, 0, 7, body, sizeof body), 0);
    ck_assert_int_eq(push_one(&c, id + 1, 2, 0, 7, body, sizeof body), 0); /* duplicate */
    client_close(&c);
    ck_assert_int_eq(merged_files(NEW_MERGED), 3);
    client_open(&c, d->port);
    ck_assert_int_eq(push_one(&c, id + 2, 1, 0, 9, body, sizeof body), 4); /* TOO_OLD_ATTEMPT */
    client_close(&c);
}

START_TEST(test_registration_deletes_old_files)
{
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    attempt_one_merges(&d);
    register_attempt_two(&d);
    /* no push, finalize or removal of attempt 2 */
    ck_assert_msg(harness_wait_until(old_files_gone, NULL, 10000, 20),
                  "%d merged files of attempt 1 left", merged_files(MERGED));
    attempt_two_merges(&d, 100);
    /* attempt 2's merge survives a restart: its block is a duplicate, the size unchanged */
    restart(&d);
    struct client c;
    client_open(&c, d.port);
    uint8_t body[50];
    memset(body, 'z', sizeof body);
    ck_assert_int_eq(push_one(&c, 200, 2, 0, 7, body, sizeof body), 0);
    client_close(&c);
    ck_assert_int_eq(merged_files(MERGED), 0);
    char cmd[1200], out[64];
    snprintf(cmd, sizeof cmd,
             "stat -c %%s $(find '%s/" NEW_MERGED "' -name 'shuffleMerged_app-cap_0_0_0.data')",
             data_dir);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 0);
    ck_assert_int_eq(atoi(out), 50);
    daemon_stop_clean(&d);
}
END_TEST

/* Killed (SIGKILL) as soon as the registration is answered, whether or not the deletion ran:
 * after the restart attempt 2 is the registered attempt and attempt 1 has no files. */
START_TEST(test_killed_right_after_registration)
{
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    attempt_one_merges(&d);
    register_attempt_two(&d);
    harness_daemon_kill(&d, SIGKILL);
    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    ck_assert_int_eq(merged_files(MERGED), 0);
    attempt_two_merges(&d, 100);
    daemon_stop_clean(&d);
}
END_TEST

/* The daemon died between the registration and the deletion: attempt 1's files are put back
 * (its commits are still in merges.wal, the registration of attempt 2 in registrations.wal);
 * the restart deletes them while replaying the journal, before serving. */
START_TEST(test_restart_deletes_what_a_crash_left)
{
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    attempt_one_merges(&d);
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "cp -a '%s/" MERGED "' '%s/saved'", data_dir, harness_test_dir());
    ck_assert_int_eq(system(cmd), 0);
    register_attempt_two(&d);
    ck_assert(harness_wait_until(old_files_gone, NULL, 10000, 20));
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
    snprintf(cmd, sizeof cmd, "cp -a '%s/saved/.' '%s/" MERGED "/'", harness_test_dir(), data_dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(merged_files(MERGED), 6);
    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    ck_assert_int_eq(merged_files(MERGED), 0);
    attempt_two_merges(&d, 100);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "push_new_attempt", .name = "new_attempt", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_registration_deletes_old_files, test_killed_right_after_registration,
           test_restart_deletes_what_a_crash_left)
