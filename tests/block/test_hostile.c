/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile and unlucky clients against the real daemon (127.0.0.1, port 0): garbage, half
 * frames, absurd announced lengths, random RPC bodies, disconnects mid-chunk, FIFOs planted
 * in place of shuffle files, a client that stops reading, symlinks out of the allowed roots.
 * After each, a normal fetch still works and SIGTERM ends the daemon with status 0 (under
 * ASan: no leaks). */
#include <config.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "daemon_client.h"
#include "server/block/placement.h"
#include "../check_main.h"

#define SUBDIRS 4

struct env {
    char *tmp;
    char state[700], dir[700];
    struct harness_daemon d;
};

/* Where the daemon will look for `name` of the executor registered with e->dir. */
static void place(const struct env *e, const char *name, char *path, size_t len)
{
    const char *dirs[1] = {e->dir};
    ck_assert_int_eq(placement_path(dirs, 1, SUBDIRS, name, path, len), 0);
    char parent[1024];
    snprintf(parent, sizeof(parent), "%s", path);
    *strrchr(parent, '/') = 0;
    mkdir(parent, 0700);
}

/* shuffle_S_M_0.{index,data}: reduce r holds `size` bytes of value (r + 1). */
static void write_map_output(const struct env *e, int s, int m, int reduces, size_t size)
{
    char name[96], path[1024];
    uint8_t *data = malloc(size * (size_t)reduces + 1), idx[8 * 65];
    ck_assert(reduces < 64);
    for (int r = 0; r <= reduces; r++) {
        uint64_t off = (uint64_t)r * size;
        for (int k = 0; k < 8; k++)
            idx[8 * r + k] = (uint8_t)(off >> (56 - 8 * k));
        if (r < reduces)
            memset(data + off, r + 1, size);
    }
    snprintf(name, sizeof(name), "shuffle_%d_%d_0.index", s, m);
    place(e, name, path, sizeof(path));
    ck_assert_int_eq(harness_write_file(path, idx, 8 * (size_t)(reduces + 1)), 0);
    snprintf(name, sizeof(name), "shuffle_%d_%d_0.data", s, m);
    place(e, name, path, sizeof(path));
    ck_assert_int_eq(harness_write_file(path, data, size * (size_t)reduces), 0);
    free(data);
}

static void env_start(struct env *e, const char *extra)
{
    e->tmp = harness_temp_dir();
    ck_assert(e->tmp != NULL);
    snprintf(e->state, sizeof(e->state), "%s/state", e->tmp);
    snprintf(e->dir, sizeof(e->dir), "%s/roots/blockmgr-0", e->tmp);
    char cmd[1600];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", e->dir);
    ck_assert_int_eq(system(cmd), 0);
    write_map_output(e, 1, 0, 4, 1000);
    daemon_start(&e->d, e->tmp, e->state, extra);
    struct client c;
    client_open(&c, e->d.port);
    char *dirs[1] = {e->dir}, err[512] = "";
    ck_assert_msg(client_register(&c, "app-1", "0", dirs, 1, SUBDIRS, err, sizeof(err)) ==
                      PROTO_RPC_RESPONSE,
                  "register: %s", err);
    client_close(&c);
}

static void env_stop(struct env *e)
{
    daemon_stop_clean(&e->d);
    harness_rm_rf(e->tmp);
    free(e->tmp);
}

/* FetchShuffleBlocks(app-1, 0, shuffle s, map m, reduces [0..n)) -> stream id. */
static int64_t fetch_blocks(struct client *c, int s, int64_t map, int n)
{
    struct blockmsg m = {.type = BLOCKMSG_FETCH_SHUFFLE_BLOCKS};
    int32_t reduces[64];
    for (int i = 0; i < n; i++)
        reduces[i] = i;
    struct proto_int_array row = {reduces, (uint32_t)n};
    m.u.fetch_shuffle_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.fetch_shuffle_blocks.exec_id = (struct proto_bytes){"0", 1};
    m.u.fetch_shuffle_blocks.shuffle_id = s;
    m.u.fetch_shuffle_blocks.map_ids = (struct proto_long_array){&map, 1};
    m.u.fetch_shuffle_blocks.reduce_ids = (struct proto_int_matrix){&row, 1};
    return client_open_stream(c, &m, NULL);
}

/* A normal client: every block of shuffle_1_0 arrives with its bytes. */
static void normal_fetch(int port)
{
    struct client c;
    client_open(&c, port);
    int64_t sid = fetch_blocks(&c, 1, 0, 4);
    for (int i = 0; i < 4; i++) {
        struct reply r;
        client_chunk(&c, sid, i, &r);
        ck_assert_int_eq(r.type, PROTO_CHUNK_FETCH_SUCCESS);
        ck_assert_uint_eq(r.msg.u.chunk_fetch_success.body.len, 1000);
        for (size_t k = 0; k < 1000; k++)
            ck_assert_int_eq(r.msg.u.chunk_fetch_success.body.data[k], i + 1);
        reply_free(&r);
    }
    client_close(&c);
}

/* The first line of the ChunkFetchFailure for (sid, idx) contains `want`. */
static void expect_chunk_failure(struct client *c, int64_t sid, int32_t idx, const char *want)
{
    char line[2048];
    client_chunk_failure(c, sid, idx, line, sizeof(line));
    ck_assert_msg(strstr(line, want) != NULL, "got '%s', want '%s'", line, want);
}

static int raw_connect(int port)
{
    struct client c;
    client_open(&c, port);
    frame_decoder_free(&c.dec);
    return c.fd;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (56 - 8 * k));
}

/* Sends bytes and closes without reading (the daemon may have closed first). */
static void send_and_close(int port, const uint8_t *p, size_t n)
{
    int fd = raw_connect(port);
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        p += w;
        n -= (size_t)w;
    }
    close(fd);
}

START_TEST(test_hostile_clients)
{
    struct env e;
    env_start(&e, "\"fetch_rdd_enabled\": true");
    int port = e.d.port;
    uint32_t seed = 12345;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0xff)
    uint8_t buf[4096];
    for (int round = 0; round < 40; round++) {
        /* garbage */
        for (size_t k = 0; k < sizeof(buf); k++)
            buf[k] = (uint8_t)RND();
        send_and_close(port, buf, sizeof(buf));
        /* half a frame header */
        put_u64(buf, 30);
        send_and_close(port, buf, 5);
        /* absurd announced lengths: 2^62, negative, just over the limit */
        put_u64(buf, 1ull << 62);
        buf[8] = 3;
        send_and_close(port, buf, 9 + 64);
        put_u64(buf, (uint64_t)-5);
        send_and_close(port, buf, 9);
        put_u64(buf, (16u << 20) + 1);
        send_and_close(port, buf, 9 + 100);
        /* a 10 MB RpcRequest announced, a few bytes sent, then gone */
        put_u64(buf, 10u << 20);
        buf[8] = 3;
        send_and_close(port, buf, 9 + 200);
        /* unknown frame type */
        put_u64(buf, 9 + 4);
        buf[8] = 0x7f;
        send_and_close(port, buf, 13);
    }
    /* random RPC bodies on one connection: each gets an answer, the connection stays usable */
    struct client c;
    client_open(&c, port);
    for (int i = 0; i < 300; i++) {
        size_t n = 1 + RND() % 64;
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)RND();
        buf[0] = (uint8_t)(RND() % 20); /* mostly known types, so decoding goes deeper */
        struct reply r;
        client_rpc(&c, buf, n, &r);
        reply_free(&r);
    }
    client_close(&c);
    /* disconnects mid-chunk and with chunks still queued, streams opened and never read */
    for (int i = 0; i < 20; i++) {
        client_open(&c, port);
        fetch_blocks(&c, 1, 0, 4); /* never fetched */
        int64_t sid = fetch_blocks(&c, 1, 0, 4);
        struct proto_msg m = {.type = PROTO_CHUNK_FETCH_REQUEST};
        m.u.chunk_fetch_request.stream_id = sid;
        for (int k = 0; k < 4; k++) {
            m.u.chunk_fetch_request.chunk_index = k;
            client_send_msg(&c, &m);
        }
        if (i % 2)
            ck_assert_int_gt(recv(c.fd, buf, 30, 0), 0); /* part of the first chunk */
        client_close(&c);
    }
    /* half-closed client: sends a request, shuts its write side, then vanishes */
    for (int i = 0; i < 10; i++) {
        client_open(&c, port);
        struct proto_msg m = {.type = PROTO_STREAM_REQUEST};
        m.u.stream_request.stream_id = (struct proto_view){(const uint8_t *)"1_0", 3};
        client_send_msg(&c, &m);
        shutdown(c.fd, SHUT_WR);
        client_close(&c);
    }
    /* many at once: half frames held open while a normal client is served */
    enum { HELD = 100 };
    int held[HELD];
    for (int i = 0; i < HELD; i++) {
        held[i] = raw_connect(port);
        put_u64(buf, (i % 2) ? (10u << 20) : 40);
        buf[8] = 3;
        ck_assert_int_eq(send(held[i], buf, 9 + (size_t)(i % 7), MSG_NOSIGNAL), 9 + i % 7);
    }
    normal_fetch(port);
    for (int i = 0; i < HELD; i++)
        close(held[i]);
    /* a large StreamRequest abandoned mid-body */
    char path[1024];
    place(&e, "rdd_4_0", path, sizeof(path));
    ck_assert_int_eq(harness_make_sparse_file(path, 8 << 20), 0);
    for (int i = 0; i < 10; i++) {
        client_open(&c, port);
        struct blockmsg om = {.type = BLOCKMSG_OPEN_BLOCKS};
        struct proto_bytes id = {"rdd_4_0", 7};
        om.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
        om.u.open_blocks.exec_id = (struct proto_bytes){"0", 1};
        om.u.open_blocks.block_ids = (struct proto_string_array){&id, 1};
        struct reply r;
        client_rpc_msg(&c, &om, &r);
        ck_assert_int_eq(r.type, PROTO_RPC_RESPONSE);
        struct blockmsg hm;
        char err[256];
        ck_assert_int_eq(
            blockmsg_decode(r.msg.u.rpc.body.data, r.msg.u.rpc.body.len, &hm, err, sizeof(err)), 0);
        reply_free(&r);
        char name[64];
        snprintf(name, sizeof(name), "%lld_0", (long long)hm.u.stream_handle.stream_id);
        struct proto_msg sm = {.type = PROTO_STREAM_REQUEST};
        sm.u.stream_request.stream_id =
            (struct proto_view){(const uint8_t *)name, (uint32_t)strlen(name)};
        client_send_msg(&c, &sm);
        ck_assert_int_gt(recv(c.fd, buf, sizeof(buf), MSG_WAITALL), 0);
        client_close(&c);
    }
#undef RND
    normal_fetch(port);
    env_stop(&e);
}
END_TEST

/* A FIFO in place of an index or data file fails that chunk; it must not hang a blocking
 * thread (open() of a FIFO waits for a writer), which would stall every later resolution. */
START_TEST(test_fifo_in_place_of_shuffle_files)
{
    struct env e;
    env_start(&e, NULL); /* two blocking threads: a hang would take both by round 2 */
    char path[1024];
    write_map_output(&e, 2, 0, 2, 10);
    place(&e, "shuffle_2_0_0.data", path, sizeof(path));
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    place(&e, "shuffle_2_1_0.index", path, sizeof(path));
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    struct client c;
    client_open(&c, e.d.port);
    for (int round = 0; round < 3; round++) {
        int64_t sid = fetch_blocks(&c, 2, 0, 1);
        expect_chunk_failure(&c, sid, 0, "is not a readable file");
        sid = fetch_blocks(&c, 2, 1, 1);
        expect_chunk_failure(&c, sid, 0, "Failed to open file");
    }
    client_close(&c);
    normal_fetch(e.d.port);
    env_stop(&e);
}
END_TEST

/* A client that asks for a large block and then never reads is closed after the idle timeout
 * instead of pinning its output, chunk count and file descriptor for good. */
START_TEST(test_stalled_reader_is_closed)
{
    struct env e;
    env_start(&e, "\"idle_timeout_ms\": 300, \"fetch_rdd_enabled\": true");
    char path[1024];
    size_t big = 32u << 20;
    place(&e, "rdd_7_0", path, sizeof(path));
    ck_assert_int_eq(harness_make_sparse_file(path, big), 0);
    struct client c;
    memset(&c, 0, sizeof(c));
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct timeval tv = {10, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)e.d.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(c.fd, (struct sockaddr *)&a, sizeof(a)), 0);
    frame_decoder_init(&c.dec, 0);
    c.next_request_id = 1;
    struct blockmsg m = {.type = BLOCKMSG_OPEN_BLOCKS};
    struct proto_bytes id = {"rdd_7_0", 7};
    m.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.open_blocks.exec_id = (struct proto_bytes){"0", 1};
    m.u.open_blocks.block_ids = (struct proto_string_array){&id, 1};
    struct reply r;
    client_rpc_msg(&c, &m, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_RESPONSE);
    struct blockmsg h;
    char err[256];
    ck_assert_int_eq(
        blockmsg_decode(r.msg.u.rpc.body.data, r.msg.u.rpc.body.len, &h, err, sizeof(err)), 0);
    reply_free(&r);
    char name[64];
    snprintf(name, sizeof(name), "%lld_0", (long long)h.u.stream_handle.stream_id);
    struct proto_msg sm = {.type = PROTO_STREAM_REQUEST};
    sm.u.stream_request.stream_id = (struct proto_view){(const uint8_t *)name, strlen(name)};
    client_send_msg(&c, &sm);
    /* read nothing for well over the idle timeout */
    sleep(3);
    /* then drain: the daemon must have given up before the whole block left */
    size_t got = 0;
    static uint8_t sink[1 << 16];
    for (;;) {
        ssize_t n = recv(c.fd, sink, sizeof(sink), 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    ck_assert_msg(got < big, "received all %zu bytes: the stalled connection was kept", got);
    client_close(&c);
    normal_fetch(e.d.port);
    env_stop(&e);
}
END_TEST

/* Open blocks [ids] of app-1/0 and fetch chunk 0 -> reply type; the first error line in err. */
static int fetch_one(struct client *c, const char *id, char *err, size_t errlen)
{
    struct blockmsg m = {.type = BLOCKMSG_OPEN_BLOCKS};
    struct proto_bytes item = {(char *)id, (uint32_t)strlen(id)};
    m.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.open_blocks.exec_id = (struct proto_bytes){"0", 1};
    m.u.open_blocks.block_ids = (struct proto_string_array){&item, 1};
    struct reply r;
    client_rpc_msg(c, &m, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_RESPONSE);
    struct blockmsg h;
    ck_assert_int_eq(blockmsg_decode(r.msg.u.rpc.body.data, r.msg.u.rpc.body.len, &h, err, errlen),
                     0);
    reply_free(&r);
    client_chunk(c, h.u.stream_handle.stream_id, 0, &r);
    int t = r.type;
    err[0] = 0;
    if (t == PROTO_CHUNK_FETCH_FAILURE)
        first_line(r.msg.u.chunk_fetch_failure.error.data, r.msg.u.chunk_fetch_failure.error.len,
                   err, errlen);
    reply_free(&r);
    return t;
}

/* With allowed_local_dir_roots, a symlink planted inside a registered dir (a file, or a
 * whole subdir) cannot make the daemon read or delete outside the roots. */
START_TEST(test_symlinks_out_of_roots)
{
    struct env e;
    char extra[1200];
    env_start(&e, "\"fetch_rdd_enabled\": true");
    daemon_stop_clean(&e.d);
    snprintf(extra, sizeof(extra),
             "\"fetch_rdd_enabled\": true, \"allowed_local_dir_roots\": [\"%s/roots\"]", e.tmp);
    /* restart with roots (known only now); the registration is restored from state_dir */
    daemon_start(&e.d, e.tmp, e.state, extra);
    char outside[900], secret[1000], path[1024], cmd[3000], err[2048];
    snprintf(outside, sizeof(outside), "%s/outside", e.tmp);
    mkdir(outside, 0700);
    snprintf(secret, sizeof(secret), "%s/secret", outside);
    ck_assert_int_eq(harness_write_file(secret, "SECRET", 6), 0);
    /* a file symlink, and an index symlink with its data file inside */
    place(&e, "rdd_9_0", path, sizeof(path));
    ck_assert_int_eq(symlink(secret, path), 0);
    write_map_output(&e, 3, 0, 2, 10);
    char idx_out[1100];
    snprintf(idx_out, sizeof(idx_out), "%s/shuffle_3_0_0.index", outside);
    place(&e, "shuffle_3_0_0.index", path, sizeof(path));
    ck_assert_int_eq(rename(path, idx_out), 0);
    ck_assert_int_eq(symlink(idx_out, path), 0);
    /* a whole subdir swapped for a symlink to the outside dir */
    char name[64] = "";
    for (int k = 0; k < 1000 && !name[0]; k++) {
        char cand[64];
        snprintf(cand, sizeof(cand), "rdd_9_%d", k + 1);
        const char *dirs[1] = {e.dir};
        ck_assert_int_eq(placement_path(dirs, 1, SUBDIRS, cand, path, sizeof(path)), 0);
        *strrchr(path, '/') = 0;
        if (!harness_path_exists(path))
            snprintf(name, sizeof(name), "%s", cand);
    }
    ck_assert(name[0]);
    ck_assert_int_eq(symlink(outside, path), 0);
    snprintf(cmd, sizeof(cmd), "%s/%s", outside, name);
    ck_assert_int_eq(harness_write_file(cmd, "SECRET2", 7), 0);

    struct client c;
    client_open(&c, e.d.port);
    ck_assert_int_eq(fetch_one(&c, "rdd_9_0", err, sizeof(err)), PROTO_CHUNK_FETCH_FAILURE);
    ck_assert_msg(strstr(err, "outside allowed_local_dir_roots"), "%s", err);
    ck_assert_int_eq(fetch_one(&c, name, err, sizeof(err)), PROTO_CHUNK_FETCH_FAILURE);
    ck_assert_msg(strstr(err, "outside allowed_local_dir_roots"), "%s", err);
    ck_assert_int_eq(fetch_one(&c, "shuffle_3_0_0", err, sizeof(err)), PROTO_CHUNK_FETCH_FAILURE);
    ck_assert_msg(strstr(err, "outside allowed_local_dir_roots"), "%s", err);
    /* RemoveBlocks through the symlinked subdir deletes nothing */
    const char *const names[] = {name};
    ck_assert_int_eq(client_remove_blocks(&c, "app-1", "0", names, 1), 0);
    ck_assert(harness_path_exists(cmd));
    client_close(&c);
    normal_fetch(e.d.port);
    env_stop(&e);
}
END_TEST

/* GetLocalDirsForExecutors naming one large registration many times is refused instead of
 * copying it into a reply of unbounded size; a normal request still works. */
START_TEST(test_local_dirs_amplification)
{
    struct env e;
    env_start(&e, NULL);
    enum { NDIRS = 200, DIRLEN = 4000 };
    static char dirbuf[NDIRS][DIRLEN + 1];
    struct proto_bytes items[NDIRS];
    for (int i = 0; i < NDIRS; i++) {
        memset(dirbuf[i], 'd', DIRLEN);
        for (int k = 0; k < DIRLEN; k += 200)
            dirbuf[i][k] = '/';
        snprintf(dirbuf[i] + DIRLEN - 8, 9, "/%07d", i);
        items[i] = (struct proto_bytes){dirbuf[i], DIRLEN};
    }
    struct blockmsg m = {.type = BLOCKMSG_REGISTER_EXECUTOR};
    m.u.register_executor.app_id = (struct proto_bytes){"app-1", 5};
    m.u.register_executor.exec_id = (struct proto_bytes){"big", 3};
    m.u.register_executor.info.local_dirs = (struct proto_string_array){items, NDIRS};
    m.u.register_executor.info.sub_dirs_per_local_dir = 4;
    m.u.register_executor.info.shuffle_manager = (struct proto_bytes){"sort", 4};
    struct client c;
    client_open(&c, e.d.port);
    struct reply r;
    client_rpc_msg(&c, &m, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_RESPONSE);
    reply_free(&r);
    enum { NAMES = 100 }; /* 100 x 800 KB of dirs */
    struct proto_bytes execs[NAMES];
    for (int i = 0; i < NAMES; i++)
        execs[i] = (struct proto_bytes){"big", 3};
    struct blockmsg q = {.type = BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS};
    q.u.get_local_dirs.app_id = (struct proto_bytes){"app-1", 5};
    q.u.get_local_dirs.exec_ids = (struct proto_string_array){execs, NAMES};
    client_rpc_msg(&c, &q, &r);
    ck_assert_msg(r.type == PROTO_RPC_FAILURE, "a reply of %zu bytes was built", r.len);
    reply_free(&r);
    q.u.get_local_dirs.exec_ids.count = 2;
    client_rpc_msg(&c, &q, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_RESPONSE);
    ck_assert_uint_gt(r.msg.u.rpc.body.len, 2 * NDIRS * DIRLEN);
    reply_free(&r);
    client_close(&c);
    normal_fetch(e.d.port);
    env_stop(&e);
}
END_TEST

CHECK_MAIN((.suite = "block_hostile", .name = "hostile", .timeout_s = 120), test_hostile_clients,
           test_fifo_in_place_of_shuffle_files, test_stalled_reader_is_closed,
           test_symlinks_out_of_roots, test_local_dirs_amplification)
