/* SPDX-License-Identifier: Apache-2.0 */
/* A BlockPushReturnCode SUCCESS is an answer the daemon keeps across a crash: pushes are sent
 * pipelined (many blocks per read callback, on two connections, so two event loops batch
 * their journal records at once), the daemon is killed with SIGKILL the moment the last
 * answer is in, restarted on the same state dir, and every block answered SUCCESS is in its
 * partition's MergeStatuses bitmap, with its bytes in the merged data file. */
#include <config.h>

#include <roaring/roaring.h>
#include <signal.h>

#include "push_replay.h"
#include "../check_main.h"

#define CONNS 2
#define BLOCKS 400 /* per connection, in rounds of ROUND */
#define ROUND 100
#define BODY 24

/* Block (shuffle, map)'s body: says whose it is, so it can be found in the merged file. */
static void body_of(int32_t shuffle, int32_t map, uint8_t *body)
{
    char text[BODY + 1];
    snprintf(text, sizeof text, "shuffle-%03d-map-%05d...", (int)shuffle % 1000, (int)map % 100000);
    memcpy(body, text, BODY);
}

/* The UploadStream of (shuffle, map, reduce 0) and its body appended to out. */
static void encode_push(struct proto_writer *out, int64_t request_id, int32_t shuffle, int32_t map)
{
    struct blockmsg b = {.type = BLOCKMSG_PUSH_BLOCK_STREAM};
    b.u.push_block_stream.layout = BLOCKMSG_LAYOUT_32;
    b.u.push_block_stream.app_id = (struct proto_bytes){"app-cap", 7};
    b.u.push_block_stream.app_attempt_id = 1;
    b.u.push_block_stream.shuffle_id = shuffle;
    b.u.push_block_stream.map_index = map;
    struct proto_writer meta;
    proto_writer_init(&meta);
    blockmsg_encode(&meta, &b);
    struct proto_msg m = {.type = PROTO_UPLOAD_STREAM};
    m.u.upload_stream.request_id = request_id;
    m.u.upload_stream.meta = (struct proto_view){meta.buf, (uint32_t)meta.len};
    m.u.upload_stream.body_byte_count = BODY;
    proto_msg_encode(out, &m);
    proto_writer_free(&meta);
    uint8_t body[BODY];
    body_of(shuffle, map, body);
    proto_write_raw(out, body, BODY);
}

/* The MergeStatuses of (shuffle, merge 0) after FinalizeShuffleMerge: reduce 0's bitmap
 * (the caller frees it) and merged size. */
static roaring_bitmap_t *finalize_bitmap(struct client *c, int32_t shuffle, int64_t *size)
{
    struct blockmsg f = {.type = BLOCKMSG_FINALIZE_SHUFFLE_MERGE}, st;
    f.u.finalize_shuffle_merge.layout = BLOCKMSG_LAYOUT_32;
    f.u.finalize_shuffle_merge.app_id = (struct proto_bytes){"app-cap", 7};
    f.u.finalize_shuffle_merge.app_attempt_id = 1;
    f.u.finalize_shuffle_merge.shuffle_id = shuffle;
    struct reply a;
    char err[256];
    client_rpc_msg(c, &f, &a);
    ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
    ck_assert_int_eq(
        blockmsg_decode(a.msg.u.rpc.body.data, a.msg.u.rpc.body.len, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.u.merge_statuses.bitmap_count, 1);
    ck_assert_int_eq(st.u.merge_statuses.reduce_ids.items[0], 0);
    *size = st.u.merge_statuses.sizes.items[0];
    const struct proto_bytes *raw = &st.u.merge_statuses.bitmaps[0];
    roaring_bitmap_t *maps = roaring_bitmap_portable_deserialize_safe(raw->data, raw->len);
    ck_assert(maps != NULL);
    blockmsg_free(&st);
    reply_free(&a);
    return maps;
}

START_TEST(test_success_survives_kill9)
{
    char data_dir[800];
    const char *tmp = harness_test_dir();
    copy_data(tmp, data_dir, sizeof data_dir);
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    struct harness_daemon d;
    daemon_start(&d, tmp, state_dir,
                 "\"push_enabled\": true, \"push_min_chunk_bytes\": 200, \"io_threads\": 2");
    replay(d.port, "register-executor-with-merge-dir", data_dir, false);

    struct client c[CONNS];
    static bool success[CONNS][BLOCKS];
    int64_t id = 1;
    int answered_success = 0;
    for (int k = 0; k < CONNS; k++) {
        client_open(&c[k], d.port);
        /* the partition's first block creates its files (on the pool); the rest are merged
         * on the connection's event loop */
        uint8_t body[BODY];
        body_of(30 + k, 0, body);
        push_start(&c[k], id, 30 + k, 0, 0, body, BODY, BODY);
        success[k][0] = push_code(&c[k], id++) == 0 /* SUCCESS */;
        answered_success += success[k][0];
    }
    for (int32_t first = 1; first < BLOCKS; first += ROUND) {
        int32_t end = first + ROUND < BLOCKS ? first + ROUND : BLOCKS;
        int64_t first_id[CONNS];
        for (int k = 0; k < CONNS; k++) { /* one send each: many pushes per read */
            struct proto_writer w;
            proto_writer_init(&w);
            first_id[k] = id;
            for (int32_t map = first; map < end; map++)
                encode_push(&w, id++, 30 + k, map);
            ck_assert(!w.failed);
            client_send(&c[k], w.buf, w.len);
            proto_writer_free(&w);
        }
        for (int k = 0; k < CONNS; k++)
            for (int32_t map = first; map < end; map++) {
                success[k][map] = push_code(&c[k], first_id[k] + (map - first)) == 0 /* SUCCESS */;
                answered_success += success[k][map];
            }
    }
    /* no clean stop: what was answered must already be on disk (the page cache) */
    int st = harness_daemon_kill(&d, SIGKILL);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    for (int k = 0; k < CONNS; k++)
        client_close(&c[k]);
    ck_assert_int_gt(answered_success, CONNS * BLOCKS / 2); /* most merged, or nothing is shown */

    ck_assert_int_eq(harness_daemon_restart(&d, 0), 0);
    struct client f;
    client_open(&f, d.port);
    for (int k = 0; k < CONNS; k++) {
        int64_t size;
        roaring_bitmap_t *maps = finalize_bitmap(&f, 30 + k, &size);
        size_t len;
        uint8_t *merged = merged_data(data_dir, 30 + k, &len);
        ck_assert_int_le(size, (int64_t)len);
        for (int32_t map = 0; map < BLOCKS; map++) {
            if (!success[k][map])
                continue;
            ck_assert_msg(roaring_bitmap_contains(maps, (uint32_t)map),
                          "shuffle %d map %d answered SUCCESS, not in MergeStatuses after kill -9",
                          30 + k, map);
            uint8_t body[BODY];
            body_of(30 + k, map, body);
            ck_assert_msg(memmem(merged, (size_t)size, body, BODY) != NULL,
                          "shuffle %d map %d: its bytes are not in the merged file", 30 + k, map);
        }
        free(merged);
        roaring_bitmap_free(maps);
    }
    client_close(&f);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "push_crash", .name = "kill9", .timeout_s = 120, .needs_shared_vectors = true),
           test_success_survives_kill9)
