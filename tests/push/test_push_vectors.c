/* SPDX-License-Identifier: Apache-2.0 */
/* Spark 3.5's recorded push-based shuffle conversations replayed against the real daemon
 * (push_enabled, push_min_chunk_bytes 200 as the recording server had): the registration
 * with a merge dir, the 15 pushes of push-blocks and its finalize, finalize-merge, and
 * remove-shuffle-merge. Every reply must equal the Java server's byte for byte (the request
 * ids are the recorded ones), the server must close after TOO_OLD_ATTEMPT_PUSH, and the
 * merged .data/.index/.meta files must equal the ones the Java server wrote. */
#include <config.h>

#include <dirent.h>
#include <sys/stat.h>

#include "../block/vector_replay.h"
#include "../harness/fs.h"
#include "../harness/port.h"
#include "../unit/http_client.h"
#include "../check_main.h"

#define REC_PREFIX "/tmp/shuffle-vectors-35/data"
#define MERGED "merge_manager_1"

struct rec_frame {
    int type;
    uint8_t *bytes; /* the whole frame as recorded, raw body included */
    size_t len;
    size_t content_at, content_len;
};

struct rec_frames {
    struct rec_frame f[32];
    size_t n;
    const uint8_t *base;
};

static int rec_collect(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct rec_frames *fs = ctx;
    if (ev == FRAME_MESSAGE) {
        ck_assert_uint_lt(fs->n, 32);
        struct rec_frame *f = &fs->f[fs->n++];
        f->type = out->type;
        f->content_at = (size_t)(out->content - fs->base);
        f->content_len = out->content_len;
        f->bytes = (uint8_t *)fs->base + f->content_at - 9;
        f->len = out->content_len + 9;
    } else if (ev == FRAME_RAW) {
        fs->f[fs->n - 1].len += out->raw_len; /* the body follows its frame */
    }
    return 0;
}

/* Frames of vectors-35/<scenario>/<name>; fs->base is the file (free it). */
static void rec_load(const char *scenario, const char *name, struct rec_frames *fs)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/vectors-35/%s/%s", harness_shared_dir(), scenario, name);
    size_t len;
    uint8_t *buf = harness_read_file(path, &len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    memset(fs, 0, sizeof *fs);
    fs->base = buf;
    ck_assert_int_eq(frame_scan(buf, len, 0, rec_collect, fs, err, sizeof err), 0);
}

static void rec_unload(struct rec_frames *fs)
{
    free((void *)fs->base);
}

/* The recorded RegisterExecutor with its dirs moved under data_dir. */
static void send_registration(struct client *c, const struct rec_frame *f, const char *data_dir)
{
    struct proto_msg q;
    struct blockmsg bm;
    char err[256];
    ck_assert_int_eq(proto_msg_decode(f->type, f->bytes + 9, f->content_len, &q, err, sizeof err),
                     0);
    ck_assert_int_eq(blockmsg_decode(q.u.rpc.body.data, q.u.rpc.body.len, &bm, err, sizeof err), 0);
    struct proto_string_array *dirs = &bm.u.register_executor.info.local_dirs;
    for (uint32_t i = 0; i < dirs->count; i++) {
        char nd[1024];
        ck_assert(strncmp(dirs->items[i].data, REC_PREFIX, strlen(REC_PREFIX)) == 0);
        snprintf(nd, sizeof nd, "%s%s", data_dir, dirs->items[i].data + strlen(REC_PREFIX));
        proto_bytes_free(&dirs->items[i]);
        proto_bytes_set_str(&dirs->items[i], nd);
    }
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &bm);
    blockmsg_free(&bm);
    q.u.rpc.body = (struct proto_view){w.buf, (uint32_t)w.len};
    client_send_msg(c, &q);
    proto_writer_free(&w);
}

/* Our next frame equals recorded frame r byte for byte. */
static void expect_frame(struct client *c, const struct rec_frame *r, const char *where)
{
    struct reply a;
    ck_assert_msg(client_read(c, &a), "%s: no reply", where);
    ck_assert_msg(a.type == r->type, "%s: reply type %d, Spark sent %d", where, a.type, r->type);
    ck_assert_msg(a.len == r->content_len && memcmp(a.content, r->bytes + 9, a.len) == 0,
                  "%s: reply differs from Spark's", where);
    reply_free(&a);
}

/* Sends client frames [first, end) of scenario (end 0: all), checking each answer against
 * the recorded one; a OneWayMessage has none. (In these scenarios the i-th answered frame
 * answers the i-th request.) */
static void replay_range(int port, const char *scenario, const char *data_dir, size_t first,
                         size_t end, bool ends_closed)
{
    struct rec_frames c2s, s2c;
    rec_load(scenario, "c2s.bin", &c2s);
    rec_load(scenario, "s2c.bin", &s2c);
    struct client c;
    client_open(&c, port);
    size_t answered = first;
    for (size_t i = first; i < (end ? end : c2s.n); i++) {
        const struct rec_frame *f = &c2s.f[i];
        char where[200];
        snprintf(where, sizeof where, "%s frame %zu", scenario, i);
        if (f->type == PROTO_RPC_REQUEST && f->bytes[21] == BLOCKMSG_REGISTER_EXECUTOR)
            send_registration(&c, f, data_dir);
        else
            client_send(&c, f->bytes, f->len);
        if (f->type == PROTO_ONE_WAY_MESSAGE) {
            usleep(300 * 1000); /* as the recording: the removal is done before what follows */
            continue;
        }
        if (f->type == PROTO_MERGED_BLOCK_META_REQUEST)
            break; /* the read side's (not replayed here) */
        ck_assert_uint_lt(answered, s2c.n);
        expect_frame(&c, &s2c.f[answered++], where);
    }
    if (ends_closed) {
        struct reply a;
        ck_assert_msg(!client_read(&c, &a), "%s: the server must close the connection", scenario);
    }
    client_close(&c);
    rec_unload(&c2s);
    rec_unload(&s2c);
}

static void replay(int port, const char *scenario, const char *data_dir, bool ends_closed)
{
    replay_range(port, scenario, data_dir, 0, 0, ends_closed);
}

/* The data set copied under tmp, the merge dir emptied (the executor's 64 sub dirs kept). */
static void copy_data(const char *tmp, char *data_dir, size_t len)
{
    char cmd[4096];
    snprintf(data_dir, len, "%s/data", tmp);
    snprintf(cmd, sizeof cmd,
             "cp -r '%s/vectors-35/data' '%s/' && chmod -R u+w '%s' && "
             "find '%s/" MERGED "' -type f -delete && cd '%s/" MERGED "' && "
             "for i in $(seq 0 63); do mkdir -p $(printf %%02x $i); done",
             harness_shared_dir(), tmp, data_dir, data_dir, data_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Every merged file the Java server wrote for shuffle (-1: any) is ours, byte for byte. */
static int compare_merged(const char *data_dir, int shuffle)
{
    char rec_root[1024];
    snprintf(rec_root, sizeof rec_root, "%s/vectors-35/data/" MERGED, harness_shared_dir());
    int files = 0;
    for (int sub = 0; sub < 64; sub++) {
        char rec_dir[1100];
        snprintf(rec_dir, sizeof rec_dir, "%s/%02x", rec_root, sub);
        DIR *d = opendir(rec_dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            int s;
            if (sscanf(de->d_name, "shuffleMerged_app-cap_%d_", &s) != 1 ||
                (shuffle >= 0 && s != shuffle))
                continue;
            char a[1400], b[1400];
            snprintf(a, sizeof a, "%s/%s", rec_dir, de->d_name);
            snprintf(b, sizeof b, "%s/" MERGED "/%02x/%s", data_dir, sub, de->d_name);
            size_t la, lb;
            uint8_t *ba = harness_read_file(a, &la), *bb = harness_read_file(b, &lb);
            ck_assert_msg(bb != NULL, "%s: not written", b);
            ck_assert_msg(la == lb && memcmp(ba, bb, la) == 0, "%s differs from Spark's (%zu/%zu)",
                          de->d_name, lb, la);
            free(ba);
            free(bb);
            files++;
        }
        closedir(d);
    }
    return files;
}

static bool merged_exists(const char *data_dir, const char *sub, const char *name)
{
    char p[1400];
    snprintf(p, sizeof p, "%s/" MERGED "/%s/%s", data_dir, sub, name);
    return harness_path_exists(p);
}

/* The state dir's name (it must outlive the daemon: a restart reuses the options). */
static char state_dir[700];

static void start(struct harness_daemon *d, const char *tmp)
{
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    daemon_start(d, tmp, state_dir, "\"push_enabled\": true, \"push_min_chunk_bytes\": 200");
}

/* A fresh copy of the data set, the daemon started on it, the recorded registration with a
 * merge dir replayed. */
static void start_registered(struct harness_daemon *d, char *data_dir, size_t len)
{
    const char *tmp = harness_test_dir();
    copy_data(tmp, data_dir, len);
    start(d, tmp);
    replay(d->port, "register-executor-with-merge-dir", data_dir, false);
}

/* Stops d cleanly and starts it again on the same state. */
static void restart(struct harness_daemon *d)
{
    ck_assert_int_eq(harness_daemon_stop(d), 0);
    ck_assert_int_eq(harness_daemon_restart(d, 0), 0);
}

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

/* Restarts between the pushes, after finalize and before the removal lose nothing: the
 * duplicate and the stale push are still recognised, the merged files and MergeStatuses are
 * Spark's, a finalized merge stays finalized (TOO_LATE) and is finalized again alike. */
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
    replay(d.port, "finalize-merge", data_dir, false);
    ck_assert_int_eq(compare_merged(data_dir, -1), 12);
    replay(d.port, "remove-shuffle-merge", data_dir, false);
    restart(&d);
    ck_assert(!merged_exists(data_dir, "3c", "shuffleMerged_app-cap_0_0_0.data"));
    ck_assert_int_eq(compare_merged(data_dir, 2), 3);
    daemon_stop_clean(&d);
}
END_TEST

/* Sends the UploadStream of PushBlockStream(app-cap, attempt 1, shuffle, merge 0, map, reduce)
 * announcing body_len bytes, then the first `send` bytes of body. */
static void push_start(struct client *c, int64_t request_id, int32_t shuffle, int32_t map,
                       int32_t reduce, const uint8_t *body, size_t body_len, size_t send)
{
    struct blockmsg b = {.type = BLOCKMSG_PUSH_BLOCK_STREAM};
    b.u.push_block_stream.layout = BLOCKMSG_LAYOUT_32;
    b.u.push_block_stream.app_id = (struct proto_bytes){"app-cap", 7};
    b.u.push_block_stream.app_attempt_id = 1;
    b.u.push_block_stream.shuffle_id = shuffle;
    b.u.push_block_stream.map_index = map;
    b.u.push_block_stream.reduce_id = reduce;
    struct proto_writer meta;
    proto_writer_init(&meta);
    blockmsg_encode(&meta, &b);
    struct proto_msg m = {.type = PROTO_UPLOAD_STREAM};
    m.u.upload_stream.request_id = request_id;
    m.u.upload_stream.meta = (struct proto_view){meta.buf, (uint32_t)meta.len};
    m.u.upload_stream.body_byte_count = (int64_t)body_len;
    client_send_msg(c, &m);
    proto_writer_free(&meta);
    if (send)
        client_send(c, body, send);
}

/* The BlockPushReturnCode answering request_id. */
static int push_code(struct client *c, int64_t request_id)
{
    struct reply a;
    char err[256];
    struct blockmsg b;
    ck_assert(client_read(c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
    ck_assert(a.msg.u.rpc.request_id == request_id);
    ck_assert_int_eq(
        blockmsg_decode(a.msg.u.rpc.body.data, a.msg.u.rpc.body.len, &b, err, sizeof err), 0);
    ck_assert_int_eq(b.type, BLOCKMSG_BLOCK_PUSH_RETURN_CODE);
    int code = b.u.block_push_return_code.return_code;
    blockmsg_free(&b);
    reply_free(&a);
    return code;
}

/* FinalizeShuffleMerge(app-cap, 1, shuffle, 0): the size merged for reduce 0. */
static int64_t finalize_size(struct client *c, int32_t shuffle)
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
    ck_assert_uint_eq(st.u.merge_statuses.sizes.count, 1);
    int64_t size = st.u.merge_statuses.sizes.items[0];
    blockmsg_free(&st);
    reply_free(&a);
    return size;
}

/* The merged data file of (shuffle, merge 0, reduce 0), read back. */
static uint8_t *merged_data(const char *data_dir, int32_t shuffle, size_t *len)
{
    char cmd[1200], path[1200];
    snprintf(cmd, sizeof cmd, "find '%s/" MERGED "' -name 'shuffleMerged_app-cap_%d_0_0.data'",
             data_dir, shuffle);
    FILE *p = popen(cmd, "r");
    ck_assert(p && fgets(path, sizeof path, p));
    pclose(p);
    path[strcspn(path, "\n")] = 0;
    uint8_t *b = harness_read_file(path, len);
    ck_assert(b != NULL);
    return b;
}

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

/* bytes (an UploadStream and its body) are answered with an RpcFailure whose first line
 * starts with `error`, and the connection is closed (the body cannot be skipped). */
static void expect_upload_refused(int port, const uint8_t *bytes, size_t len, const char *error)
{
    struct client c;
    client_open(&c, port);
    client_send(&c, bytes, len);
    struct reply a;
    ck_assert(client_read(&c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_FAILURE);
    char line[512];
    first_line(a.msg.u.rpc_failure.error.data, a.msg.u.rpc_failure.error.len, line, sizeof line);
    ck_assert_msg(strncmp(line, error, strlen(error)) == 0, "'%s', expected '%s'", line, error);
    reply_free(&a);
    ck_assert(!client_read(&c, &a));
    client_close(&c);
}

/* The same for push-blocks' first push. */
static void expect_first_push_refused(int port, const char *error)
{
    struct rec_frames c2s;
    rec_load("push-blocks", "c2s.bin", &c2s);
    expect_upload_refused(port, c2s.f[0].bytes, c2s.f[0].len, error);
    rec_unload(&c2s);
}

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

/* The value of metric `name` in the daemon's /metrics. */
static long long metric(int admin_port, const char *name)
{
    struct http_response r = http_request(admin_port, "GET", "/metrics");
    ck_assert_int_eq(r.status, 200);
    char key[200];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(r.body, key);
    ck_assert_msg(at != NULL, "no metric %s", name);
    long long v = strtoll(at + strlen(key), NULL, 10);
    free(r.body);
    return v;
}

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
           test_collision_deferral_and_truncated_body, test_merge_dir_outside_roots_refused,
           test_app_merge_limit, test_metrics_and_app_removal, test_push_31_layout_answered_as_31,
           test_own_merge_serves_recorded_reads, test_push_disabled_answers_as_before)
