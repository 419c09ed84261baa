/* SPDX-License-Identifier: Apache-2.0 */
/* For the push write side's tests against the real daemon (header-only): Spark 3.5's recorded
 * frames (vectors-35) sent as recorded, bodies included, each answer compared byte for byte;
 * a fresh copy of the data set with an empty merge dir; the daemon with push_enabled and the
 * recording server's 200-byte chunks; pushes, finalizes and metrics of our own. */
#ifndef SHUFFLED_TESTS_PUSH_PUSH_REPLAY_H
#define SHUFFLED_TESTS_PUSH_PUSH_REPLAY_H

#include <dirent.h>
#include <sys/stat.h>

#include "../block/vector_replay.h"
#include "../harness/fs.h"
#include "../harness/port.h"
#include "../unit/http_client.h"

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

static inline int rec_collect(void *ctx, enum frame_event ev, const struct frame_out *out)
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
static inline void rec_load(const char *scenario, const char *name, struct rec_frames *fs)
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

static inline void rec_unload(struct rec_frames *fs)
{
    free((void *)fs->base);
}

/* The recorded RegisterExecutor with its dirs moved under data_dir; exec and shuffle_manager
 * (NULL: as recorded) replace the executor id and the shuffleManager string. */
static inline void send_registration_as(struct client *c, const struct rec_frame *f,
                                        const char *data_dir, const char *exec,
                                        const char *shuffle_manager)
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
    if (exec) {
        proto_bytes_free(&bm.u.register_executor.exec_id);
        proto_bytes_set_str(&bm.u.register_executor.exec_id, exec);
    }
    if (shuffle_manager) {
        proto_bytes_free(&bm.u.register_executor.info.shuffle_manager);
        proto_bytes_set_str(&bm.u.register_executor.info.shuffle_manager, shuffle_manager);
    }
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &bm);
    blockmsg_free(&bm);
    q.u.rpc.body = (struct proto_view){w.buf, (uint32_t)w.len};
    client_send_msg(c, &q);
    proto_writer_free(&w);
}

static inline void send_registration(struct client *c, const struct rec_frame *f,
                                     const char *data_dir)
{
    send_registration_as(c, f, data_dir, NULL, NULL);
}

/* Our next frame equals recorded frame r byte for byte. */
static inline void expect_frame(struct client *c, const struct rec_frame *r, const char *where)
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
static inline void replay_range(int port, const char *scenario, const char *data_dir, size_t first,
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

static inline void replay(int port, const char *scenario, const char *data_dir, bool ends_closed)
{
    replay_range(port, scenario, data_dir, 0, 0, ends_closed);
}

/* The data set copied under tmp, the merge dir emptied (the executor's 64 sub dirs kept). */
static inline void copy_data(const char *tmp, char *data_dir, size_t len)
{
    char cmd[4096], merged[1100];
    snprintf(data_dir, len, "%s/data", tmp);
    snprintf(cmd, sizeof cmd,
             "cp -r '%s/vectors-35/data' '%s/' && chmod -R u+w '%s' && "
             "find '%s/" MERGED "' -type f -delete",
             harness_shared_dir(), tmp, data_dir, data_dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(merged, sizeof merged, "%s/" MERGED, data_dir);
    ck_assert_int_eq(harness_fill_block_dir(merged, 64), 0); /* the sub dirs the copy lacks */
}

/* Every merged file the Java server wrote for shuffle (-1: any) is ours, byte for byte. */
static inline int compare_merged(const char *data_dir, int shuffle)
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

static inline bool merged_exists(const char *data_dir, const char *sub, const char *name)
{
    char p[1400];
    snprintf(p, sizeof p, "%s/" MERGED "/%s/%s", data_dir, sub, name);
    return harness_path_exists(p);
}

/* The state dir's name (it must outlive the daemon: a restart reuses the options). */
static char state_dir[700];

static inline void start(struct harness_daemon *d, const char *tmp)
{
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    daemon_start(d, tmp, state_dir, "\"push_enabled\": true, \"push_min_chunk_bytes\": 200");
}

/* A fresh copy of the data set, the daemon started on it, the recorded registration with a
 * merge dir replayed. */
static inline void start_registered(struct harness_daemon *d, char *data_dir, size_t len)
{
    const char *tmp = harness_test_dir();
    copy_data(tmp, data_dir, len);
    start(d, tmp);
    replay(d->port, "register-executor-with-merge-dir", data_dir, false);
}

/* Stops d cleanly and starts it again on the same state. */
static inline void restart(struct harness_daemon *d)
{
    ck_assert_int_eq(harness_daemon_stop(d), 0);
    ck_assert_int_eq(harness_daemon_restart(d, 0), 0);
}

/* Sends the UploadStream of PushBlockStream(app-cap, attempt, shuffle, merge_id, map, reduce)
 * announcing body_len bytes, then the first `send` bytes of body. */
static inline void push_start_merge(struct client *c, int64_t request_id, int32_t attempt,
                                    int32_t shuffle, int32_t merge_id, int32_t map, int32_t reduce,
                                    const uint8_t *body, size_t body_len, size_t send)
{
    struct blockmsg b = {.type = BLOCKMSG_PUSH_BLOCK_STREAM};
    b.u.push_block_stream.layout = BLOCKMSG_LAYOUT_32;
    b.u.push_block_stream.app_id = (struct proto_bytes){"app-cap", 7};
    b.u.push_block_stream.app_attempt_id = attempt;
    b.u.push_block_stream.shuffle_id = shuffle;
    b.u.push_block_stream.shuffle_merge_id = merge_id;
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

/* push_start_merge of merge 0. */
static inline void push_start_attempt(struct client *c, int64_t request_id, int32_t attempt,
                                      int32_t shuffle, int32_t map, int32_t reduce,
                                      const uint8_t *body, size_t body_len, size_t send)
{
    push_start_merge(c, request_id, attempt, shuffle, 0, map, reduce, body, body_len, send);
}

/* RemoveShuffleMerge(app-cap, attempt, shuffle, merge_id): a one-way message, no answer. */
static inline void send_remove_merge(struct client *c, int32_t attempt, int32_t shuffle,
                                     int32_t merge_id)
{
    struct blockmsg b = {.type = BLOCKMSG_REMOVE_SHUFFLE_MERGE};
    b.u.remove_shuffle_merge.app_id = (struct proto_bytes){"app-cap", 7};
    b.u.remove_shuffle_merge.app_attempt_id = attempt;
    b.u.remove_shuffle_merge.shuffle_id = shuffle;
    b.u.remove_shuffle_merge.shuffle_merge_id = merge_id;
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &b);
    struct proto_msg m = {.type = PROTO_ONE_WAY_MESSAGE};
    m.u.one_way.body = (struct proto_view){w.buf, (uint32_t)w.len};
    client_send_msg(c, &m);
    proto_writer_free(&w);
}

/* push_start_attempt of attempt 1. */
static inline void push_start(struct client *c, int64_t request_id, int32_t shuffle, int32_t map,
                              int32_t reduce, const uint8_t *body, size_t body_len, size_t send)
{
    push_start_attempt(c, request_id, 1, shuffle, map, reduce, body, body_len, send);
}

/* The BlockPushReturnCode answering request_id. */
static inline int push_code(struct client *c, int64_t request_id)
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

/* FinalizeShuffleMerge(app-cap, 1, shuffle, 0) sent, its answer in *a (reply_free it). */
static inline void finalize_rpc(struct client *c, int32_t shuffle, struct reply *a)
{
    struct blockmsg f = {.type = BLOCKMSG_FINALIZE_SHUFFLE_MERGE};
    f.u.finalize_shuffle_merge.layout = BLOCKMSG_LAYOUT_32;
    f.u.finalize_shuffle_merge.app_id = (struct proto_bytes){"app-cap", 7};
    f.u.finalize_shuffle_merge.app_attempt_id = 1;
    f.u.finalize_shuffle_merge.shuffle_id = shuffle;
    client_rpc_msg(c, &f, a);
}

/* FinalizeShuffleMerge(app-cap, 1, shuffle, 0): the size merged for reduce 0. */
static inline int64_t finalize_size(struct client *c, int32_t shuffle)
{
    struct blockmsg st;
    struct reply a;
    char err[256];
    finalize_rpc(c, shuffle, &a);
    ck_assert_int_eq(a.type, PROTO_RPC_RESPONSE);
    ck_assert_int_eq(
        blockmsg_decode(a.msg.u.rpc.body.data, a.msg.u.rpc.body.len, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.u.merge_statuses.sizes.count, 1);
    int64_t size = st.u.merge_statuses.sizes.items[0];
    blockmsg_free(&st);
    reply_free(&a);
    return size;
}

/* The merge dir of data_dir copied aside (harness_test_dir()/saved), to be put back as a crash
 * before the deletion of the files leaves them. */
static inline void save_merged(const char *data_dir)
{
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "cp -a '%s/" MERGED "' '%s/saved'", data_dir, harness_test_dir());
    ck_assert_int_eq(system(cmd), 0);
}

static inline void restore_merged(const char *data_dir)
{
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "cp -a '%s/saved/.' '%s/" MERGED "/'", harness_test_dir(), data_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The merged data file of (shuffle, merge 0, reduce 0), read back. */
static inline uint8_t *merged_data(const char *data_dir, int32_t shuffle, size_t *len)
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

/* bytes (an UploadStream and its body) are answered with an RpcFailure whose first line
 * starts with `error`, and the connection is closed (the body cannot be skipped). */
static inline void expect_upload_refused(int port, const uint8_t *bytes, size_t len,
                                         const char *error)
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
static inline void expect_first_push_refused(int port, const char *error)
{
    struct rec_frames c2s;
    rec_load("push-blocks", "c2s.bin", &c2s);
    expect_upload_refused(port, c2s.f[0].bytes, c2s.f[0].len, error);
    rec_unload(&c2s);
}

/* The value of metric `name` in the daemon's /metrics. */
static inline long long metric(int admin_port, const char *name)
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

#endif
