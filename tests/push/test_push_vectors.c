/* SPDX-License-Identifier: Apache-2.0 */
/* Spark 3.5's recorded push-based shuffle conversations replayed against the real daemon
 * (push_enabled, push_min_chunk_bytes 200 as the recording server had): the registration
 * with a merge dir, the 15 pushes of push-blocks and its finalize, finalize-merge, and
 * remove-shuffle-merge. Every reply must equal the Java server's byte for byte (the request
 * ids are the recorded ones), the server must close after TOO_OLD_ATTEMPT_PUSH, and the
 * merged .data/.index/.meta files must equal the ones the Java server wrote; restarts lose
 * nothing; the read side serves our merge as Spark's reducers read it. */
#include <config.h>

#include "push_replay.h"
#include "../check_main.h"

START_TEST(test_replay_push_finalize_remove)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    replay(d.port, "push-blocks", data_dir, true);
    ck_assert_int_eq(compare_merged(data_dir, 2), 3); /* finalized inside push-blocks */
    replay(d.port, "finalize-merge", data_dir, false);
    ck_assert_int_eq(compare_merged(data_dir, -1), 12);
    replay(d.port, "remove-shuffle-merge", data_dir, false);
    ck_assert(!merged_exists(data_dir, "3c", "shuffleMerged_app-cap_0_0_0.data"));
    ck_assert(!merged_exists(data_dir, "0e", "shuffleMerged_app-cap_0_0_0.index"));
    ck_assert(!merged_exists(data_dir, "09", "shuffleMerged_app-cap_0_0_2.meta"));
    ck_assert_int_eq(compare_merged(data_dir, 2), 3); /* shuffle 2's stay */
    daemon_stop_clean(&d);
}
END_TEST

/* A second FinalizeShuffleMerge(app-cap, 1, shuffle, 0) is refused as Spark refuses it. */
static void expect_finalize_refused(int port, int32_t shuffle)
{
    struct blockmsg f = {.type = BLOCKMSG_FINALIZE_SHUFFLE_MERGE};
    f.u.finalize_shuffle_merge.layout = BLOCKMSG_LAYOUT_32;
    f.u.finalize_shuffle_merge.app_id = (struct proto_bytes){"app-cap", 7};
    f.u.finalize_shuffle_merge.app_attempt_id = 1;
    f.u.finalize_shuffle_merge.shuffle_id = shuffle;
    struct client c;
    client_open(&c, port);
    struct reply a;
    client_rpc_msg(&c, &f, &a);
    ck_assert_int_eq(a.type, PROTO_RPC_FAILURE);
    char line[512];
    first_line(a.msg.u.rpc_failure.error.data, a.msg.u.rpc_failure.error.len, line, sizeof line);
    ck_assert_msg(strstr(line, "is stale shuffle finalize request"), "'%s'", line);
    reply_free(&a);
    client_close(&c);
}

/* Restarts between the pushes, after finalize and before the removal lose nothing: the
 * duplicate and the stale push are still recognised, the merged files and MergeStatuses are
 * Spark's, a finalized merge stays finalized (TOO_LATE, and a second finalize is refused as
 * Spark's recovered state refuses it). */
START_TEST(test_restarts_lose_nothing)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    replay_range(d.port, "push-blocks", data_dir, 0, 10, false);
    restart(&d);
    replay_range(d.port, "push-blocks", data_dir, 10, 0, true);
    restart(&d);
    replay_range(d.port, "push-blocks", data_dir, 14, 15, false); /* still too late */
    replay(d.port, "finalize-merge", data_dir, false);
    ck_assert_int_eq(compare_merged(data_dir, -1), 12);
    restart(&d);
    expect_finalize_refused(d.port, 0);
    expect_finalize_refused(d.port, 3); /* the finalize-merge's shuffle without pushes */
    ck_assert_int_eq(compare_merged(data_dir, -1), 12);
    replay(d.port, "remove-shuffle-merge", data_dir, false);
    restart(&d);
    ck_assert(!merged_exists(data_dir, "3c", "shuffleMerged_app-cap_0_0_0.data"));
    ck_assert_int_eq(compare_merged(data_dir, 2), 3);
    daemon_stop_clean(&d);
}
END_TEST

/* Spark 3.1's PushBlockStream layout (no attempt, no shuffleMergeId; the spec's example) is
 * answered as Spark 3.1.2 answers, even with push_enabled. */
START_TEST(test_push_31_layout_answered_as_31)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    static const uint8_t meta31[] = {0x0c, 0, 0, 0, 5, 'a', 'p', 'p', '-', '1', 0, 0, 0,
                                     0,    0, 0, 0, 5, 0,   0,   0,   2,   0,   0, 0, 0};
    struct proto_writer w;
    proto_writer_init(&w);
    struct proto_msg m = {.type = PROTO_UPLOAD_STREAM};
    m.u.upload_stream.request_id = 7;
    m.u.upload_stream.meta = (struct proto_view){meta31, sizeof meta31};
    m.u.upload_stream.body_byte_count = 3;
    proto_msg_encode(&w, &m);
    proto_write_raw(&w, "abc", 3);
    expect_upload_refused(
        d.port, w.buf, w.len,
        "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
    proto_writer_free(&w);
    daemon_stop_clean(&d);
}
END_TEST

/* Our merged files serve Spark's reducers as the Java server's did: after push-blocks and
 * finalize-merge, merged-meta-and-chunks replays against the daemon's own merge (the read
 * side) with every chunk byte the recorded one, and after remove-shuffle-merge the removed
 * merge's meta request fails as recorded. */
START_TEST(test_own_merge_serves_recorded_reads)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    replay(d.port, "push-blocks", data_dir, true);
    replay(d.port, "finalize-merge", data_dir, false);
    struct replay_dirs rd = {REC_PREFIX, data_dir};
    const char *reads[] = {"merged-meta-and-chunks", "remove-shuffle-merge"};
    for (int k = 0; k < 2; k++) {
        char sdir[1024];
        snprintf(sdir, sizeof sdir, "%s/vectors-35/%s", harness_shared_dir(), reads[k]);
        struct frames c2s, s2c;
        load_frames(sdir, "c2s.bin", &c2s);
        load_frames(sdir, "s2c.bin", &s2c);
        struct sid_map sids = {0};
        struct client c;
        client_open(&c, d.port);
        size_t answered = 0;
        for (size_t i = 0; i < c2s.n; i++) {
            if (c2s.f[i].type == PROTO_ONE_WAY_MESSAGE) { /* RemoveShuffleMerge: no answer */
                struct proto_msg q;
                char err[256];
                ck_assert_int_eq(proto_msg_decode(c2s.f[i].type, c2s.f[i].content, c2s.f[i].len, &q,
                                                  err, sizeof err),
                                 0);
                client_send_msg(&c, &q);
                usleep(300 * 1000);
                continue;
            }
            char where[300];
            snprintf(where, sizeof where, "%s frame %zu", reads[k], i);
            replay_one(&c, &c2s.f[i], &s2c.f[answered++], &sids, &rd, where);
        }
        ck_assert_uint_eq(answered, s2c.n);
        client_close(&c);
        frames_free(&c2s);
        frames_free(&s2c);
    }
    daemon_stop_clean(&d);
}
END_TEST

/* The driver sends RemoveShuffleMerge to every merger; one that never got a push of the
 * shuffle ends the merge all the same (Spark records it finalized): a push of it arriving
 * later is TOO_LATE (its body read and dropped, the connection kept), before and after a
 * restart, and leaves no merged file behind. */
START_TEST(test_removal_before_any_push)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    struct blockmsg rm = {.type = BLOCKMSG_REMOVE_SHUFFLE_MERGE};
    rm.u.remove_shuffle_merge.app_id = (struct proto_bytes){"app-cap", 7};
    rm.u.remove_shuffle_merge.app_attempt_id = 1;
    rm.u.remove_shuffle_merge.shuffle_id = 7;
    rm.u.remove_shuffle_merge.shuffle_merge_id = 0;
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &rm);
    struct proto_msg one_way = {.type = PROTO_ONE_WAY_MESSAGE};
    one_way.u.one_way.body = (struct proto_view){w.buf, (uint32_t)w.len};
    struct client c;
    client_open(&c, d.port);
    client_send_msg(&c, &one_way);
    proto_writer_free(&w);
    usleep(300 * 1000); /* one-way: no answer tells when it is done */
    static const uint8_t body[] = "block";
    push_start(&c, 71, 7, 0, 0, body, 5, 5);
    ck_assert_int_eq(push_code(&c, 71), 1);  /* TOO_LATE_BLOCK_PUSH */
    push_start(&c, 72, 7, 1, 0, body, 5, 5); /* the connection goes on */
    ck_assert_int_eq(push_code(&c, 72), 1);
    client_close(&c);
    restart(&d);
    client_open(&c, d.port);
    push_start(&c, 73, 7, 2, 0, body, 5, 5);
    ck_assert_int_eq(push_code(&c, 73), 1);
    client_close(&c);
    char cmd[1200], line[64] = "";
    snprintf(cmd, sizeof cmd, "find '%s' -name 'shuffleMerged_app-cap_7_*' | wc -l", data_dir);
    FILE *p = popen(cmd, "r");
    ck_assert(p && fgets(line, sizeof line, p));
    pclose(p);
    ck_assert_int_eq(atoi(line), 0);
    daemon_stop_clean(&d);
}
END_TEST

/* Without push_enabled the daemon answers pushes and finalizes as Spark 3.1 did. */
START_TEST(test_push_disabled_answers_as_before)
{
    const char *tmp = harness_test_dir();
    char state[700];
    snprintf(state, sizeof state, "%s/state", tmp);
    struct harness_daemon d;
    daemon_start(&d, tmp, state, NULL);
    expect_first_push_refused(
        d.port, "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "push_vectors", .name = "replay", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_replay_push_finalize_remove, test_restarts_lose_nothing,
           test_push_31_layout_answered_as_31, test_own_merge_serves_recorded_reads,
           test_push_disabled_answers_as_before, test_removal_before_any_push)
