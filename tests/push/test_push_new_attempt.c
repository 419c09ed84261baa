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
#include <zlib.h>

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

/* Executor exec of attempt 2 registers with merge dir merge_manager_2 (made by the executor,
 * as Spark's are), answered OK. */
static void register_attempt_two_as(const struct harness_daemon *d, const char *exec)
{
    char merged[1000];
    snprintf(merged, sizeof merged, "%s/" NEW_MERGED, data_dir);
    ck_assert_int_eq(harness_fill_block_dir(merged, 64), 0);
    struct rec_frames c2s;
    rec_load("register-executor-with-merge-dir", "c2s.bin", &c2s);
    struct client c;
    client_open(&c, d->port);
    send_registration_as(&c, &c2s.f[0], data_dir, exec,
                         "org.apache.spark.shuffle.sort.SortShuffleManager:"
                         "{\"mergeDir\":\"" NEW_MERGED "\",\"attemptId\":\"2\"}}}");
    struct reply a;
    ck_assert(client_read(&c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
    reply_free(&a);
    client_close(&c);
    rec_unload(&c2s);
}

/* Executor "2" of attempt 2 (executor "1" of attempt 1 stays registered). */
static void register_attempt_two(const struct harness_daemon *d)
{
    register_attempt_two_as(d, "2");
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

/* --- Attempt 2 re-registering the same executor id: after that, no stored registration
 * names attempt 1's merge dirs, only the merge journal does. --- */

/* The attempts of the attempt records (op 5) in merges.wal, as a number with one digit per
 * record in order (12: attempt 1's, then 2's), walking "SHM1" | length | CRC | payload. */
static int journaled_attempts(void)
{
    char path[800];
    snprintf(path, sizeof path, "%s/merges.wal", state_dir);
    size_t len, at = 0;
    uint8_t *b = harness_read_file(path, &len);
    ck_assert(b != NULL);
    int attempts = 0;
    while (len - at >= 12) {
        size_t n = (size_t)b[at + 4] << 24 | (size_t)b[at + 5] << 16 | b[at + 6] << 8 | b[at + 7];
        const uint8_t *p = b + at + 12;
        uint32_t app_len = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | p[3] << 8 | p[4];
        if (p[0] == 5)
            attempts = 10 * attempts + p[5 + app_len + 3];
        at += 12 + n;
    }
    free(b);
    return attempts;
}

/* Attempt 1's merged files (copied aside by save_merged) put back as a crash before their
 * deletion would have left them. */
static void put_back_old_files(void)
{
    restore_merged(data_dir);
    ck_assert_int_eq(merged_files(MERGED), 6);
}

/* Attempt 1's files were deleted by attempt 2's registration of executor exec ("1": the one
 * that registered attempt 1, so no stored registration names attempt 1 any more); the
 * daemon then stopped by sig. Put back as a crash between the registration and the deletion
 * leaves them, they must be gone after the restart, before the daemon serves. */
static void crash_window_restart(const char *exec, int sig)
{
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    attempt_one_merges(&d);
    save_merged(data_dir);
    register_attempt_two_as(&d, exec);
    ck_assert_msg(harness_wait_until(old_files_gone, NULL, 10000, 20),
                  "%d merged files of attempt 1 left", merged_files(MERGED));
    if (sig == SIGKILL)
        harness_daemon_kill(&d, SIGKILL);
    else
        ck_assert_int_eq(harness_daemon_stop(&d), 0);
    put_back_old_files();
    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    ck_assert_int_eq(merged_files(MERGED), 0);
    attempt_two_merges(&d, 100);
    /* attempt 1's record went with its files: only attempt 2's is left, over restarts */
    ck_assert_int_eq(journaled_attempts(), 2);
    restart(&d);
    ck_assert_int_eq(merged_files(MERGED), 0);
    ck_assert_int_eq(merged_files(NEW_MERGED), 3);
    ck_assert_int_eq(journaled_attempts(), 2);
    daemon_stop_clean(&d);
}

/* The daemon died between the registration and the deletion: attempt 1's files are put back
 * (its commits are still in merges.wal, the registration of attempt 2 in registrations.wal);
 * the restart deletes them while replaying the journal, before serving. */
START_TEST(test_restart_deletes_what_a_crash_left)
{
    crash_window_restart("2", SIGTERM);
}
END_TEST

START_TEST(test_same_exec_crash_window_sigkill)
{
    crash_window_restart("1", SIGKILL);
}
END_TEST

START_TEST(test_same_exec_crash_window_sigterm)
{
    crash_window_restart("1", SIGTERM);
}
END_TEST

/* Attempt 1 merges, the daemon stops (sig), restarts; then attempt 2 registers executor "1":
 * attempt 1's files go as they do without the restart. */
static void new_attempt_after_restart(int sig)
{
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    attempt_one_merges(&d);
    if (sig == SIGKILL)
        harness_daemon_kill(&d, SIGKILL);
    else
        ck_assert_int_eq(harness_daemon_stop(&d), 0);
    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    ck_assert_int_eq(merged_files(MERGED), 6);
    register_attempt_two_as(&d, "1");
    ck_assert_msg(harness_wait_until(old_files_gone, NULL, 10000, 20),
                  "%d merged files of attempt 1 left", merged_files(MERGED));
    attempt_two_merges(&d, 100);
    daemon_stop_clean(&d);
}

START_TEST(test_same_exec_after_sigkill)
{
    new_attempt_after_restart(SIGKILL);
}
END_TEST

START_TEST(test_same_exec_after_sigterm)
{
    new_attempt_after_restart(SIGTERM);
}
END_TEST

/* A merges.wal record as the previous version wrote it (no attempt records):
 * u32 "SHM1" | u32 length | u32 CRC32 | u8 op, String app, i32 attempt, shuffle, mergeId
 * [, i32 reduce, i32 map, i64 end, u8 chunk closed]. */
static uint8_t *put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int k = bytes - 1; k >= 0; k--)
        *p++ = (uint8_t)(v >> (8 * k));
    return p;
}

static size_t old_record(uint8_t *out, int op, int32_t shuffle, int32_t map, int64_t end,
                         int closed)
{
    uint8_t *p = out + 12;
    *p++ = (uint8_t)op;
    p = put_be(p, 7, 4);
    memcpy(p, "app-cap", 7);
    p += 7;
    const int32_t ints[] = {1, shuffle, 0, 0, map}; /* attempt, shuffle, mergeId, reduce, map */
    for (size_t n = 0; n < (op == 1 ? 5u : 3u); n++)
        p = put_be(p, (uint32_t)ints[n], 4);
    if (op == 1) {
        p = put_be(p, (uint64_t)end, 8);
        *p++ = (uint8_t)closed;
    }
    uint32_t len = (uint32_t)(p - out - 12);
    put_be(put_be(put_be(out, 0x53484d31u, 4), len, 4), (uint32_t)crc32(0, out + 12, len), 4);
    return 12 + len;
}

/* The journal attempt_one_merges leaves, as the previous version wrote it: shuffle 0's three
 * blocks of 100 bytes (the second closes a 200-byte chunk), shuffle 1's block of 10,
 * finalized. */
static void write_old_journal(void)
{
    uint8_t buf[1024];
    size_t n = 0;
    n += old_record(buf + n, 1, 0, 0, 100, 0);
    n += old_record(buf + n, 1, 0, 1, 200, 1);
    n += old_record(buf + n, 1, 0, 2, 300, 0);
    n += old_record(buf + n, 1, 1, 0, 10, 0);
    n += old_record(buf + n, 2, 1, 0, 0, 0);
    char path[900];
    snprintf(path, sizeof path, "%s/merges.wal", state_dir);
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(buf, 1, n, f) == n);
    fclose(f);
}

/* A journal of the previous version (no record of attempt 1's merge dirs) still replays:
 * shuffle 0's blocks are known (a duplicate is SUCCESS and adds nothing), shuffle 1 stays
 * finalized (TOO_LATE). The restart records attempt 1's dirs, so attempt 2 re-registering
 * executor "1" and a crash before the deletion still leave no file of attempt 1. */
START_TEST(test_previous_version_journal)
{
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    attempt_one_merges(&d);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
    write_old_journal();
    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    struct client c;
    client_open(&c, d.port);
    uint8_t body[100];
    memset(body, 'b', sizeof body);
    ck_assert_int_eq(push_one(&c, 1, 1, 0, 1, body, sizeof body), 0);
    ck_assert_int_eq(push_one(&c, 2, 1, 1, 5, body, 10), 1); /* TOO_LATE */
    client_close(&c);
    char cmd[1200], out[64];
    snprintf(cmd, sizeof cmd,
             "stat -c %%s $(find '%s/" MERGED "' -name 'shuffleMerged_app-cap_0_0_0.data')",
             data_dir);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 0);
    ck_assert_int_eq(atoi(out), 300);
    ck_assert_int_eq(journaled_attempts(), 1); /* attempt 1's dirs recorded at the restart */
    save_merged(data_dir);
    register_attempt_two_as(&d, "1");
    ck_assert(harness_wait_until(old_files_gone, NULL, 10000, 20));
    harness_daemon_kill(&d, SIGKILL);
    put_back_old_files();
    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    ck_assert_int_eq(merged_files(MERGED), 0);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "push_new_attempt", .name = "new_attempt", .timeout_s = 300,
            .needs_shared_vectors = true),
           test_registration_deletes_old_files, test_killed_right_after_registration,
           test_restart_deletes_what_a_crash_left, test_same_exec_crash_window_sigkill,
           test_same_exec_crash_window_sigterm, test_same_exec_after_sigkill,
           test_same_exec_after_sigterm, test_previous_version_journal)
