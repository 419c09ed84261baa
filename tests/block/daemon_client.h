/* For integration tests: start the real shuffled on 127.0.0.1 with an
 * ephemeral port, and a minimal blocking client speaking Spark's frames
 * (src/proto). Header-only; every call is bounded by socket timeouts. */
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
#include "test_util_block.h"

/* Daemons started and not yet stopped, so a failed test leaves none behind. */
static pid_t daemon_live[8];

static inline void daemon_kill_leftovers(void)
{
    for (int i = 0; i < 8; i++) {
        if (daemon_live[i] > 0) {
            kill(daemon_live[i], SIGKILL);
            waitpid(daemon_live[i], NULL, 0);
            daemon_live[i] = 0;
        }
    }
}

static inline void daemon_track(pid_t pid, bool add)
{
    for (int i = 0; i < 8; i++) {
        if (add ? daemon_live[i] == 0 : daemon_live[i] == pid) {
            daemon_live[i] = add ? pid : 0;
            return;
        }
    }
}

struct daemon {
    pid_t pid;
    int port;
    char cfg[600], portfile[600];
};

/* Starts build/shuffled with a config holding state_dir and extra JSON keys
 * (e.g. "\"fetch_rdd_enabled\": true"), waits for its port file. */
static inline void daemon_start(struct daemon *d, const char *tmp, const char *state_dir,
                                const char *extra)
{
    snprintf(d->cfg, sizeof(d->cfg), "%s/shuffled.json", tmp);
    snprintf(d->portfile, sizeof(d->portfile), "%s/port", tmp);
    unlink(d->portfile);
    char json[2048];
    /* an ephemeral admin port unless the test picks one: a taken port is fatal at start */
    bool own_admin = extra && strstr(extra, "\"admin_port\"");
    snprintf(json, sizeof(json),
             "{\"listen\": [\"127.0.0.1\"], \"port\": 0, \"io_threads\": 2, "
             "\"blocking_threads\": 2, \"log_level\": \"warn\", \"state_dir\": \"%s\"%s%s%s}\n",
             state_dir, own_admin ? "" : ", \"admin_port\": 0", extra && *extra ? ", " : "",
             extra ? extra : "");
    ck_assert_int_eq(write_file(d->cfg, json, strlen(json)), 0);
    const char *b = getenv("SHUFFLE_BUILDDIR");
    char exe[600];
    snprintf(exe, sizeof(exe), "%s/shuffled", b && *b ? b : ".");
    d->pid = fork();
    ck_assert_int_ge(d->pid, 0);
    if (d->pid == 0) {
        execl(exe, exe, "-c", d->cfg, "--port-file", d->portfile, (char *)NULL);
        _exit(127);
    }
    daemon_track(d->pid, true);
    d->port = 0;
    for (int i = 0; i < 1000 && d->port == 0; i++) { /* up to 10 s */
        FILE *f = fopen(d->portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &d->port) != 1)
                d->port = 0;
            fclose(f);
        }
        int st;
        ck_assert_msg(waitpid(d->pid, &st, WNOHANG) == 0, "shuffled exited at start");
        if (d->port == 0)
            usleep(10000);
    }
    ck_assert_msg(d->port > 0, "shuffled did not write its port file");
}

/* SIGTERM (or SIGKILL) and reap; returns the exit status. */
static inline int daemon_stop(struct daemon *d, int sig)
{
    int st = 0;
    kill(d->pid, sig);
    for (int i = 0; i < 2000; i++) { /* up to 20 s */
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            daemon_track(d->pid, false);
            return st;
        }
        usleep(10000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
    daemon_track(d->pid, false);
    ck_abort_msg("shuffled did not stop within 20 s");
    return st;
}

/* SIGTERM must end the daemon with status 0 (under ASan: no leaks). */
static inline void daemon_stop_clean(struct daemon *d)
{
    int st = daemon_stop(d, SIGTERM);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "shuffled did not exit cleanly (status %d)", st);
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
