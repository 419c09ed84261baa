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

#include "../block/daemon_client.h"
#include "../harness/fs.h"
#include "../check_main.h"

#define REC_PREFIX "/tmp/shuffle-vectors-35/data"
#define MERGED "merge_manager_1"

struct frame {
    int type;
    uint8_t *bytes; /* the whole frame as recorded, raw body included */
    size_t len;
    size_t content_at, content_len;
};

struct frames {
    struct frame f[32];
    size_t n;
    const uint8_t *base;
};

static int collect(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct frames *fs = ctx;
    if (ev == FRAME_MESSAGE) {
        ck_assert_uint_lt(fs->n, 32);
        struct frame *f = &fs->f[fs->n++];
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
static void load(const char *scenario, const char *name, struct frames *fs)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/vectors-35/%s/%s", harness_shared_dir(), scenario, name);
    size_t len;
    uint8_t *buf = harness_read_file(path, &len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    memset(fs, 0, sizeof *fs);
    fs->base = buf;
    ck_assert_int_eq(frame_scan(buf, len, 0, collect, fs, err, sizeof err), 0);
}

static void unload(struct frames *fs)
{
    free((void *)fs->base);
}

/* The recorded RegisterExecutor with its dirs moved under data_dir. */
static void send_registration(struct client *c, const struct frame *f, const char *data_dir)
{
    struct proto_msg q;
    struct blockmsg bm;
    char err[256];
    ck_assert_int_eq(proto_msg_decode(f->type, f->bytes + 9, f->content_len, &q, err, sizeof err),
                     0);
    ck_assert_int_eq(blockmsg_decode(q.u.rpc.body.data, q.u.rpc.body.len, &bm, err, sizeof err),
                     0);
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
static void expect_frame(struct client *c, const struct frame *r, const char *where)
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
    struct frames c2s, s2c;
    load(scenario, "c2s.bin", &c2s);
    load(scenario, "s2c.bin", &s2c);
    struct client c;
    client_open(&c, port);
    size_t answered = first;
    for (size_t i = first; i < (end ? end : c2s.n); i++) {
        const struct frame *f = &c2s.f[i];
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
    unload(&c2s);
    unload(&s2c);
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

/* Stops d cleanly and starts it again on the same state. */
static void restart(struct harness_daemon *d)
{
    ck_assert_int_eq(harness_daemon_stop(d), 0);
    ck_assert_int_eq(harness_daemon_restart(d, 0), 0);
}

START_TEST(test_replay_push_finalize_remove)
{
    const char *tmp = harness_test_dir();
    char data_dir[800];
    copy_data(tmp, data_dir, sizeof data_dir);
    struct harness_daemon d;
    start(&d, tmp);
    replay(d.port, "register-executor-with-merge-dir", data_dir, false);
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
    const char *tmp = harness_test_dir();
    char data_dir[800];
    copy_data(tmp, data_dir, sizeof data_dir);
    struct harness_daemon d;
    start(&d, tmp);
    replay(d.port, "register-executor-with-merge-dir", data_dir, false);
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

/* Without push_enabled the daemon answers pushes and finalizes as Spark 3.1 did. */
START_TEST(test_push_disabled_answers_as_before)
{
    const char *tmp = harness_test_dir();
    char state[700];
    snprintf(state, sizeof state, "%s/state", tmp);
    struct harness_daemon d;
    daemon_start(&d, tmp, state, NULL);
    struct frames c2s;
    load("push-blocks", "c2s.bin", &c2s);
    struct client c;
    client_open(&c, d.port);
    client_send(&c, c2s.f[0].bytes, c2s.f[0].len);
    struct reply a;
    ck_assert(client_read(&c, &a));
    ck_assert_int_eq(a.type, PROTO_RPC_FAILURE);
    char line[256];
    first_line(a.msg.u.rpc_failure.error.data, a.msg.u.rpc_failure.error.len, line, sizeof line);
    ck_assert_str_eq(line,
                     "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
    reply_free(&a);
    ck_assert(!client_read(&c, &a)); /* and closes */
    client_close(&c);
    unload(&c2s);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "push_vectors", .name = "replay", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_replay_push_finalize_remove, test_restarts_lose_nothing,
           test_push_disabled_answers_as_before)
