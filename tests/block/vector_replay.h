/* SPDX-License-Identifier: Apache-2.0 */
/* Replaying a recorded Spark conversation against the real daemon (header-only): the
 * recorded frames loaded from c2s.bin / s2c.bin, each client frame sent (a RegisterExecutor's
 * dirs moved to our copy of the data, stream ids mapped to ours) and our reply compared with
 * the recorded one field by field: types, request ids, chunk indexes, numChunks, every body
 * byte, and error texts by their first line (the recorded data dir replaced by ours). */
#ifndef SHUFFLED_TESTS_BLOCK_VECTOR_REPLAY_H
#define SHUFFLED_TESTS_BLOCK_VECTOR_REPLAY_H

#include <inttypes.h>

#include "daemon_client.h"

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

static inline int collect(void *ctx, enum frame_event ev, const struct frame_out *out)
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

static inline void load_frames(const char *dir, const char *name, struct frames *fs)
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

static inline void frames_free(struct frames *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->f[i].content);
        free(fs->f[i].raw);
    }
}

/* Where a replay runs: the recorded data dir's path (in recorded texts and registrations)
 * and our copy of it. */
struct replay_dirs {
    const char *rec_prefix, *data_dir;
};

/* Recorded text with the recorded data dir replaced by ours. */
static inline void subst(const char *in, const struct replay_dirs *rd, char *out, size_t outlen)
{
    const char *data_dir = rd->data_dir;
    size_t k = 0, pl = strlen(rd->rec_prefix);
    while (*in && k + 1 < outlen) {
        if (strncmp(in, rd->rec_prefix, pl) == 0) {
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

static inline int64_t map_sid(const struct sid_map *m, int64_t rec)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->rec[i] == rec)
            return m->ours[i];
    ck_abort_msg("stream id %" PRId64 " was never handed out", rec);
    return -1;
}

/* "<sid>_<idx>" with the recorded sid replaced by ours. */
static inline void map_stream_name(const struct sid_map *m, const struct proto_view *v, char *out,
                                   size_t outlen)
{
    char s[64];
    snprintf(s, sizeof(s), "%.*s", (int)v->len, (const char *)v->data);
    char *us = strchr(s, '_');
    ck_assert(us != NULL);
    *us = 0;
    snprintf(out, outlen, "%" PRId64 "_%s", map_sid(m, strtoll(s, NULL, 10)), us + 1);
}

static inline void compare_error(const struct proto_view *ours, const struct proto_view *rec,
                                 const struct replay_dirs *data_dir, const char *where)
{
    char a[2048], b[2048], bs[2048];
    first_line(ours->data, ours->len, a, sizeof(a));
    first_line(rec->data, rec->len, b, sizeof(b));
    subst(b, data_dir, bs, sizeof(bs));
    ck_assert_msg(strcmp(a, bs) == 0, "%s: error '%s', Spark said '%s'", where, a, bs);
}

static inline void compare_rpc_body(const struct proto_view *ours, const struct proto_view *rec,
                                    struct sid_map *sids, const struct replay_dirs *data_dir,
                                    const char *where)
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
static inline void compare_chunk_id(const struct sid_map *sids, int64_t ours_sid,
                                    int32_t ours_index, int64_t rec_sid, int32_t rec_index)
{
    ck_assert(ours_sid == map_sid(sids, rec_sid));
    ck_assert_int_eq(ours_index, rec_index);
}

/* Our body holds exactly the recorded bytes. */
static inline void same_bytes(const struct proto_view *ours, const struct proto_view *rec,
                              const char *where, const char *what)
{
    ck_assert_uint_eq(ours->len, rec->len);
    ck_assert_msg(memcmp(ours->data, rec->data, rec->len) == 0, "%s: %s differ", where, what);
}

/* Sends c2s frame f (rewritten) and checks our reply against recorded r. */
static inline void replay_one(struct client *c, const struct frame *f, const struct frame *r,
                              struct sid_map *sids, const struct replay_dirs *data_dir,
                              const char *where)
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
        same_bytes(&a.msg.u.chunk_fetch_success.body, &rec.u.chunk_fetch_success.body, where,
                   "chunk bytes");
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
    case PROTO_MERGED_BLOCK_META_SUCCESS: /* push-based shuffle: the .meta bytes exactly */
        ck_assert(a.msg.u.merged_block_meta_success.request_id ==
                  rec.u.merged_block_meta_success.request_id);
        ck_assert_int_eq(a.msg.u.merged_block_meta_success.num_chunks,
                         rec.u.merged_block_meta_success.num_chunks);
        same_bytes(&a.msg.u.merged_block_meta_success.body, &rec.u.merged_block_meta_success.body,
                   where, "chunk bitmaps");
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

#endif
