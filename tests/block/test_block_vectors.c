/* SPDX-License-Identifier: Apache-2.0 */
/* The recorded Spark 3.1.2 conversations replayed against the real daemon:
 * for every scenario in vectors/, the dataset is copied to a temp dir and
 * registered there, the client's frames are sent (RegisterExecutor re-encoded
 * with the new path, stream ids substituted from our StreamHandles), and each
 * reply must match the recorded one field by field: types, request ids, chunk
 * indexes, numChunks, counts, every body byte, and error texts by their first
 * line (paths substituted). */
#include <config.h>

#include <dirent.h>
#include <inttypes.h>

#include "daemon_client.h"
#include "../check_main.h"

#define REC_PREFIX "/tmp/shuffle-vectors/data"

struct frame {
    int type;
    uint8_t *content;
    size_t len;
    uint8_t *raw;
    size_t raw_len;
};

struct frames {
    struct frame f[64];
    size_t n;
};

static int collect(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct frames *fs = ctx;
    if (ev == FRAME_MESSAGE) {
        ck_assert_uint_lt(fs->n, 64);
        struct frame *f = &fs->f[fs->n++];
        f->type = out->type;
        f->len = out->content_len;
        f->content = malloc(f->len ? f->len : 1);
        memcpy(f->content, out->content, f->len);
    } else if (ev == FRAME_RAW) {
        struct frame *f = &fs->f[fs->n - 1];
        f->raw = realloc(f->raw, f->raw_len + out->raw_len + 1);
        memcpy(f->raw + f->raw_len, out->raw, out->raw_len);
        f->raw_len += out->raw_len;
    }
    return 0;
}

static void load_frames(const char *dir, const char *name, struct frames *fs)
{
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    memset(fs, 0, sizeof(*fs));
    ck_assert_int_eq(frame_scan(buf, (size_t)n, 0, collect, fs, err, sizeof(err)), 0);
    free(buf);
}

static void frames_free(struct frames *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->f[i].content);
        free(fs->f[i].raw);
    }
}

/* Recorded text with REC_PREFIX replaced by our data dir. */
static void subst(const char *in, const char *data_dir, char *out, size_t outlen)
{
    size_t k = 0, pl = strlen(REC_PREFIX);
    while (*in && k + 1 < outlen) {
        if (strncmp(in, REC_PREFIX, pl) == 0) {
            k += (size_t)snprintf(out + k, outlen - k, "%s", data_dir);
            in += pl;
        } else {
            out[k++] = *in++;
        }
    }
    out[k < outlen ? k : outlen - 1] = 0;
}

struct sid_map {
    int64_t rec[16], ours[16];
    size_t n;
};

static int64_t map_sid(const struct sid_map *m, int64_t rec)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->rec[i] == rec)
            return m->ours[i];
    ck_abort_msg("stream id %" PRId64 " was never handed out", rec);
    return -1;
}

/* "<sid>_<idx>" with the recorded sid replaced by ours. */
static void map_stream_name(const struct sid_map *m, const struct proto_view *v, char *out,
                            size_t outlen)
{
    char s[64];
    snprintf(s, sizeof(s), "%.*s", (int)v->len, (const char *)v->data);
    char *us = strchr(s, '_');
    ck_assert(us != NULL);
    *us = 0;
    snprintf(out, outlen, "%" PRId64 "_%s", map_sid(m, strtoll(s, NULL, 10)), us + 1);
}

static void compare_error(const struct proto_view *ours, const struct proto_view *rec,
                          const char *data_dir, const char *where)
{
    char a[2048], b[2048], bs[2048];
    first_line(ours->data, ours->len, a, sizeof(a));
    first_line(rec->data, rec->len, b, sizeof(b));
    subst(b, data_dir, bs, sizeof(bs));
    ck_assert_msg(strcmp(a, bs) == 0, "%s: error '%s', Spark said '%s'", where, a, bs);
}

static void compare_rpc_body(const struct proto_view *ours, const struct proto_view *rec,
                             struct sid_map *sids, const char *data_dir, const char *where)
{
    if (rec->len == 0) {
        ck_assert_msg(ours->len == 0, "%s: expected an empty RpcResponse", where);
        return;
    }
    struct blockmsg a, b;
    char err[256];
    ck_assert_int_eq(blockmsg_decode(ours->data, ours->len, &a, err, sizeof(err)), 0);
    ck_assert_int_eq(blockmsg_decode(rec->data, rec->len, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(a.type, b.type);
    if (a.type == BLOCKMSG_STREAM_HANDLE) {
        ck_assert_int_eq(a.u.stream_handle.num_chunks, b.u.stream_handle.num_chunks);
        sids->rec[sids->n] = b.u.stream_handle.stream_id;
        sids->ours[sids->n++] = a.u.stream_handle.stream_id;
    } else if (a.type == BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS) {
        ck_assert_uint_eq(a.u.local_dirs.exec_ids.count, b.u.local_dirs.exec_ids.count);
        for (uint32_t i = 0; i < a.u.local_dirs.exec_ids.count; i++)
            ck_assert_str_eq(a.u.local_dirs.exec_ids.items[i].data,
                             b.u.local_dirs.exec_ids.items[i].data);
        ck_assert_uint_eq(a.u.local_dirs.num_local_dirs_by_exec.count,
                          b.u.local_dirs.num_local_dirs_by_exec.count);
        for (uint32_t i = 0; i < a.u.local_dirs.num_local_dirs_by_exec.count; i++)
            ck_assert_int_eq(a.u.local_dirs.num_local_dirs_by_exec.items[i],
                             b.u.local_dirs.num_local_dirs_by_exec.items[i]);
        ck_assert_uint_eq(a.u.local_dirs.all_local_dirs.count, b.u.local_dirs.all_local_dirs.count);
        for (uint32_t i = 0; i < a.u.local_dirs.all_local_dirs.count; i++) {
            char want[1024];
            subst(b.u.local_dirs.all_local_dirs.items[i].data, data_dir, want, sizeof(want));
            ck_assert_str_eq(a.u.local_dirs.all_local_dirs.items[i].data, want);
        }
    } else {
        ck_assert_msg(ours->len == rec->len && memcmp(ours->data, rec->data, rec->len) == 0,
                      "%s: reply body differs", where);
    }
    blockmsg_free(&a);
    blockmsg_free(&b);
}

/* Our answer names the same chunk as the recorded one (stream ids mapped to ours). */
static void compare_chunk_id(const struct sid_map *sids, int64_t ours_sid, int32_t ours_index,
                             int64_t rec_sid, int32_t rec_index)
{
    ck_assert(ours_sid == map_sid(sids, rec_sid));
    ck_assert_int_eq(ours_index, rec_index);
}

static void register_copy(int port, const char *data_dir)
{
    char d0[1200], d1[1200], err[512];
    snprintf(d0, sizeof(d0), "%s/blockmgr-0", data_dir);
    snprintf(d1, sizeof(d1), "%s/blockmgr-1", data_dir);
    char *dirs[] = {d0, d1};
    struct client c;
    client_open(&c, port);
    ck_assert_int_eq(client_register(&c, "app-cap", "1", dirs, 2, 64, err, sizeof(err)),
                     PROTO_RPC_RESPONSE);
    client_close(&c);
}

/* Sends c2s frame f (rewritten) and checks our reply against recorded r. */
static void replay_one(struct client *c, const struct frame *f, const struct frame *r,
                       struct sid_map *sids, const char *data_dir, const char *where)
{
    struct proto_msg q, rec;
    char err[256], name[96];
    ck_assert_int_eq(proto_msg_decode(f->type, f->content, f->len, &q, err, sizeof(err)), 0);
    ck_assert_int_eq(proto_msg_decode(r->type, r->content, r->len, &rec, err, sizeof(err)), 0);
    struct proto_writer w;
    proto_writer_init(&w);
    struct blockmsg bm;
    if (q.type == PROTO_RPC_REQUEST && q.u.rpc.body.len > 0 && q.u.rpc.body.data[0] == 2) {
        ck_assert_int_eq(
            blockmsg_decode(q.u.rpc.body.data, q.u.rpc.body.len, &bm, err, sizeof(err)), 0);
        struct proto_string_array *dirs = &bm.u.register_executor.info.local_dirs;
        for (uint32_t i = 0; i < dirs->count; i++) {
            char nd[1024];
            subst(dirs->items[i].data, data_dir, nd, sizeof(nd));
            proto_bytes_free(&dirs->items[i]);
            proto_bytes_set_str(&dirs->items[i], nd);
        }
        blockmsg_encode(&w, &bm);
        blockmsg_free(&bm);
        q.u.rpc.body = (struct proto_view){w.buf, (uint32_t)w.len};
    } else if (q.type == PROTO_CHUNK_FETCH_REQUEST) {
        q.u.chunk_fetch_request.stream_id = map_sid(sids, q.u.chunk_fetch_request.stream_id);
    } else if (q.type == PROTO_STREAM_REQUEST) {
        map_stream_name(sids, &q.u.stream_request.stream_id, name, sizeof(name));
        q.u.stream_request.stream_id = (struct proto_view){(uint8_t *)name, (uint32_t)strlen(name)};
    }
    client_send_msg(c, &q);
    proto_writer_free(&w);

    struct reply a;
    ck_assert_msg(client_read(c, &a), "%s: no reply", where);
    ck_assert_msg(a.type == r->type, "%s: reply type %d, Spark sent %d", where, a.type, r->type);
    switch (a.type) {
    case PROTO_RPC_RESPONSE:
        ck_assert(a.msg.u.rpc.request_id == rec.u.rpc.request_id);
        compare_rpc_body(&a.msg.u.rpc.body, &rec.u.rpc.body, sids, data_dir, where);
        break;
    case PROTO_RPC_FAILURE:
        ck_assert(a.msg.u.rpc_failure.request_id == rec.u.rpc_failure.request_id);
        compare_error(&a.msg.u.rpc_failure.error, &rec.u.rpc_failure.error, data_dir, where);
        break;
    case PROTO_CHUNK_FETCH_SUCCESS:
        compare_chunk_id(
            sids, a.msg.u.chunk_fetch_success.stream_id, a.msg.u.chunk_fetch_success.chunk_index,
            rec.u.chunk_fetch_success.stream_id, rec.u.chunk_fetch_success.chunk_index);
        ck_assert_uint_eq(a.msg.u.chunk_fetch_success.body.len, rec.u.chunk_fetch_success.body.len);
        ck_assert_msg(memcmp(a.msg.u.chunk_fetch_success.body.data,
                             rec.u.chunk_fetch_success.body.data,
                             rec.u.chunk_fetch_success.body.len) == 0,
                      "%s: chunk bytes differ", where);
        break;
    case PROTO_CHUNK_FETCH_FAILURE:
        compare_chunk_id(
            sids, a.msg.u.chunk_fetch_failure.stream_id, a.msg.u.chunk_fetch_failure.chunk_index,
            rec.u.chunk_fetch_failure.stream_id, rec.u.chunk_fetch_failure.chunk_index);
        compare_error(&a.msg.u.chunk_fetch_failure.error, &rec.u.chunk_fetch_failure.error,
                      data_dir, where);
        break;
    case PROTO_STREAM_RESPONSE:
        map_stream_name(sids, &rec.u.stream_response.stream_id, name, sizeof(name));
        ck_assert_uint_eq(a.msg.u.stream_response.stream_id.len, strlen(name));
        ck_assert(memcmp(a.msg.u.stream_response.stream_id.data, name, strlen(name)) == 0);
        ck_assert(a.msg.u.stream_response.byte_count == rec.u.stream_response.byte_count);
        ck_assert_uint_eq(a.raw_len, r->raw_len);
        ck_assert_msg(a.raw_len == 0 || memcmp(a.raw, r->raw, a.raw_len) == 0,
                      "%s: stream bytes differ", where);
        break;
    case PROTO_STREAM_FAILURE:
        map_stream_name(sids, &rec.u.stream_failure.stream_id, name, sizeof(name));
        ck_assert(memcmp(a.msg.u.stream_failure.stream_id.data, name, strlen(name)) == 0);
        compare_error(&a.msg.u.stream_failure.error, &rec.u.stream_failure.error, data_dir, where);
        break;
    default:
        ck_abort_msg("%s: unexpected reply type %d", where, a.type);
    }
    reply_free(&a);
}

START_TEST(test_replay_all_scenarios)
{
    const char *tmp = harness_test_dir();
    char state[700], vdir[700];
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(vdir, sizeof(vdir), "%s/vectors", harness_shared_dir());
    struct harness_daemon d;
    daemon_start(&d, tmp, state, "\"fetch_rdd_enabled\": true");
    DIR *dir = opendir(vdir);
    ck_assert(dir != NULL);
    struct dirent *de;
    int scenarios = 0;
    while ((de = readdir(dir))) {
        char sdir[1024], probe[1100], copy[1024], data_dir[1100], cmd[4096];
        snprintf(sdir, sizeof(sdir), "%s/%s", vdir, de->d_name);
        snprintf(probe, sizeof(probe), "%s/c2s.bin", sdir);
        if (de->d_name[0] == '.' || !harness_path_exists(probe))
            continue;
        /* a fresh copy per scenario: remove-blocks deletes a file */
        snprintf(copy, sizeof(copy), "%s/%s", tmp, de->d_name);
        snprintf(data_dir, sizeof(data_dir), "%s/data", copy);
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp -r '%s/data' '%s/'", copy, vdir, copy);
        ck_assert_int_eq(system(cmd), 0);
        register_copy(d.port, data_dir);

        struct frames c2s, s2c;
        load_frames(sdir, "c2s.bin", &c2s);
        load_frames(sdir, "s2c.bin", &s2c);
        ck_assert_uint_eq(c2s.n, s2c.n);
        struct sid_map sids = {0};
        struct client c;
        client_open(&c, d.port);
        for (size_t i = 0; i < c2s.n; i++) {
            char where[300];
            snprintf(where, sizeof(where), "%s frame %zu", de->d_name, i);
            replay_one(&c, &c2s.f[i], &s2c.f[i], &sids, data_dir, where);
        }
        client_close(&c);
        frames_free(&c2s);
        frames_free(&s2c);
        scenarios++;
    }
    closedir(dir);
    ck_assert_int_ge(scenarios, 16);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "block_vectors", .name = "replay", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_replay_all_scenarios)
