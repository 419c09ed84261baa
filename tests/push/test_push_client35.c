/* SPDX-License-Identifier: Apache-2.0 */
/* What a Spark 3.5 client meets on the write side beyond the recordings (checked against
 * RemoteBlockPushResolver, ExternalBlockHandler and DiskBlockManager of 3.5): an executor
 * registered without an attempt id (attempt -1, merge dir "merge_manager"), zero-length
 * blocks, a merge dir the executor has not created yet, and FinalizeShuffleMerge of an
 * application without merge dirs. */
#include <config.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "push_replay.h"
#include "../check_main.h"

#define SM "org.apache.spark.shuffle.sort.SortShuffleManager"

/* The recorded registration with shuffleManager sm, answered with an empty RpcResponse. */
static void register_with(int port, const char *data_dir, const char *sm)
{
    struct rec_frames c2s;
    rec_load("register-executor-with-merge-dir", "c2s.bin", &c2s);
    struct client c;
    client_open(&c, port);
    send_registration_as(&c, &c2s.f[0], data_dir, NULL, sm);
    struct reply a;
    ck_assert(client_read(&c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
    ck_assert_uint_eq(a.msg.u.rpc.body.len, 0);
    reply_free(&a);
    client_close(&c);
    rec_unload(&c2s);
}

/* FinalizeShuffleMerge(app, attempt, shuffle, merge_id): the MergeStatuses (0) or the
 * RpcFailure's first line in err (-1). */
static int finalize_as(struct client *c, const char *app, int32_t attempt, int32_t shuffle,
                       int32_t merge_id, struct blockmsg *st, char *err, size_t errlen)
{
    struct blockmsg f = {.type = BLOCKMSG_FINALIZE_SHUFFLE_MERGE};
    f.u.finalize_shuffle_merge.layout = BLOCKMSG_LAYOUT_32;
    f.u.finalize_shuffle_merge.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    f.u.finalize_shuffle_merge.app_attempt_id = attempt;
    f.u.finalize_shuffle_merge.shuffle_id = shuffle;
    f.u.finalize_shuffle_merge.shuffle_merge_id = merge_id;
    struct reply a;
    char why[256];
    client_rpc_msg(c, &f, &a);
    int rc = -1;
    if (a.type == PROTO_RPC_FAILURE) {
        first_line(a.msg.u.rpc_failure.error.data, a.msg.u.rpc_failure.error.len, err, errlen);
    } else {
        ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
        ck_assert_int_eq(
            blockmsg_decode(a.msg.u.rpc.body.data, a.msg.u.rpc.body.len, st, why, sizeof why), 0);
        ck_assert_int_eq(st->type, BLOCKMSG_MERGE_STATUSES);
        rc = 0;
    }
    reply_free(&a);
    return rc;
}

/* The file `name` somewhere under data_dir/merge_dir (placement is test_merged_layout's). */
static uint8_t *merged_file(const char *data_dir, const char *merge_dir, const char *name,
                            size_t *len)
{
    char cmd[1400], path[1400];
    snprintf(cmd, sizeof cmd, "find '%s/%s' -name '%s'", data_dir, merge_dir, name);
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    bool found = fgets(path, sizeof path, p) != NULL;
    pclose(p);
    ck_assert_msg(found, "%s not under %s/%s", name, data_dir, merge_dir);
    path[strcspn(path, "\n")] = 0;
    uint8_t *b = harness_read_file(path, len);
    ck_assert(b != NULL);
    return b;
}

/* {v} as Java's RoaringBitmap serializes it (one array container). */
static void expect_bitmap_of_one(const struct proto_bytes *bm, uint16_t v)
{
    const uint8_t want[] = {0x3a, 0x30, 0, 0,    1, 0, 0, 0,          0,
                            0,    0,    0, 0x10, 0, 0, 0, (uint8_t)v, (uint8_t)(v >> 8)};
    ck_assert_uint_eq(bm->len, sizeof want);
    ck_assert(memcmp(bm->data, want, sizeof want) == 0);
}

/* DiskBlockManager without spark.app.attempt.id (not YARN): {"mergeDir":"merge_manager"}, no
 * attemptId; the service takes attempt -1 (RemoteBlockPushResolver.UNDEFINED_ATTEMPT_ID), so
 * the client's pushes and finalize carry -1 and anything else is an older attempt. A
 * zero-length block (Spark's pusher skips them, a client may not) is merged: its map index
 * is in the bitmap, nothing is written, and a chunk holding only such blocks is never closed
 * (Spark's finalizePartition writes a last boundary only when the data moved). */
START_TEST(test_no_attempt_id_and_empty_blocks)
{
    const char *tmp = harness_test_dir();
    char data_dir[800], dir[900];
    copy_data(tmp, data_dir, sizeof data_dir);
    snprintf(dir, sizeof dir, "%s/merge_manager", data_dir);
    ck_assert_int_eq(harness_fill_block_dir(dir, 64), 0); /* as the executor creates it */
    struct harness_daemon d;
    start(&d, tmp);
    register_with(d.port, data_dir, SM ":{\"mergeDir\":\"merge_manager\"}}}");

    uint8_t body[300];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7);
    struct client c;
    client_open(&c, d.port);
    push_start_merge(&c, 1, -1, 0, 0, 0, 0, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(&c, 1), 0);
    push_start_merge(&c, 2, -1, 0, 0, 1, 0, body, 0, 0); /* empty, after a closed chunk */
    ck_assert_int_eq(push_code(&c, 2), 0);
    push_start_merge(&c, 3, -1, 0, 0, 2, 1, body, 0, 0); /* the only block of reduce 1 */
    ck_assert_int_eq(push_code(&c, 3), 0);
    push_start_merge(&c, 4, -1, 0, 0, 2, 1, body, 0, 0); /* merged already */
    ck_assert_int_eq(push_code(&c, 4), 0);

    struct blockmsg st;
    char err[512];
    ck_assert_int_eq(finalize_as(&c, "app-cap", -1, 0, 0, &st, err, sizeof err), 0);
    ck_assert_int_eq(st.u.merge_statuses.shuffle_id, 0);
    ck_assert_int_eq(st.u.merge_statuses.shuffle_merge_id, 0);
    ck_assert_uint_eq(st.u.merge_statuses.bitmap_count, 2);
    ck_assert_uint_eq(st.u.merge_statuses.reduce_ids.count, 2);
    ck_assert_uint_eq(st.u.merge_statuses.sizes.count, 2);
    ck_assert_int_eq(st.u.merge_statuses.reduce_ids.items[0], 0);
    ck_assert_int_eq(st.u.merge_statuses.reduce_ids.items[1], 1);
    ck_assert_int_eq(st.u.merge_statuses.sizes.items[0], (int64_t)sizeof body);
    ck_assert_int_eq(st.u.merge_statuses.sizes.items[1], 0);
    /* {0,1}: an array container (a run only from 4 values in a row, Java's rule) */
    const uint8_t b01[] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0x10, 0, 0, 0, 0, 0, 1, 0};
    ck_assert_uint_eq(st.u.merge_statuses.bitmaps[0].len, sizeof b01);
    ck_assert(memcmp(st.u.merge_statuses.bitmaps[0].data, b01, sizeof b01) == 0);
    expect_bitmap_of_one(&st.u.merge_statuses.bitmaps[1], 2);
    blockmsg_free(&st);

    /* reduce 0: one chunk [0, 300) of map 0; the empty block of map 1 is in no chunk */
    size_t len;
    uint8_t *b = merged_file(data_dir, "merge_manager", "shuffleMerged_app-cap_0_0_0.data", &len);
    ck_assert_uint_eq(len, sizeof body);
    ck_assert(memcmp(b, body, len) == 0);
    free(b);
    b = merged_file(data_dir, "merge_manager", "shuffleMerged_app-cap_0_0_0.index", &len);
    const uint8_t idx0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x2c};
    ck_assert_uint_eq(len, sizeof idx0);
    ck_assert(memcmp(b, idx0, len) == 0);
    free(b);
    b = merged_file(data_dir, "merge_manager", "shuffleMerged_app-cap_0_0_0.meta", &len);
    struct proto_bytes meta0 = {(char *)b, (uint32_t)len};
    expect_bitmap_of_one(&meta0, 0);
    free(b);
    /* reduce 1: empty data, the index holds only its first 0, no chunk in the meta */
    b = merged_file(data_dir, "merge_manager", "shuffleMerged_app-cap_0_0_1.data", &len);
    ck_assert_uint_eq(len, 0);
    free(b);
    b = merged_file(data_dir, "merge_manager", "shuffleMerged_app-cap_0_0_1.index", &len);
    const uint8_t idx1[8] = {0};
    ck_assert_uint_eq(len, sizeof idx1);
    ck_assert(memcmp(b, idx1, len) == 0);
    free(b);
    b = merged_file(data_dir, "merge_manager", "shuffleMerged_app-cap_0_0_1.meta", &len);
    ck_assert_uint_eq(len, 0);
    free(b);

    /* any other attempt id is "older" for an application registered without one */
    push_start_merge(&c, 5, 1, 3, 0, 0, 0, body, sizeof body, 0);
    ck_assert_int_eq(push_code(&c, 5), 4);
    struct reply a;
    ck_assert(!client_read(&c, &a));
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

#define NO_PARTITION                                                                               \
    "java.lang.RuntimeException: Cannot initialize merged shuffle partition for appId app-cap "    \
    "shuffleId 4 shuffleMergeId 0 reduceId 2"

/* The service creates no merge dir: a push before the executor made it fails as Spark's
 * (RuntimeException "Cannot initialize merged shuffle partition ...", then the connection is
 * closed); once the dir is there, pushes merge (the registration named it already). */
START_TEST(test_merge_dir_created_after_registration)
{
    const char *tmp = harness_test_dir();
    char data_dir[800], dir[900];
    copy_data(tmp, data_dir, sizeof data_dir);
    struct harness_daemon d;
    start(&d, tmp);
    register_with(d.port, data_dir, SM ":{\"mergeDir\":\"merge_manager_9\",\"attemptId\":\"9\"}}}");
    uint8_t body[50] = {1, 2, 3};
    struct client c;
    client_open(&c, d.port);
    push_start_merge(&c, 1, 9, 4, 0, 3, 2, body, sizeof body, sizeof body);
    struct reply a;
    ck_assert(client_read(&c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_FAILURE);
    char line[512];
    first_line(a.msg.u.rpc_failure.error.data, a.msg.u.rpc_failure.error.len, line, sizeof line);
    ck_assert_msg(strcmp(line, NO_PARTITION) == 0, "'%s'", line);
    reply_free(&a);
    ck_assert(!client_read(&c, &a));
    client_close(&c);

    snprintf(dir, sizeof dir, "%s/merge_manager_9", data_dir);
    ck_assert_int_eq(harness_fill_block_dir(dir, 64), 0);
    client_open(&c, d.port);
    push_start_merge(&c, 2, 9, 4, 0, 3, 2, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(&c, 2), 0);
    struct blockmsg st;
    char err[512];
    ck_assert_int_eq(finalize_as(&c, "app-cap", 9, 4, 0, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.u.merge_statuses.reduce_ids.count, 1);
    ck_assert_int_eq(st.u.merge_statuses.reduce_ids.items[0], 2);
    ck_assert_int_eq(st.u.merge_statuses.sizes.items[0], (int64_t)sizeof body);
    expect_bitmap_of_one(&st.u.merge_statuses.bitmaps[0], 3);
    blockmsg_free(&st);
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

/* FinalizeShuffleMerge of an application the merge manager does not know (never registered,
 * or registered without merge dir info): Spark's validateAndGetAppShuffleInfo refusal, and
 * the connection stays usable. A newer shuffleMergeId of a finalized shuffle is refused too
 * (Spark throws for isFinalized() whatever the merge id). */
START_TEST(test_finalize_refusals)
{
    const char *tmp = harness_test_dir();
    char data_dir[800];
    copy_data(tmp, data_dir, sizeof data_dir);
    struct harness_daemon d;
    start(&d, tmp);
    register_with(d.port, data_dir, SM); /* app-cap without push */
    struct client c;
    client_open(&c, d.port);
    struct blockmsg st;
    char err[512];
    ck_assert_int_eq(finalize_as(&c, "app-cap", 1, 0, 0, &st, err, sizeof err), -1);
    ck_assert_str_eq(err, "java.lang.IllegalArgumentException: application app-cap is not "
                          "registered or NM was restarted.");
    ck_assert_int_eq(finalize_as(&c, "app-none", -1, 0, 0, &st, err, sizeof err), -1);
    ck_assert_str_eq(err, "java.lang.IllegalArgumentException: application app-none is not "
                          "registered or NM was restarted.");

    register_with(d.port, data_dir, SM ":{\"mergeDir\":\"merge_manager_1\",\"attemptId\":\"1\"}}}");
    ck_assert_int_eq(finalize_as(&c, "app-cap", 1, 7, 0, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.u.merge_statuses.bitmap_count, 0);
    blockmsg_free(&st);
    ck_assert_int_eq(finalize_as(&c, "app-cap", 1, 7, 1, &st, err, sizeof err), -1);
    ck_assert_str_eq(err, "java.lang.RuntimeException: Shuffle merge finalize request for shuffle "
                          "7 with shuffleMergeId 1 is stale shuffle finalize request as shuffle "
                          "blocks of a higher shuffleMergeId for the shuffle is already being "
                          "pushed");
    /* a push of that newer merge id starts it, and then it can be finalized */
    uint8_t body[10] = {9};
    push_start_merge(&c, 3, 1, 7, 1, 0, 0, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(&c, 3), 0);
    ck_assert_int_eq(finalize_as(&c, "app-cap", 1, 7, 1, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.u.merge_statuses.bitmap_count, 1);
    blockmsg_free(&st);
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

/* With TCP_CORK, what is sent meanwhile leaves in one segment when it is lifted. */
static void cork(struct client *c, bool on)
{
    int v = on;
    ck_assert_int_eq(setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v), 0);
}

/* Merged files of shuffle under data_dir's merge_manager_1. */
static int shuffle_files(const char *data_dir, int shuffle)
{
    char cmd[1200], line[64];
    snprintf(cmd, sizeof cmd, "find '%s/" MERGED "' -name 'shuffleMerged_app-cap_%d_*' | wc -l",
             data_dir, shuffle);
    FILE *p = popen(cmd, "r");
    ck_assert(p && fgets(line, sizeof line, p));
    pclose(p);
    return atoi(line);
}

/* RemoveShuffleMerge is a OneWayMessage: the client sends what follows at once, on the same
 * connection. Spark decides the removal before it reads the next frame (the files go on its
 * cleaner thread), so a push of the removed merge that follows is TOO_LATE and a finalize
 * stale; a newer merge id merges anew. A removal of another attempt or of an older merge id
 * changes nothing (Spark throws, and logs it for a one-way message). */
START_TEST(test_remove_merge_then_push_at_once)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    uint8_t body[300];
    memset(body, 'x', sizeof body);
    struct client c;
    client_open(&c, d.port);
    push_start_merge(&c, 1, 1, 3, 2, 0, 0, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(&c, 1), 0);
    push_start_merge(&c, 2, 1, 3, 2, 1, 1, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(&c, 2), 0);
    ck_assert_int_eq(shuffle_files(data_dir, 3), 6);
    /* all merges of shuffle 3 (merge 2, not finalized), the push in the same segment */
    cork(&c, true);
    send_remove_merge(&c, 1, 3, -1);
    push_start_merge(&c, 3, 1, 3, 2, 2, 0, body, sizeof body, sizeof body);
    cork(&c, false);
    ck_assert_int_eq(push_code(&c, 3), 1);
    ck_assert_int_eq(shuffle_files(data_dir, 3), 0);
    struct blockmsg st;
    char err[512];
    ck_assert_int_eq(finalize_as(&c, "app-cap", 1, 3, 2, &st, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "is stale shuffle finalize request") != NULL, "%s", err);

    push_start_merge(&c, 4, 1, 3, 3, 0, 0, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(&c, 4), 0);
    send_remove_merge(&c, 2, 3, 3); /* not the current attempt */
    send_remove_merge(&c, 1, 3, 1); /* an older merge id */
    push_start_merge(&c, 5, 1, 3, 3, 1, 0, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(&c, 5), 0);
    ck_assert_int_eq(finalize_as(&c, "app-cap", 1, 3, 3, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.u.merge_statuses.reduce_ids.count, 1);
    ck_assert_int_eq(st.u.merge_statuses.sizes.items[0], 2 * (int64_t)sizeof body);
    blockmsg_free(&st);
    ck_assert_int_eq(shuffle_files(data_dir, 3), 3);

    cork(&c, true);
    send_remove_merge(&c, 1, 3, 3); /* the finalized merge, by its id */
    push_start_merge(&c, 6, 1, 3, 3, 2, 0, body, sizeof body, sizeof body);
    cork(&c, false);
    ck_assert_int_eq(push_code(&c, 6), 1);
    ck_assert_int_eq(shuffle_files(data_dir, 3), 0);
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

/* GetLocalDirsForExecutors(app, [id]): the reply, decoded into *out (0), or the failure's
 * first line in err (-1). */
static int local_dirs(struct client *c, const char *app, const char *id, struct blockmsg *out,
                      char *err, size_t errlen)
{
    struct proto_bytes ids[1] = {{(char *)id, (uint32_t)strlen(id)}};
    struct blockmsg q = {.type = BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS};
    q.u.get_local_dirs.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    q.u.get_local_dirs.exec_ids = (struct proto_string_array){ids, 1};
    struct reply a;
    char why[256];
    client_rpc_msg(c, &q, &a);
    int rc = -1;
    if (a.type == PROTO_RPC_FAILURE) {
        first_line(a.msg.u.rpc_failure.error.data, a.msg.u.rpc_failure.error.len, err, errlen);
    } else {
        ck_assert_int_eq(
            blockmsg_decode(a.msg.u.rpc.body.data, a.msg.u.rpc.body.len, out, why, sizeof why), 0);
        ck_assert_int_eq(out->type, BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS);
        rc = 0;
    }
    reply_free(&a);
    return rc;
}

/* A reducer reading merged blocks on its own host asks the service for the merge dirs with
 * the executor id "shuffle-push-merger" (Spark's SHUFFLE_MERGER_IDENTIFIER): the answer is
 * the application's merge dirs, one per registered local dir; an application without merge
 * dirs gets validateAndGetAppShuffleInfo's refusal. */
START_TEST(test_local_dirs_of_the_merger)
{
    char data_dir[800], want[900];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    struct client c;
    client_open(&c, d.port);
    struct blockmsg r;
    char err[512];
    ck_assert_int_eq(local_dirs(&c, "app-cap", "shuffle-push-merger", &r, err, sizeof err), 0);
    ck_assert_uint_eq(r.u.local_dirs.exec_ids.count, 1);
    ck_assert_str_eq(r.u.local_dirs.exec_ids.items[0].data, "shuffle-push-merger");
    ck_assert_uint_eq(r.u.local_dirs.num_local_dirs_by_exec.count, 1);
    ck_assert_int_eq(r.u.local_dirs.num_local_dirs_by_exec.items[0], 2);
    ck_assert_uint_eq(r.u.local_dirs.all_local_dirs.count, 2);
    snprintf(want, sizeof want, "%s/" MERGED, data_dir);
    ck_assert_str_eq(r.u.local_dirs.all_local_dirs.items[0].data, want);
    ck_assert_str_eq(r.u.local_dirs.all_local_dirs.items[1].data, want);
    blockmsg_free(&r);
    ck_assert_int_eq(local_dirs(&c, "app-none", "shuffle-push-merger", &r, err, sizeof err), -1);
    ck_assert_str_eq(err, "java.lang.IllegalArgumentException: application app-none is not "
                          "registered or NM was restarted.");
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

/* FinalizeShuffleMerge(app-cap, 1, shuffle, merge_id) sent, not waited for. */
static void send_finalize(struct client *c, int32_t shuffle, int32_t merge_id)
{
    struct blockmsg f = {.type = BLOCKMSG_FINALIZE_SHUFFLE_MERGE};
    f.u.finalize_shuffle_merge.layout = BLOCKMSG_LAYOUT_32;
    f.u.finalize_shuffle_merge.app_id = (struct proto_bytes){"app-cap", 7};
    f.u.finalize_shuffle_merge.app_attempt_id = 1;
    f.u.finalize_shuffle_merge.shuffle_id = shuffle;
    f.u.finalize_shuffle_merge.shuffle_merge_id = merge_id;
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &f);
    struct proto_msg m = {.type = PROTO_RPC_REQUEST};
    m.u.rpc.request_id = c->next_request_id++;
    m.u.rpc.body = (struct proto_view){w.buf, (uint32_t)w.len};
    client_send_msg(c, &m);
    proto_writer_free(&w);
}

/* Spark finalizes before it reads the connection's next frame: a push right behind a
 * FinalizeShuffleMerge on the same connection is TOO_LATE and not in the MergeStatuses. */
START_TEST(test_push_right_behind_finalize)
{
    char data_dir[800];
    struct harness_daemon d;
    start_registered(&d, data_dir, sizeof data_dir);
    uint8_t body[100];
    memset(body, 'y', sizeof body);
    struct client c;
    client_open(&c, d.port);
    push_start_merge(&c, 1, 1, 8, 0, 0, 0, body, sizeof body, sizeof body);
    ck_assert_int_eq(push_code(&c, 1), 0);
    cork(&c, true);
    send_finalize(&c, 8, 0);
    push_start_merge(&c, 2, 1, 8, 0, 1, 0, body, sizeof body, sizeof body);
    cork(&c, false);
    struct reply a;
    char why[256];
    ck_assert(client_read(&c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
    struct blockmsg st;
    ck_assert_int_eq(
        blockmsg_decode(a.msg.u.rpc.body.data, a.msg.u.rpc.body.len, &st, why, sizeof why), 0);
    ck_assert_uint_eq(st.u.merge_statuses.bitmap_count, 1);
    expect_bitmap_of_one(&st.u.merge_statuses.bitmaps[0], 0);
    ck_assert_int_eq(st.u.merge_statuses.sizes.items[0], (int64_t)sizeof body);
    blockmsg_free(&st);
    reply_free(&a);
    ck_assert_int_eq(push_code(&c, 2), 1);
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "push_client35", .name = "write side", .timeout_s = 120),
           test_no_attempt_id_and_empty_blocks, test_merge_dir_created_after_registration,
           test_finalize_refusals, test_remove_merge_then_push_at_once,
           test_local_dirs_of_the_merger, test_push_right_behind_finalize)
