/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests of the daemon's lifecycle and limits, each with its own daemon: idle
 * timeout, SIGTERM during a transfer, max_chunks_in_flight, IPv4+IPv6, max_connections. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "server/stream/stream_manager.h"
#include "../harness/fs.h"
#include "tclient.h"
#include "texpect.h"
#include "../check_main.h"

static struct harness_daemon d; /* the test's daemon; stopped by the teardown if the test failed */

START_TEST(idle_timeout)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"idle_timeout_ms\": 300"), 0);
    int fd = tc_connect(d.port);
    ck_assert_int_ge(fd, 0);
    uint8_t *out;
    size_t n;
    ck_assert_int_eq(tc_rpc(fd, "Ehi", 3, &out, &n), 0);
    free(out);
    ck_assert(tc_wait_closed(fd)); /* closed by the daemon, within the 60 s receive timeout */
    close(fd);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

START_TEST(sigterm_with_transfer_in_flight)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"shutdown_grace_ms\": 30000"), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/term.bin", d.dir);
    ck_assert_int_eq(harness_make_sparse_file(path, 32 << 20), 0);
    int fd = tc_connect(d.port);
    struct tc_chunk ch = {.kind = 0, .path = path, .length = 32 << 20};
    int64_t sid = tc_register(fd, &ch, 1);
    ck_assert_int_ge(sid, 0);
    ck_assert_int_eq(tc_send_fetch(fd, sid, 0), 0);
    uint8_t hdr[21];
    ck_assert_int_eq(tc_read_exact(fd, hdr, sizeof hdr), 0); /* the transfer has started */
    ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
    uint8_t *buf = malloc(1 << 20);
    uint64_t left = 32 << 20;
    while (left > 0) {
        size_t k = left < (1 << 20) ? (size_t)left : (1 << 20);
        ck_assert_msg(tc_read_exact(fd, buf, k) == 0, "transfer cut: %s", tc_last_error());
        left -= k;
    }
    free(buf);
    ck_assert(tc_wait_closed(fd));
    close(fd);
    ck_assert_int_eq(harness_daemon_wait(&d), 0);
}
END_TEST

START_TEST(max_chunks_in_flight_waits)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"max_chunks_in_flight\": 1"), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/d.bin", d.dir);
    FILE *f = fopen(path, "wb");
    uint8_t block[4096];
    memset(block, 7, sizeof block);
    fwrite(block, 1, sizeof block, f);
    fclose(f);
    int fds[2];
    int64_t sids[2];
    struct tc_chunk ch[100];
    for (int i = 0; i < 100; i++)
        ch[i] = (struct tc_chunk){.kind = 0, .path = path, .offset = i % 96, .length = 4000};
    for (int c = 0; c < 2; c++) {
        fds[c] = tc_connect(d.port);
        sids[c] = tc_register(fds[c], ch, 100);
        ck_assert_int_ge(sids[c], 0);
    }
    for (int i = 0; i < 100; i++)
        for (int c = 0; c < 2; c++)
            ck_assert_int_eq(tc_send_fetch(fds[c], sids[c], i), 0);
    /* Read both connections as real clients do (each has its own reader): a
     * client that leaves one connection unread while waiting on the other can
     * hold the only in-flight slot in a full socket buffer and wait forever. */
    for (int i = 0; i < 100; i++)
        for (int c = 0; c < 2; c++)
            expect_fetch_ok(fds[c], sids[c], i, block, 4000);
    for (int c = 0; c < 2; c++)
        close(fds[c]);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

struct round_client {
    int port, rounds, done_rounds;
    const char *path;
    char error[160];
};

enum { ROUND_CHUNKS = 256 };

/* Like a fetcher: per round, one OpenBlocks-like register RPC and a pipelined window of
 * ChunkFetchRequests in one write, then all answers. */
static void *fetch_rounds(void *arg)
{
    struct round_client *rc = arg;
    int fd = tc_connect(rc->port);
    if (fd < 0) {
        snprintf(rc->error, sizeof rc->error, "connect: %s", tc_last_error());
        return NULL;
    }
    /* a stalled connection fails the test in 15 s rather than the default 60 s */
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct tc_chunk ch[ROUND_CHUNKS];
    for (int i = 0; i < ROUND_CHUNKS; i++)
        ch[i] = (struct tc_chunk){.kind = 0, .path = rc->path, .offset = i % 96, .length = 4000};
    struct proto_writer w;
    proto_writer_init(&w);
    for (int round = 0; round < rc->rounds; round++) {
        int64_t sid = tc_register(fd, ch, ROUND_CHUNKS);
        if (sid < 0) {
            snprintf(rc->error, sizeof rc->error, "round %d: register: %s", round, tc_last_error());
            break;
        }
        proto_writer_reset(&w);
        tc_append_fetches(&w, sid, ROUND_CHUNKS);
        if (w.failed || tc_send_all(fd, w.buf, w.len) != 0) {
            snprintf(rc->error, sizeof rc->error, "round %d: send: %s", round, tc_last_error());
            break;
        }
        int got = 0;
        for (; got < ROUND_CHUNKS; got++) {
            struct tc_resp resp;
            if (tc_recv(fd, &resp) != 0)
                break;
            bool good = resp.m.type == PROTO_CHUNK_FETCH_SUCCESS &&
                        resp.m.u.chunk_fetch_success.chunk_index == got && resp.body_len == 4000;
            tc_resp_free(&resp);
            if (!good)
                break;
        }
        if (got < ROUND_CHUNKS) {
            int64_t ls = -1, lc = -1;
            int fd2 = tc_connect(rc->port);
            tc_live(fd2, &ls, &lc);
            close(fd2);
            snprintf(rc->error, sizeof rc->error,
                     "round %d: %d of %d chunks: %s [live streams %lld, chunks in flight %lld]",
                     round, got, ROUND_CHUNKS, tc_last_error(), (long long)ls, (long long)lc);
            break;
        }
        rc->done_rounds++;
    }
    proto_writer_free(&w);
    close(fd);
    return NULL;
}

/* A connection paused by its own max_chunks_per_connection, which finds the global limit full
 * once its own chunks have left, must still be woken when other connections free slots
 * (it used to sleep until idle_timeout_ms: 120 s by default). */
START_TEST(per_connection_pause_then_global_limit)
{
    enum { CONNS = 8, ROUNDS = 20 };
    ck_assert_int_eq(tdaemon_start(&d, "\"max_chunks_in_flight\": 517, "
                                       "\"max_chunks_per_connection\": 256, "
                                       "\"idle_timeout_ms\": 600000"),
                     0);
    char path[600];
    snprintf(path, sizeof path, "%s/p.bin", d.dir);
    FILE *f = fopen(path, "wb");
    uint8_t block[4096] = {0};
    fwrite(block, 1, sizeof block, f);
    fclose(f);
    struct round_client clients[CONNS];
    pthread_t threads[CONNS];
    for (int c = 0; c < CONNS; c++) {
        clients[c] = (struct round_client){.port = d.port, .rounds = ROUNDS, .path = path};
        ck_assert_int_eq(pthread_create(&threads[c], NULL, fetch_rounds, &clients[c]), 0);
    }
    for (int c = 0; c < CONNS; c++)
        pthread_join(threads[c], NULL);
    for (int c = 0; c < CONNS; c++)
        ck_assert_msg(clients[c].done_rounds == ROUNDS, "connection %d: %s", c, clients[c].error);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

static int64_t rpc_i64(int fd, const char *cmd)
{
    uint8_t *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(tc_rpc(fd, cmd, 1, &out, &n), 0);
    ck_assert_uint_eq(n, 8);
    int64_t v = (int64_t)proto_load_u64(out);
    free(out);
    return v;
}

struct held_sender {
    int fd, n, size, failed;
};

/* Sends n 'H' requests; blocks while the daemon does not read, so it runs on its own thread. */
static void *send_held(void *arg)
{
    struct held_sender *s = arg;
    uint8_t *body = calloc(1, (size_t)s->size);
    body[0] = 'H';
    for (int i = 0; i < s->n && !s->failed; i++)
        s->failed = tc_send_rpc(s->fd, 1000 + i, body, (size_t)s->size) != 0;
    free(body);
    return NULL;
}

/* RPCs the service has not answered yet hold their requests: a client pipelining them stops
 * being read once they pass write_high_water_bytes, and is read again once they are answered. */
START_TEST(pending_rpcs_are_bounded)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"write_high_water_bytes\": 1048576, "
                                       "\"write_low_water_bytes\": 262144"),
                     0);
    int a = tc_connect(d.port), b = tc_connect(d.port);
    ck_assert(a >= 0 && b >= 0);
    enum { N = 100, SIZE = 64 * 1024 };
    struct held_sender sender = {a, N, SIZE, 0};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, send_held, &sender), 0);
    /* Wait until the daemon holds no more (bounded: 5 s of 20 ms polls). */
    int64_t held = -1, last = -2;
    for (int i = 0; i < 250 && (held != last || held == 0); i++) {
        last = held;
        usleep(20000);
        held = rpc_i64(b, "Q");
    }
    ck_assert_int_gt(held, 0);
    /* 1 MiB of 64 KiB requests: 16 pass the mark, the 17th pauses reading. */
    ck_assert_int_le(held, 17);
    /* Answer held requests until every one of the N has been answered. */
    int64_t answered = 0;
    for (int i = 0; i < 500 && answered < N; i++) {
        answered += rpc_i64(b, "G");
        usleep(5000);
    }
    ck_assert_int_eq(answered, N);
    pthread_join(t, NULL);
    ck_assert_int_eq(sender.failed, 0);
    for (int i = 0; i < N; i++) {
        struct tc_resp r;
        ck_assert_int_eq(tc_recv(a, &r), 0);
        ck_assert_int_eq(r.m.type, PROTO_RPC_RESPONSE);
        ck_assert(r.m.u.rpc.request_id == 1000 + i);
        tc_resp_free(&r);
    }
    close(a);
    close(b);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

/* Registers a stream of n "missing" chunks through the test service; returns its id (or the
 * negative result of stream_register). */
static int64_t register_missing(int fd, uint32_t n)
{
    size_t len = 5 + (size_t)n;
    uint8_t *body = malloc(len);
    body[0] = 'R';
    proto_store_u32(body + 1, n);
    memset(body + 5, 2, n);
    uint8_t *out = NULL;
    size_t outlen = 0;
    ck_assert_int_eq(tc_rpc(fd, body, len, &out, &outlen), 0);
    ck_assert_uint_eq(outlen, 12);
    int64_t id = (int64_t)proto_load_u64(out);
    free(out);
    free(body);
    return id;
}

/* Streams opened and never fetched are bounded per connection; closing frees the allowance. */
START_TEST(registered_chunks_are_bounded_per_connection)
{
    ck_assert_int_eq(tdaemon_start(&d, NULL), 0);
    int a = tc_connect(d.port);
    uint32_t half = STREAM_MAX_REGISTERED_CHUNKS / 2;
    ck_assert_int_ge(register_missing(a, half), 0);
    ck_assert_int_ge(register_missing(a, half), 0);
    ck_assert_int_eq(register_missing(a, 1), -1);
    ck_assert_int_eq(register_missing(a, 0), -1);
    /* Another connection has its own allowance. */
    int b = tc_connect(d.port);
    ck_assert_int_ge(register_missing(b, half), 0);
    close(a);
    close(b);
    ck_assert_int_eq(tc_wait_no_streams(d.port), 0);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

START_TEST(ipv4_and_ipv6)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"listen\": [\"127.0.0.1\", \"::1\"]"), 0);
    int fds[2] = {tc_connect(d.port), tc_connect6(d.port)};
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(fds[i] >= 0, "connect: %s", tc_last_error());
        expect_echo(fds[i]);
        close(fds[i]);
    }
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

START_TEST(max_connections)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"max_connections\": 2"), 0);
    int a = tc_connect(d.port), b = tc_connect(d.port);
    expect_echo(a);
    expect_echo(b);
    int c = tc_connect(d.port); /* the kernel accepts; the daemon closes it at once */
    ck_assert_int_ge(c, 0);
    ck_assert(tc_wait_closed(c));
    close(c);
    expect_echo(a); /* the others are not affected */
    close(b);
    uint8_t *out = NULL;
    size_t n;
    int rc = -1;
    for (int i = 0; i < 500 && rc != 0; i++) { /* b's slot frees once the daemon saw it close */
        usleep(10000);
        int e = tc_connect(d.port);
        rc = tc_rpc(e, "Eok", 3, &out, &n);
        free(out);
        out = NULL;
        close(e);
    }
    ck_assert_int_eq(rc, 0);
    close(a);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

/* A client that asks for much and reads nothing: the daemon stops reading its requests at
 * max_chunks_per_connection, and resumes when the client reads. */
START_TEST(per_connection_backpressure)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"max_chunks_per_connection\": 8"), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/bp.bin", d.dir);
    ck_assert_int_eq(harness_make_sparse_file(path, 1 << 20), 0);
    enum { N = 100 };
    struct tc_chunk ch[N];
    for (int i = 0; i < N; i++)
        ch[i] = (struct tc_chunk){.kind = 0, .path = path, .length = 1 << 20};
    int a = tc_connect(d.port), b = tc_connect(d.port);
    int64_t sid = tc_register(a, ch, N);
    ck_assert_int_ge(sid, 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(tc_send_fetch(a, sid, i), 0);
    int64_t most = 0, streams, chunks;
    for (int i = 0; i < 50; i++) {
        ck_assert_int_eq(tc_live(b, &streams, &chunks), 0);
        most = chunks > most ? chunks : most;
        usleep(5000);
    }
    ck_assert_int_le(most, 8);
    ck_assert_int_ge(most, 1);
    uint8_t *zero = calloc(1, 1 << 20);
    for (int i = 0; i < N; i++)
        expect_fetch_ok(a, sid, i, zero, 1 << 20);
    free(zero);
    close(a);
    close(b);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

static void own_teardown(void)
{
    if (d.pid > 0)
        harness_daemon_stop(&d);
}

CHECK_MAIN((.suite = "server lifecycle", .name = "own daemon", .timeout_s = 300, .setup = NULL,
            .teardown = own_teardown),
           idle_timeout, sigterm_with_transfer_in_flight, max_chunks_in_flight_waits,
           per_connection_pause_then_global_limit, ipv4_and_ipv6, pending_rpcs_are_bounded,
           registered_chunks_are_bounded_per_connection, max_connections,
           per_connection_backpressure)
