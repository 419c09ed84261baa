/* SPDX-License-Identifier: Apache-2.0 */
/* The push write side's limits and concurrency against the real daemon: one writer per
 * partition (collision, deferral, a body cut short), a merge dir outside the allowed roots,
 * push_max_app_merge_bytes, and the push metrics with application removal. */
#include <config.h>

#include "push_replay.h"
#include "../check_main.h"

/* One writer per partition: a push arriving while another streams the same partition waits
 * in memory and is merged after it when its own body ends later (deferred), or gets
 * BLOCK_APPEND_COLLISION_DETECTED when its body is complete while the other still writes.
 * A body cut short by a closed connection leaves nothing of itself in the merged file. */
START_TEST(test_collision_deferral_and_truncated_body)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    uint8_t a_body[3000], b_body[2000];
    for (size_t i = 0; i < sizeof a_body; i++)
        a_body[i] = (uint8_t)('a' + i % 26);
    for (size_t i = 0; i < sizeof b_body; i++)
        b_body[i] = (uint8_t)('A' + i % 26);
    struct client a, b;
    client_open(&a, d.port);
    client_open(&b, d.port);

    /* shuffle 5: A holds the partition; B's complete body collides. */
    push_start(&a, 1, 5, 0, 0, a_body, sizeof a_body, 1000);
    usleep(200 * 1000);
    push_start(&b, 2, 5, 1, 0, b_body, sizeof b_body, sizeof b_body);
    ck_assert_int_eq(push_code(&b, 2), 2);
    /* A's connection dies mid-body: its 1000 bytes are cut away again. */
    client_close(&a);
    usleep(200 * 1000);
    push_start(&b, 3, 5, 1, 0, b_body, sizeof b_body, sizeof b_body);
    ck_assert_int_eq(push_code(&b, 3), 0);
    ck_assert_int_eq(finalize_size(&b, 5), (int64_t)sizeof b_body);
    size_t len;
    uint8_t *merged = merged_data(data_dir, 5, &len);
    ck_assert_uint_eq(len, sizeof b_body);
    ck_assert(memcmp(merged, b_body, len) == 0);
    free(merged);

    /* shuffle 6: B starts while A writes and ends after A: both merged, A's block first. */
    client_open(&a, d.port);
    push_start(&a, 4, 6, 0, 0, a_body, sizeof a_body, 1000);
    usleep(200 * 1000);
    push_start(&b, 5, 6, 1, 0, b_body, sizeof b_body, 500);
    usleep(200 * 1000);
    client_send(&a, a_body + 1000, sizeof a_body - 1000);
    ck_assert_int_eq(push_code(&a, 4), 0);
    client_send(&b, b_body + 500, sizeof b_body - 500);
    ck_assert_int_eq(push_code(&b, 5), 0);
    ck_assert_int_eq(finalize_size(&b, 6), (int64_t)(sizeof a_body + sizeof b_body));
    merged = merged_data(data_dir, 6, &len);
    ck_assert_uint_eq(len, sizeof a_body + sizeof b_body);
    ck_assert(memcmp(merged, a_body, sizeof a_body) == 0);
    ck_assert(memcmp(merged + sizeof a_body, b_body, sizeof b_body) == 0);
    free(merged);
    client_close(&a);
    client_close(&b);
    daemon_stop_clean(&d);
}
END_TEST

/* A merge dir outside allowed_local_dir_roots (the roots name the local dirs themselves) gets
 * no merged file: the push is refused and the connection closed, as for any push refused
 * before its body. */
START_TEST(test_merge_dir_outside_roots_refused)
{
    const char *tmp = harness_test_dir();
    char data_dir[800], extra[2400];
    copy_data(tmp, data_dir, sizeof data_dir);
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    snprintf(extra, sizeof extra,
             "\"push_enabled\": true, \"allowed_local_dir_roots\": [\"%s/blockmgr-0\", "
             "\"%s/blockmgr-1\"]",
             data_dir, data_dir);
    struct harness_daemon d;
    daemon_start(&d, tmp, state_dir, extra);
    replay(d.port, "register-executor-with-merge-dir", data_dir, false);
    expect_first_push_refused(d.port, "java.lang.SecurityException: merge dir");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s/" MERGED "' -type f)\"", data_dir);
    ck_assert_int_eq(system(cmd), 0);
    daemon_stop_clean(&d);
}
END_TEST

/* An application over push_max_app_merge_bytes gets no more merged bytes: the push that
 * would pass it is refused before its body (RpcFailure, connection closed), what was merged
 * before stays whole. */
START_TEST(test_app_merge_limit)
{
    const char *tmp = harness_test_dir();
    char data_dir[800];
    copy_data(tmp, data_dir, sizeof data_dir);
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    struct harness_daemon d;
    daemon_start(&d, tmp, state_dir, "\"push_enabled\": true, \"push_max_app_merge_bytes\": 200");
    replay(d.port, "register-executor-with-merge-dir", data_dir, false);
    replay_range(d.port, "push-blocks", data_dir, 0, 1, false); /* 103 bytes */
    struct rec_frames c2s;
    rec_load("push-blocks", "c2s.bin", &c2s);
    struct client c;
    client_open(&c, d.port);
    client_send(&c, c2s.f[1].bytes, c2s.f[1].len); /* 149 more: 252 > 200 */
    struct reply a;
    ck_assert(client_read(&c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_FAILURE);
    char line[512];
    first_line(a.msg.u.rpc_failure.error.data, a.msg.u.rpc_failure.error.len, line, sizeof line);
    ck_assert_msg(strstr(line, "push_max_app_merge_bytes") != NULL, "%s", line);
    reply_free(&a);
    ck_assert(!client_read(&c, &a));
    client_close(&c);
    client_open(&c, d.port);
    ck_assert_int_eq(finalize_size(&c, 0), 103);
    client_close(&c);
    size_t len;
    uint8_t *merged = merged_data(data_dir, 0, &len);
    ck_assert_uint_eq(len, 103);
    ck_assert(memcmp(merged, c2s.f[0].bytes + c2s.f[0].content_len + 9, 103) == 0);
    free(merged);
    rec_unload(&c2s);
    daemon_stop_clean(&d);
}
END_TEST

/* The push metrics count what push-blocks and finalize-merge did; removing the application
 * with cleanup deletes its merged files, and after a restart nothing of it is back. */
START_TEST(test_metrics_and_app_removal)
{
    const char *tmp = harness_test_dir();
    char data_dir[800], extra[300], cmd[1200];
    copy_data(tmp, data_dir, sizeof data_dir);
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    int admin = harness_free_port();
    snprintf(extra, sizeof extra,
             "\"push_enabled\": true, \"push_min_chunk_bytes\": 200, \"admin_port\": %d", admin);
    struct harness_daemon d;
    daemon_start(&d, tmp, state_dir, extra);
    replay(d.port, "register-executor-with-merge-dir", data_dir, false);
    replay(d.port, "push-blocks", data_dir, true);
    replay(d.port, "finalize-merge", data_dir, false);
    ck_assert_int_eq(metric(admin, "shuffled_pushes_accepted_total"), 12);
    ck_assert_int_eq(metric(admin, "shuffled_pushes_stale_total"), 1);
    ck_assert_int_eq(metric(admin, "shuffled_pushes_too_late_total"), 1);
    ck_assert_int_eq(metric(admin, "shuffled_pushes_too_old_attempt_total"), 1);
    ck_assert_int_eq(metric(admin, "shuffled_pushes_collision_total"), 0);
    ck_assert_int_eq(metric(admin, "shuffled_push_bytes_merged_total"), 614 + 249 + 43 + 103);
    ck_assert_int_eq(metric(admin, "shuffled_finalize_shuffle_merge_latency_seconds_count"), 3);
    http_expect(admin, "POST", "/admin/remove-application?app_id=app-cap&cleanup_local_dirs=true",
                200, NULL);
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s/" MERGED "' -type f)\"", data_dir);
    ck_assert_int_eq(system(cmd), 0);
    restart(&d);
    expect_first_push_refused(d.port, "java.lang.IllegalArgumentException: application app-cap "
                                      "is not registered or NM was restarted.");
    ck_assert_int_eq(system(cmd), 0);
    daemon_stop_clean(&d);
}
END_TEST

/* A large body sent in random small pieces with pauses (so the daemon reads it in many
 * pieces, most straight into the upload's buffer) is merged byte for byte; a large body cut
 * short after many pieces leaves nothing of itself in the merged file. */
START_TEST(test_body_in_small_pieces)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    enum { BODY = 300000 };
    uint8_t *body = malloc(BODY);
    ck_assert_ptr_nonnull(body);
    unsigned seed = 17;
    for (size_t i = 0; i < BODY; i++)
        body[i] = (uint8_t)rand_r(&seed);
    struct client c, cut;
    client_open(&c, d.port);
    push_start(&c, 1, 8, 0, 0, body, BODY, 0);
    for (size_t at = 0, n = 0; at < BODY; at += n) {
        n = 1 + (size_t)rand_r(&seed) % 20000;
        if (n > BODY - at)
            n = BODY - at;
        client_send(&c, body + at, n);
        if (rand_r(&seed) % 4 == 0)
            usleep(2000);
    }
    ck_assert_int_eq(push_code(&c, 1), 0);
    client_open(&cut, d.port);
    push_start(&cut, 2, 8, 1, 0, body, BODY, 0);
    for (size_t at = 0; at < 100000; at += 10000) {
        client_send(&cut, body + at, 10000);
        usleep(2000);
    }
    client_close(&cut);
    usleep(200 * 1000);
    ck_assert_int_eq(finalize_size(&c, 8), BODY);
    size_t len;
    uint8_t *merged = merged_data(data_dir, 8, &len);
    ck_assert_uint_eq(len, BODY);
    ck_assert(memcmp(merged, body, BODY) == 0);
    free(merged);
    free(body);
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "push_limits", .name = "limits", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_collision_deferral_and_truncated_body, test_merge_dir_outside_roots_refused,
           test_app_merge_limit, test_metrics_and_app_removal, test_body_in_small_pieces)
