/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests of the daemon core: the real daemon (test build, with the test service)
 * on an ephemeral loopback port, driven by a small protocol client. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/fs.h"
#include "tclient.h"
#include "texpect.h"
#include "../check_main.h"

static struct harness_daemon shared;
static char data_path[512]; /* 2 MiB of pseudo-random bytes */
#define DATA_SIZE (2u << 20)
static uint8_t *data_bytes;

static int start_shared(void)
{
    if (shared.pid > 0)
        return 0;
    if (tdaemon_start(&shared, NULL) != 0)
        return -1;
    snprintf(data_path, sizeof data_path, "%s/data.bin", shared.dir);
    data_bytes = harness_write_random_file(data_path, DATA_SIZE, 88172645463325252ULL);
    return data_bytes ? 0 : -1;
}

static int conn_shared(void)
{
    ck_assert_int_eq(start_shared(), 0);
    int fd = tc_connect(shared.port);
    ck_assert_msg(fd >= 0, "connect: %s", tc_last_error());
    return fd;
}

/* path = name in the shared daemon's dir (the daemon started first). */
static void shared_file(const char *name, char *path, size_t len)
{
    ck_assert_int_eq(start_shared(), 0);
    snprintf(path, len, "%s/%s", shared.dir, name);
}

/* Chunks of 0 B, 1 B, 64 KiB and 1 MiB from a file, plus a memory chunk, on one stream. */
static const struct {
    int64_t off, len;
} sizes[] = {{0, 0}, {7, 1}, {100, 65536}, {65536 + 3, 1 << 20}};
#define NSIZES 4

static int64_t register_sizes(int fd, const char *mem, uint32_t memlen)
{
    struct tc_chunk ch[NSIZES + 1];
    memset(ch, 0, sizeof ch);
    for (int i = 0; i < NSIZES; i++) {
        ch[i].kind = 0;
        ch[i].path = data_path;
        ch[i].offset = sizes[i].off;
        ch[i].length = sizes[i].len;
    }
    ch[NSIZES].kind = 1;
    ch[NSIZES].data = mem;
    ch[NSIZES].data_len = memlen;
    return tc_register(fd, ch, NSIZES + 1);
}

START_TEST(chunk_fetch_sizes)
{
    int fd = conn_shared();
    int64_t sid = register_sizes(fd, "memory chunk", 12);
    ck_assert_int_ge(sid, 0);
    for (int i = 0; i < NSIZES; i++) {
        ck_assert_int_eq(tc_send_fetch(fd, sid, i), 0);
        expect_fetch_ok(fd, sid, i, data_bytes + sizes[i].off, (size_t)sizes[i].len);
    }
    ck_assert_int_eq(tc_send_fetch(fd, sid, NSIZES), 0);
    expect_fetch_ok(fd, sid, NSIZES, "memory chunk", 12);
    /* the last chunk dropped the stream */
    ck_assert_int_eq(tc_send_fetch(fd, sid, NSIZES + 1), 0);
    expect_fetch_fail(fd, sid, NSIZES + 1, "java.lang.NullPointerException");
    close(fd);
}
END_TEST

START_TEST(stream_sizes)
{
    int fd = conn_shared();
    int64_t sid = register_sizes(fd, "", 0);
    ck_assert_int_ge(sid, 0);
    char name[64];
    for (int i = 0; i <= NSIZES; i++) { /* pipelined: all requests first */
        snprintf(name, sizeof name, "%lld_%d", (long long)sid, i);
        ck_assert_int_eq(tc_send_stream(fd, name), 0);
    }
    for (int i = 0; i < NSIZES; i++) {
        snprintf(name, sizeof name, "%lld_%d", (long long)sid, i);
        expect_stream_ok(fd, name, data_bytes + sizes[i].off, (size_t)sizes[i].len);
    }
    snprintf(name, sizeof name, "%lld_%d", (long long)sid, NSIZES);
    expect_stream_ok(fd, name, "", 0);
    expect_echo(fd);
    close(fd);
}
END_TEST

/* 256 MiB from a sparse file, through both paths. */
START_TEST(chunk_256mib)
{
    char path[600];
    shared_file("big.bin", path, sizeof path);
    const int64_t big = 256LL << 20;
    int f = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert_int_ge(f, 0);
    ck_assert_int_eq(ftruncate(f, big), 0);
    int64_t marks[] = {0, 4096, (128LL << 20) + 1, big - 1000};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pwrite(f, data_bytes, 1000, marks[i]), 1000);
    close(f);
    /* expected hash, computed the same way the client hashes */
    uint64_t want = TC_HASH_INIT;
    uint8_t *buf = malloc(1 << 20);
    f = open(path, O_RDONLY);
    for (int64_t off = 0; off < big; off += 1 << 20) {
        ck_assert_int_eq(pread(f, buf, 1 << 20, off), 1 << 20);
        want = tc_hash(want, buf, 1 << 20);
    }
    close(f);
    free(buf);
    int fd = conn_shared();
    struct tc_chunk ch = {.kind = 0, .path = path, .offset = 0, .length = big};
    int64_t s1 = tc_register(fd, &ch, 1);
    int64_t s2 = tc_register(fd, &ch, 1);
    ck_assert_int_ge(s1, 0);
    ck_assert_int_ge(s2, 0);
    char name[64];
    snprintf(name, sizeof name, "%lld_0", (long long)s1);
    ck_assert_int_eq(tc_send_stream(fd, name), 0);
    ck_assert_int_eq(tc_send_fetch(fd, s2, 0), 0);
    struct tc_resp r;
    ck_assert_msg(tc_recv(fd, &r) == 0, "recv: %s", tc_last_error());
    ck_assert_int_eq(r.m.type, PROTO_STREAM_RESPONSE);
    ck_assert_uint_eq(r.body_len, (uint64_t)big);
    ck_assert_uint_eq(r.body_hash, want);
    tc_resp_free(&r);
    ck_assert_msg(tc_recv(fd, &r) == 0, "recv: %s", tc_last_error());
    ck_assert_int_eq(r.m.type, PROTO_CHUNK_FETCH_SUCCESS);
    ck_assert_uint_eq(r.body_len, (uint64_t)big);
    ck_assert_uint_eq(r.body_hash, want);
    tc_resp_free(&r);
    close(fd);
    unlink(path);
}
END_TEST

struct sender {
    int fd;
    struct proto_writer w;
    int rc;
};

static void *send_thread(void *arg)
{
    struct sender *s = arg;
    s->rc = tc_send_all(s->fd, s->w.buf, s->w.len);
    return NULL;
}

START_TEST(pipelined_10000)
{
    enum { N = 10000 };
    int fd = conn_shared();
    struct tc_chunk *ch = calloc(N, sizeof *ch);
    for (int i = 0; i < N; i++) {
        ch[i].kind = 0;
        ch[i].path = data_path;
        ch[i].offset = (int64_t)i * 37;
        ch[i].length = 1 + i % 100;
    }
    int64_t sid = tc_register(fd, ch, N);
    ck_assert_int_ge(sid, 0);
    struct sender s = {.fd = fd};
    proto_writer_init(&s.w);
    tc_append_fetches(&s.w, sid, N);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, send_thread, &s), 0);
    for (int i = 0; i < N; i++)
        expect_fetch_ok(fd, sid, i, data_bytes + ch[i].offset, (size_t)ch[i].length);
    pthread_join(t, NULL);
    ck_assert_int_eq(s.rc, 0);
    proto_writer_free(&s.w);
    free(ch);
    close(fd);
}
END_TEST

START_TEST(concurrent_200)
{
    enum { N = 200 };
    ck_assert_int_eq(start_shared(), 0);
    int fds[N];
    int64_t sids[N];
    for (int i = 0; i < N; i++) {
        fds[i] = conn_shared();
        struct tc_chunk ch[2] = {{.kind = 0, .path = data_path, .offset = i * 1000, .length = 4096},
                                 {.kind = 0, .path = data_path, .offset = i, .length = 70000}};
        sids[i] = tc_register(fds[i], ch, 2);
        ck_assert_int_ge(sids[i], 0);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(tc_send_fetch(fds[i], sids[i], 0), 0);
        ck_assert_int_eq(tc_send_fetch(fds[i], sids[i], 1), 0);
    }
    for (int i = N - 1; i >= 0; i--) {
        expect_fetch_ok(fds[i], sids[i], 0, data_bytes + i * 1000, 4096);
        expect_fetch_ok(fds[i], sids[i], 1, data_bytes + i, 70000);
        close(fds[i]);
    }
}
END_TEST

START_TEST(one_byte_at_a_time)
{
    int fd = conn_shared();
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_u8(&w, 'R');
    proto_write_i32(&w, 1);
    proto_write_u8(&w, 0);
    proto_write_str(&w, data_path);
    proto_write_i64(&w, 5);
    proto_write_i64(&w, 300);
    struct proto_msg m = {.type = PROTO_RPC_REQUEST};
    m.u.rpc.request_id = 42;
    m.u.rpc.body.data = w.buf;
    m.u.rpc.body.len = (uint32_t)w.len;
    struct proto_writer f;
    proto_writer_init(&f);
    tc_append_msg(&f, &m);
    for (size_t i = 0; i < f.len; i++) {
        ck_assert_int_eq(tc_send_all(fd, f.buf + i, 1), 0);
        usleep(200);
    }
    struct tc_resp r;
    ck_assert_int_eq(tc_recv(fd, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_RPC_RESPONSE);
    ck_assert_int_eq(r.m.u.rpc.request_id, 42);
    ck_assert_uint_eq(r.m.u.rpc.body.len, 12);
    int64_t sid = (int64_t)proto_load_u64(r.m.u.rpc.body.data);
    tc_resp_free(&r);
    proto_writer_reset(&f);
    struct proto_msg q = {.type = PROTO_CHUNK_FETCH_REQUEST};
    q.u.chunk_fetch_request.stream_id = sid;
    tc_append_msg(&f, &q);
    for (size_t i = 0; i < f.len; i++) {
        ck_assert_int_eq(tc_send_all(fd, f.buf + i, 1), 0);
        usleep(200);
    }
    expect_fetch_ok(fd, sid, 0, data_bytes + 5, 300);
    proto_writer_free(&w);
    proto_writer_free(&f);
    close(fd);
}
END_TEST

START_TEST(disconnect_mid_transfer)
{
    char path[600];
    shared_file("mid.bin", path, sizeof path);
    ck_assert_int_eq(harness_make_sparse_file(path, 64 << 20), 0);
    int fd = conn_shared();
    struct tc_chunk ch[3] = {{.kind = 0, .path = path, .length = 64 << 20},
                             {.kind = 0, .path = path, .length = 64 << 20},
                             {.kind = 0, .path = path, .length = 64 << 20}};
    int64_t sid = tc_register(fd, ch, 3);
    int64_t other = tc_register(fd, ch, 3); /* never fetched: freed on close */
    ck_assert_int_ge(sid, 0);
    ck_assert_int_ge(other, 0);
    ck_assert_int_eq(tc_send_fetch(fd, sid, 0), 0);
    ck_assert_int_eq(tc_send_fetch(fd, sid, 1), 0);
    uint8_t buf[65536];
    ck_assert_int_eq(tc_read_exact(fd, buf, sizeof buf), 0);
    close(fd);
    ck_assert_int_eq(tc_wait_no_streams(shared.port), 0);
    int fd2 = conn_shared();
    expect_echo(fd2);
    close(fd2);
    unlink(path);
}
END_TEST

START_TEST(error_texts)
{
    int fd = conn_shared();
    ck_assert_int_eq(tc_send_fetch(fd, 123456789, 0), 0);
    expect_fetch_fail(fd, 123456789, 0, "java.lang.NullPointerException");
    ck_assert_int_eq(tc_send_stream(fd, "123456789_0"), 0);
    expect_stream_fail(fd, "123456789_0", "java.lang.NullPointerException");
    ck_assert_int_eq(tc_send_stream(fd, "abc_1"), 0);
    expect_stream_fail(fd, "abc_1", "java.lang.NumberFormatException: For input string: \"abc\"");
    ck_assert_int_eq(tc_send_stream(fd, "5"), 0);
    expect_stream_fail(fd, "5", "java.lang.ArrayIndexOutOfBoundsException");

    struct tc_chunk ch[4] = {{.kind = 1, .data = "a", .data_len = 1},
                             {.kind = 2},
                             {.kind = 3, .text = "java.lang.RuntimeException: boom"},
                             {.kind = 1, .data = "d", .data_len = 1}};
    int64_t sid = tc_register(fd, ch, 4);
    ck_assert_int_ge(sid, 0);
    ck_assert_int_eq(tc_send_fetch(fd, sid, 1), 0); /* out of order */
    expect_fetch_fail(fd, sid, 1,
                      "java.lang.IllegalStateException: Received out-of-order chunk index 1 "
                      "(expected 0)");
    ck_assert_int_eq(tc_send_fetch(fd, sid, 0), 0);
    expect_fetch_ok(fd, sid, 0, "a", 1);
    ck_assert_int_eq(tc_send_fetch(fd, sid, 1), 0);
    expect_fetch_fail(fd, sid, 1, "java.lang.IllegalStateException: Chunk was not found");
    char name[64];
    snprintf(name, sizeof name, "%lld_2", (long long)sid);
    ck_assert_int_eq(tc_send_stream(fd, name), 0);
    expect_stream_fail(fd, name, "java.lang.RuntimeException: boom");
    /* Spark's quirk: the index moved on, the buffer did not; chunk 3 retries buffer 2 */
    ck_assert_int_eq(tc_send_fetch(fd, sid, 3), 0);
    expect_fetch_fail(fd, sid, 3, "java.lang.RuntimeException: boom");

    struct tc_chunk miss = {.kind = 2};
    int64_t s2 = tc_register(fd, &miss, 1);
    snprintf(name, sizeof name, "%lld_0", (long long)s2);
    ck_assert_int_eq(tc_send_stream(fd, name), 0);
    char want[100];
    snprintf(want, sizeof want, "Stream '%s' was not found.", name);
    expect_stream_fail(fd, name, want);

    int64_t empty = tc_register(fd, NULL, 0);
    ck_assert_int_ge(empty, 0);
    ck_assert_int_eq(tc_send_fetch(fd, empty, 0), 0);
    expect_fetch_fail(fd, empty, 0,
                      "java.lang.IllegalStateException: Requested chunk index beyond end 0");
    expect_echo(fd);
    close(fd);
}
END_TEST

/* The same rules hold when the requests arrive together (they are resolved in batches). */
START_TEST(pipelined_failures_match_sequential)
{
    int fd = conn_shared();
    struct tc_chunk ch[5] = {{.kind = 1, .data = "a", .data_len = 1},
                             {.kind = 2},
                             {.kind = 3, .text = "java.lang.RuntimeException: boom"},
                             {.kind = 1, .data = "d", .data_len = 1},
                             {.kind = 1, .data = "e", .data_len = 1}};
    int64_t sid = tc_register(fd, ch, 5);
    ck_assert_int_ge(sid, 0);
    int32_t order[] = {0, 2, 1, 2, 3, 4};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(tc_send_fetch(fd, sid, order[i]), 0);
    expect_fetch_ok(fd, sid, 0, "a", 1);
    expect_fetch_fail(fd, sid, 2, "out-of-order chunk index 2 (expected 1)");
    expect_fetch_fail(fd, sid, 1, "Chunk was not found");
    expect_fetch_fail(fd, sid, 2, "java.lang.RuntimeException: boom");
    expect_fetch_fail(fd, sid, 3, "java.lang.RuntimeException: boom"); /* retries buffer 2 */
    expect_fetch_fail(fd, sid, 4, "java.lang.RuntimeException: boom");
    /* a two-chunk stream asked for three chunks at once: the third finds it gone */
    int64_t s2 = tc_register(fd, ch, 1);
    int64_t s3 = tc_register(fd, ch + 3, 2);
    ck_assert_int_eq(tc_send_fetch(fd, s2, 0), 0);
    ck_assert_int_eq(tc_send_fetch(fd, s3, 0), 0);
    ck_assert_int_eq(tc_send_fetch(fd, s3, 1), 0);
    ck_assert_int_eq(tc_send_fetch(fd, s3, 2), 0);
    ck_assert_int_eq(tc_send_fetch(fd, s2, 1), 0);
    expect_fetch_ok(fd, s2, 0, "a", 1);
    expect_fetch_ok(fd, s3, 0, "d", 1);
    expect_fetch_ok(fd, s3, 1, "e", 1);
    expect_fetch_fail(fd, s3, 2, "java.lang.NullPointerException");
    expect_fetch_fail(fd, s2, 1, "java.lang.NullPointerException");
    expect_echo(fd);
    close(fd);
}
END_TEST

START_TEST(file_deleted_or_truncated)
{
    char gone[600], shrunk[600];
    shared_file("gone.bin", gone, sizeof gone);
    shared_file("shrunk.bin", shrunk, sizeof shrunk);
    FILE *f = fopen(gone, "wb");
    fwrite(data_bytes, 1, 5000, f);
    fclose(f);
    f = fopen(shrunk, "wb");
    fwrite(data_bytes, 1, 5000, f);
    fclose(f);
    int fd = conn_shared();
    struct tc_chunk a = {.kind = 0, .path = gone, .offset = 0, .length = 5000};
    struct tc_chunk b[2] = {{.kind = 0, .path = shrunk, .offset = 1000, .length = 4000},
                            {.kind = 0, .path = shrunk, .offset = 0, .length = 10}};
    int64_t sa = tc_register(fd, &a, 1);
    int64_t sb = tc_register(fd, b, 2);
    ck_assert_int_eq(unlink(gone), 0);
    ck_assert_int_eq(truncate(shrunk, 3000), 0);
    ck_assert_int_eq(tc_send_fetch(fd, sa, 0), 0);
    expect_fetch_fail(fd, sa, 0, "Failed to open file");
    ck_assert_int_eq(tc_send_fetch(fd, sb, 0), 0);
    expect_fetch_fail(fd, sb, 0, "holds 3000 bytes");
    expect_echo(fd);
    close(fd);
}
END_TEST

START_TEST(bad_frames_close_only_that_connection)
{
    int good = conn_shared();
    expect_echo(good);
    int big = conn_shared();
    uint8_t hdr[9] = {0, 0, 1, 0, 0, 0, 0, 0, 3}; /* frameLen 2^40 */
    ck_assert_int_eq(tc_send_all(big, hdr, sizeof hdr), 0);
    ck_assert(tc_wait_closed(big));
    close(big);
    int over = conn_shared(); /* above max_frame_bytes (16 MiB) but below Java's limit */
    uint8_t hdr2[9] = {0, 0, 0, 0, 0x02, 0, 0, 0, 3};
    ck_assert_int_eq(tc_send_all(over, hdr2, sizeof hdr2), 0);
    ck_assert(tc_wait_closed(over));
    close(over);
    int junk = conn_shared();
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(tc_send_all(junk, http, strlen(http)), 0);
    ck_assert(tc_wait_closed(junk));
    close(junk);
    int type = conn_shared();
    uint8_t unknown[10] = {0, 0, 0, 0, 0, 0, 0, 10, 99, 0};
    ck_assert_int_eq(tc_send_all(type, unknown, sizeof unknown), 0);
    ck_assert(tc_wait_closed(type));
    close(type);
    expect_echo(good);
    close(good);
}
END_TEST

START_TEST(rpc_paths)
{
    int fd = conn_shared();
    uint8_t *out;
    size_t n;
    ck_assert_int_eq(tc_rpc(fd, "Aasync", 6, &out, &n), 0);
    ck_assert_str_eq((char *)out, "async");
    free(out);
    ck_assert_int_eq(tc_rpc(fd, "Tthread", 7, &out, &n), 0);
    ck_assert_str_eq((char *)out, "thread");
    free(out);
    ck_assert_int_eq(tc_rpc(fd, "?", 1, &out, &n), 1);
    ck_assert(strstr((char *)out, "UnsupportedOperationException") != NULL);
    free(out);
    ck_assert_int_eq(tc_rpc(fd, "W", 1, &out, &n), 0);
    int64_t before = (int64_t)proto_load_u64(out);
    free(out);
    struct proto_msg m = {.type = PROTO_ONE_WAY_MESSAGE};
    m.u.one_way.body.data = (const uint8_t *)"x";
    m.u.one_way.body.len = 1;
    ck_assert_int_eq(tc_send_msg(fd, &m), 0);
    ck_assert_int_eq(tc_rpc(fd, "W", 1, &out, &n), 0); /* answered in order: no reply between */
    ck_assert_int_eq((int64_t)proto_load_u64(out), before + 1);
    free(out);
    /* pipelined RPCs of every kind come back in arrival order */
    ck_assert_int_eq(tc_send_rpc(fd, 1, "Aone", 4), 0);
    ck_assert_int_eq(tc_send_rpc(fd, 2, "Etwo", 4), 0);
    ck_assert_int_eq(tc_send_rpc(fd, 3, "Tthree", 6), 0);
    for (int64_t i = 1; i <= 3; i++) {
        struct tc_resp r;
        ck_assert_int_eq(tc_recv(fd, &r), 0);
        ck_assert_int_eq(r.m.type, PROTO_RPC_RESPONSE);
        ck_assert_int_eq(r.m.u.rpc.request_id, i);
        tc_resp_free(&r);
    }
    close(fd);
}
END_TEST

START_TEST(upload_stream_refused)
{
    int fd = conn_shared();
    uint8_t meta[] = {12, 0, 0, 0, 5, 'a', 'p', 'p', '-', '1'};
    struct proto_msg m = {.type = PROTO_UPLOAD_STREAM};
    m.u.upload_stream.request_id = 77;
    m.u.upload_stream.meta.data = meta;
    m.u.upload_stream.meta.len = sizeof meta;
    m.u.upload_stream.body_byte_count = 5;
    ck_assert_int_eq(tc_send_msg(fd, &m), 0);
    ck_assert_int_eq(tc_send_all(fd, "12345", 5), 0);
    struct tc_resp r;
    ck_assert_int_eq(tc_recv(fd, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_RPC_FAILURE);
    ck_assert_int_eq(r.m.u.rpc_failure.request_id, 77);
    ck_assert(memmem(r.m.u.rpc_failure.error.data, r.m.u.rpc_failure.error.len,
                     "Cannot handle shuffle block merge", 33) != NULL);
    tc_resp_free(&r);
    ck_assert(tc_wait_closed(fd));
    close(fd);
}
END_TEST

START_TEST(streams_freed_on_close)
{
    int fd = conn_shared();
    struct tc_chunk ch[2] = {{.kind = 1, .data = "x", .data_len = 1}, {.kind = 2}};
    for (int i = 0; i < 50; i++)
        ck_assert_int_ge(tc_register(fd, ch, 2), 0);
    int64_t streams, chunks;
    ck_assert_int_eq(tc_live(fd, &streams, &chunks), 0);
    ck_assert_int_ge(streams, 50);
    close(fd);
    ck_assert_int_eq(tc_wait_no_streams(shared.port), 0);
}
END_TEST

START_TEST(shared_daemon_stops_cleanly)
{
    ck_assert_int_eq(start_shared(), 0);
    /* 0 also means: no leak under LeakSanitizer */
    ck_assert_int_eq(harness_daemon_stop(&shared), 0);
    free(data_bytes);
    data_bytes = NULL;
}
END_TEST

int main(void)
{
    int status = check_main(
        &(struct check_case){.suite = "server", .name = "shared daemon", .timeout_s = 300},
        CHECK_TESTS(chunk_fetch_sizes, stream_sizes, chunk_256mib, pipelined_10000, concurrent_200,
                    one_byte_at_a_time, disconnect_mid_transfer, error_texts,
                    pipelined_failures_match_sequential, file_deleted_or_truncated,
                    bad_frames_close_only_that_connection, rpc_paths, upload_stream_refused,
                    streams_freed_on_close, shared_daemon_stops_cleanly));
    if (shared.pid > 0)
        harness_daemon_stop(&shared);
    free(data_bytes);
    return status;
}
