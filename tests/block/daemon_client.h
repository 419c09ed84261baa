/* SPDX-License-Identifier: Apache-2.0 */
/* For integration tests: the real shuffled on 127.0.0.1 with an ephemeral port (started by
 * tests/harness), and a minimal blocking client speaking Spark's frames (src/proto).
 * Header-only; every call is bounded by socket timeouts. */
#ifndef SHUFFLED_TESTS_BLOCK_DAEMON_CLIENT_H
#define SHUFFLED_TESTS_BLOCK_DAEMON_CLIENT_H

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "proto/blockmsg.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "../harness/daemon.h"
#include "test_util_block.h"

/* Starts build/shuffled (tests/harness) with its config in tmp, state_dir and extra JSON
 * members (e.g. "\"fetch_rdd_enabled\": true"). */
static inline void daemon_start(struct harness_daemon *d, const char *tmp, const char *state_dir,
                                const char *extra)
{
    struct harness_daemon_opts o = {.dir = tmp, .state_dir = state_dir, .extra_json = extra};
    ck_assert_msg(harness_daemon_start(d, &o) == 0, "shuffled did not start");
}

/* SIGTERM must end the daemon with status 0 (under ASan: no leaks). */
static inline void daemon_stop_clean(struct harness_daemon *d)
{
    int st = harness_daemon_stop(d);
    ck_assert_msg(st == 0, "shuffled did not exit cleanly (status %d)", st);
}

struct client {
    int fd;
    struct frame_decoder dec;
    uint8_t buf[65536];
    const uint8_t *pos;
    size_t have;
    int64_t next_request_id;
};

static inline void client_open(struct client *c, int port)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(c->fd, 0);
    struct timeval tv = {10, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    frame_decoder_init(&c->dec, 0);
    c->next_request_id = 1000;
}

static inline void client_close(struct client *c)
{
    close(c->fd);
    frame_decoder_free(&c->dec);
}

static inline void client_send(struct client *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        ck_assert_msg(w > 0, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

static inline void client_send_msg(struct client *c, const struct proto_msg *m)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, m);
    client_send(c, w.buf, w.len);
    proto_writer_free(&w);
}

/* A received frame: type, a malloc'd copy of its content, and for
 * StreamResponse the raw bytes that follow it. */
struct reply {
    int type;
    uint8_t *content;
    size_t len;
    struct proto_msg msg; /* views into content */
    uint8_t *raw;
    size_t raw_len;
};

static inline void reply_free(struct reply *r)
{
    free(r->content);
    free(r->raw);
    memset(r, 0, sizeof(*r));
}

/* Next event from the socket; false on EOF/timeout. */
static inline bool client_event(struct client *c, enum frame_event *ev, struct frame_out *out)
{
    for (;;) {
        if (c->have > 0 || c->pos) {
            *ev = frame_decoder_next(&c->dec, &c->pos, &c->have, out);
            if (*ev != FRAME_NEED_MORE)
                return *ev != FRAME_ERROR;
        }
        ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), 0);
        if (n <= 0)
            return false;
        c->pos = c->buf;
        c->have = (size_t)n;
    }
}

/* Reads one frame (and a StreamResponse's data). false on EOF/timeout. */
static inline bool client_read(struct client *c, struct reply *r)
{
    enum frame_event ev;
    struct frame_out out;
    memset(r, 0, sizeof(*r));
    if (!client_event(c, &ev, &out) || ev != FRAME_MESSAGE)
        return false;
    r->type = out.type;
    r->len = out.content_len;
    r->content = malloc(r->len ? r->len : 1);
    memcpy(r->content, out.content, r->len);
    char err[256];
    ck_assert_msg(proto_msg_decode(r->type, r->content, r->len, &r->msg, err, sizeof(err)) == 0,
                  "bad frame from server: %s", err);
    if (r->type == PROTO_STREAM_RESPONSE && r->msg.u.stream_response.byte_count > 0) {
        size_t want = (size_t)r->msg.u.stream_response.byte_count;
        r->raw = malloc(want);
        while (r->raw_len < want) {
            if (!client_event(c, &ev, &out) || ev != FRAME_RAW)
                return false;
            memcpy(r->raw + r->raw_len, out.raw, out.raw_len);
            r->raw_len += out.raw_len;
        }
    }
    return true;
}

/* Sends an RpcRequest with body and reads the reply (RpcResponse/RpcFailure). */
static inline void client_rpc(struct client *c, const uint8_t *body, size_t len, struct reply *r)
{
    struct proto_msg m = {.type = PROTO_RPC_REQUEST};
    m.u.rpc.request_id = c->next_request_id++;
    m.u.rpc.body = (struct proto_view){body, (uint32_t)len};
    client_send_msg(c, &m);
    ck_assert_msg(client_read(c, r), "no reply to RpcRequest");
    ck_assert(r->type == PROTO_RPC_RESPONSE || r->type == PROTO_RPC_FAILURE);
    int64_t id =
        r->type == PROTO_RPC_RESPONSE ? r->msg.u.rpc.request_id : r->msg.u.rpc_failure.request_id;
    ck_assert(id == m.u.rpc.request_id);
}

static inline void client_rpc_msg(struct client *c, const struct blockmsg *bm, struct reply *r)
{
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, bm);
    client_rpc(c, w.buf, w.len, r);
    proto_writer_free(&w);
}

static inline void client_chunk(struct client *c, int64_t stream, int32_t idx, struct reply *r)
{
    struct proto_msg m = {.type = PROTO_CHUNK_FETCH_REQUEST};
    m.u.chunk_fetch_request.stream_id = stream;
    m.u.chunk_fetch_request.chunk_index = idx;
    client_send_msg(c, &m);
    ck_assert_msg(client_read(c, r), "no reply to ChunkFetchRequest");
}

static inline void client_stream(struct client *c, const char *id, struct reply *r)
{
    struct proto_msg m = {.type = PROTO_STREAM_REQUEST};
    m.u.stream_request.stream_id = (struct proto_view){(const uint8_t *)id, (uint32_t)strlen(id)};
    client_send_msg(c, &m);
    ck_assert_msg(client_read(c, r), "no reply to StreamRequest");
}

/* Sends m (OpenBlocks, FetchShuffleBlocks) and reads the StreamHandle of its RpcResponse: the
 * stream id, its chunk count in *num_chunks (if not NULL). */
static inline int64_t client_open_stream(struct client *c, const struct blockmsg *m,
                                         int32_t *num_chunks)
{
    struct reply r;
    client_rpc_msg(c, m, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_RESPONSE);
    struct blockmsg h;
    char err[256];
    ck_assert_int_eq(
        blockmsg_decode(r.msg.u.rpc.body.data, r.msg.u.rpc.body.len, &h, err, sizeof(err)), 0);
    ck_assert_int_eq(h.type, BLOCKMSG_STREAM_HANDLE);
    reply_free(&r);
    if (num_chunks)
        *num_chunks = h.u.stream_handle.num_chunks;
    return h.u.stream_handle.stream_id;
}

/* The first line of a Java error text. */
static inline void first_line(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    size_t k = 0;
    while (k < n && p[k] != '\n' && k + 1 < outlen) {
        out[k] = (char)p[k];
        k++;
    }
    out[k] = 0;
}

/* Fetches chunk idx of stream, which must fail: the first line of its error text. */
static inline void client_chunk_failure(struct client *c, int64_t stream, int32_t idx, char *line,
                                        size_t len)
{
    struct reply r;
    client_chunk(c, stream, idx, &r);
    ck_assert_int_eq(r.type, PROTO_CHUNK_FETCH_FAILURE);
    first_line(r.msg.u.chunk_fetch_failure.error.data, r.msg.u.chunk_fetch_failure.error.len, line,
               len);
    reply_free(&r);
}

/* RegisterExecutor(app, exec, dirs, subdirs, SortShuffleManager); returns reply type. */
static inline int client_register(struct client *c, const char *app, const char *exec, char **dirs,
                                  uint32_t n, int32_t subdirs, char *err, size_t errlen)
{
    struct blockmsg m = {.type = BLOCKMSG_REGISTER_EXECUTOR};
    struct proto_bytes items[16];
    for (uint32_t i = 0; i < n; i++)
        items[i] = (struct proto_bytes){dirs[i], (uint32_t)strlen(dirs[i])};
    m.u.register_executor.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    m.u.register_executor.exec_id = (struct proto_bytes){(char *)exec, (uint32_t)strlen(exec)};
    m.u.register_executor.info.local_dirs = (struct proto_string_array){items, n};
    m.u.register_executor.info.sub_dirs_per_local_dir = subdirs;
    static char mgr[] = "org.apache.spark.shuffle.sort.SortShuffleManager";
    m.u.register_executor.info.shuffle_manager = (struct proto_bytes){mgr, sizeof(mgr) - 1};
    struct reply r;
    client_rpc_msg(c, &m, &r);
    int t = r.type;
    if (err && t == PROTO_RPC_FAILURE)
        first_line(r.msg.u.rpc_failure.error.data, r.msg.u.rpc_failure.error.len, err, errlen);
    if (t == PROTO_RPC_RESPONSE)
        ck_assert_uint_eq(r.msg.u.rpc.body.len, 0);
    reply_free(&r);
    return t;
}

/* RemoveBlocks of the names (at most 16) of app/exec: the BlocksRemoved count, or -1 for an
 * RpcFailure. */
static inline int32_t client_remove_blocks(struct client *c, const char *app, const char *exec,
                                           const char *const *names, uint32_t n)
{
    struct blockmsg m = {.type = BLOCKMSG_REMOVE_BLOCKS};
    struct proto_bytes items[16];
    ck_assert_uint_le(n, 16);
    for (uint32_t i = 0; i < n; i++)
        items[i] = (struct proto_bytes){(char *)names[i], (uint32_t)strlen(names[i])};
    m.u.remove_blocks.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    m.u.remove_blocks.exec_id = (struct proto_bytes){(char *)exec, (uint32_t)strlen(exec)};
    m.u.remove_blocks.block_ids = (struct proto_string_array){items, n};
    struct reply r;
    client_rpc_msg(c, &m, &r);
    int32_t removed = -1;
    if (r.type == PROTO_RPC_RESPONSE) {
        ck_assert_uint_eq(r.msg.u.rpc.body.len, 5);
        ck_assert_int_eq(r.msg.u.rpc.body.data[0], BLOCKMSG_BLOCKS_REMOVED);
        removed = (int32_t)proto_load_u32(r.msg.u.rpc.body.data + 1);
    } else {
        ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
    }
    reply_free(&r);
    return removed;
}

#endif
