/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's receive path (src/client/rx.c) over a real loopback TCP connection:
 * every frame arrives whole and in order however the bytes are split (one byte
 * per read included, so every boundary of header, body and after-frame bytes is a
 * read boundary once), large ChunkFetchSuccess bodies go straight into their own
 * allocation, bodies larger than the socket buffers, stream bytes spliced into a
 * file or (splice off) written, the header checks and texts of the frame decoder,
 * a connection dropped mid-body, a sink file that cannot be written. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/link.h"
#include "client/rx.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "../check_main.h"

/* ---- what the receiver saw ---- */

struct seen {
    int frames;
    uint8_t types[16];
    uint8_t *contents[16];
    size_t lens[16];
    uint8_t *raw; /* after-frame bytes handed over in memory */
    size_t raw_len;
    uint64_t sunk;              /* after-frame bytes reported as written to the sink */
    int sink_fd;                /* given to rx for the streams named s_file */
    int raw_pieces_left_at_end; /* raw reports whose raw_remaining was 0 */
    struct rx *rx;
};

static bool on_frame(void *arg, const struct frame_out *out)
{
    struct seen *s = arg;
    ck_assert_int_lt(s->frames, 16);
    s->types[s->frames] = out->type;
    s->lens[s->frames] = out->content_len;
    s->contents[s->frames] = malloc(out->content_len + 1);
    memcpy(s->contents[s->frames], out->content, out->content_len);
    s->frames++;
    /* streams named s_file go to the sink; others come through on_raw */
    if (out->type == PROTO_STREAM_RESPONSE && s->sink_fd >= 0 && out->raw_remaining &&
        out->content_len > 10 && memcmp(out->content + 4, "s_file", 6) == 0)
        rx_sink_to(s->rx, s->sink_fd);
    return true;
}

static bool on_raw(void *arg, const struct frame_out *out)
{
    struct seen *s = arg;
    if (out->raw) {
        s->raw = realloc(s->raw, s->raw_len + out->raw_len);
        memcpy(s->raw + s->raw_len, out->raw, out->raw_len);
        s->raw_len += out->raw_len;
    } else {
        s->sunk += out->raw_len;
    }
    if (out->raw_remaining == 0)
        s->raw_pieces_left_at_end++;
    return true;
}

static struct rx *new_rx(struct seen *s, uint64_t max_frame, bool no_splice, int sink_fd)
{
    memset(s, 0, sizeof(*s));
    s->sink_fd = sink_fd;
    struct rx_handler h = {on_frame, on_raw, s};
    s->rx = rx_new(max_frame, no_splice, &h);
    ck_assert_ptr_nonnull(s->rx);
    return s->rx;
}

static void seen_free(struct seen *s)
{
    for (int i = 0; i < s->frames; i++)
        free(s->contents[i]);
    free(s->raw);
    rx_free(s->rx);
}

/* ---- a loopback TCP pair: w (blocking, TCP_NODELAY) -> r (non-blocking) ---- */

static void tcp_pair(int *w, int *r)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(l, 1), 0);
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &al), 0);
    *w = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(*w, (struct sockaddr *)&a, sizeof(a)), 0);
    *r = accept(l, NULL, NULL);
    ck_assert_int_ge(*r, 0);
    close(l);
    int one = 1;
    setsockopt(*w, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(*r, F_SETFL, fcntl(*r, F_GETFL) | O_NONBLOCK);
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        ck_assert_int_gt(k, 0);
        p += k;
        n -= (size_t)k;
    }
}

/* Waits until r is readable, then pumps once. */
static enum rx_result pump_once(struct rx *x, int r)
{
    struct pollfd p = {r, POLLIN, 0};
    ck_assert_int_eq(poll(&p, 1, 5000), 1);
    return rx_pump(x, r);
}

/* ---- the byte stream of a server's replies ---- */

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *b = malloc(n + 1);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    return b;
}

static void put_msg(struct proto_writer *w, const struct proto_msg *m)
{
    proto_msg_encode(w, m);
    ck_assert(!w->failed);
}

static void put_chunk(struct proto_writer *w, int32_t index, const uint8_t *body, size_t len)
{
    struct proto_msg m = {.type = PROTO_CHUNK_FETCH_SUCCESS};
    m.u.chunk_fetch_success.stream_id = 77;
    m.u.chunk_fetch_success.chunk_index = index;
    m.u.chunk_fetch_success.body.data = body;
    m.u.chunk_fetch_success.body.len = (uint32_t)len;
    put_msg(w, &m);
}

static void put_stream(struct proto_writer *w, const char *id, const uint8_t *raw, size_t len)
{
    struct proto_msg m = {.type = PROTO_STREAM_RESPONSE};
    m.u.stream_response.stream_id.data = (const uint8_t *)id;
    m.u.stream_response.stream_id.len = (uint32_t)strlen(id);
    m.u.stream_response.byte_count = (int64_t)len;
    put_msg(w, &m);
    proto_write_raw(w, raw, len);
}

static void put_rpc(struct proto_writer *w, int64_t id, const char *body)
{
    struct proto_msg m = {.type = PROTO_RPC_RESPONSE};
    m.u.rpc.request_id = id;
    m.u.rpc.body.data = (const uint8_t *)body;
    m.u.rpc.body.len = (uint32_t)strlen(body);
    put_msg(w, &m);
}

/* The chunk body a ChunkFetchSuccess content holds (after stream id and index). */
static void assert_chunk(struct seen *s, int k, int32_t index, const uint8_t *body, size_t len)
{
    ck_assert_int_eq(s->types[k], PROTO_CHUNK_FETCH_SUCCESS);
    struct proto_msg m;
    char err[160];
    ck_assert_int_eq(
        proto_msg_decode(s->types[k], s->contents[k], s->lens[k], &m, err, sizeof(err)), 0);
    ck_assert_int_eq(m.u.chunk_fetch_success.chunk_index, index);
    ck_assert_uint_eq(m.u.chunk_fetch_success.body.len, len);
    ck_assert(memcmp(m.u.chunk_fetch_success.body.data, body, len) == 0);
}

static void assert_rpc(struct seen *s, int k, const char *body)
{
    ck_assert_int_eq(s->types[k], PROTO_RPC_RESPONSE);
    ck_assert_uint_eq(s->lens[k], 8 + 4 + strlen(body));
    ck_assert(memcmp(s->contents[k] + 12, body, strlen(body)) == 0);
}

static int temp_file(char *path, size_t len)
{
    snprintf(path, len, "/tmp/test_rx-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static void assert_file(const char *path, const uint8_t *want, size_t len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t *got = malloc(len + 1);
    size_t n = fread(got, 1, len + 1, f);
    fclose(f);
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(got, want, len) == 0);
    free(got);
}

struct sender {
    int fd;
    const uint8_t *p;
    size_t n;
    size_t piece; /* 0: all at once; else random pieces of 1..piece */
};

/* Sends until done or the peer is gone (no check asserts off the test's thread). */
static void *send_main(void *arg)
{
    struct sender *s = arg;
    uint32_t rnd = 99;
    for (size_t off = 0; off < s->n;) {
        size_t n = s->n - off;
        if (s->piece) {
            rnd = rnd * 1103515245u + 12345u;
            size_t k = 1 + (rnd >> 8) % s->piece;
            n = k < n ? k : n;
        }
        ssize_t k = send(s->fd, s->p + off, n, MSG_NOSIGNAL);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    return NULL;
}

/* One receiver under test: rx reading a loopback pair, maybe a sink file. */
struct rig {
    struct seen s;
    struct rx *x;
    int wfd, rfd, sink;
    char path[64];
};

/* As rig_open's sink: a new temp file; the same opened O_APPEND, which splice
 * refuses to write (EINVAL), so rx must fall back to read + write by itself. */
enum { RIG_TEMP_FILE = -2, RIG_APPEND_FILE = -3 };

/* sink: a file descriptor, -1 (none), RIG_TEMP_FILE or RIG_APPEND_FILE. */
static struct rx *rig_open(struct rig *g, uint64_t max_frame, bool no_splice, int sink)
{
    g->path[0] = 0;
    g->sink = sink;
    if (sink == RIG_TEMP_FILE || sink == RIG_APPEND_FILE)
        g->sink = temp_file(g->path, sizeof(g->path));
    if (sink == RIG_APPEND_FILE) {
        close(g->sink);
        g->sink = open(g->path, O_WRONLY | O_APPEND);
        ck_assert_int_ge(g->sink, 0);
    }
    g->x = new_rx(&g->s, max_frame, no_splice, g->sink);
    tcp_pair(&g->wfd, &g->rfd);
    return g->x;
}

static void rig_close(struct rig *g)
{
    close(g->wfd);
    if (g->rfd >= 0)
        close(g->rfd);
    if (g->path[0]) {
        close(g->sink);
        unlink(g->path);
    }
    seen_free(&g->s);
}

/* Sizes: a direct body (>= RX_DIRECT_MIN_BYTES), a small chunk, a stream in
 * memory, a stream to the sink file. */
enum { BIG = RX_DIRECT_MIN_BYTES + 5000, SMALL = 1000, MEM_RAW = 20000, FILE_RAW = 90000 };

/* piece 1: one byte per send, pumped after each (every boundary is a read
 * boundary); otherwise a sender thread (random pieces of 1..piece, or 0: all at once). */
static void run_split(size_t piece, bool no_splice)
{
    uint8_t *big = pattern(BIG, 1), *small = pattern(SMALL, 2), *mem = pattern(MEM_RAW, 3),
            *file = pattern(FILE_RAW, 4);
    struct proto_writer w;
    proto_writer_init(&w);
    put_rpc(&w, 5, "handle");
    put_chunk(&w, 0, big, BIG);
    put_chunk(&w, 1, small, SMALL);
    put_stream(&w, "s_mem", mem, MEM_RAW);
    put_stream(&w, "s_file", file, FILE_RAW);
    put_chunk(&w, 2, small, SMALL);
    put_rpc(&w, 6, "end");
    struct rig g;
    struct rx *x = rig_open(&g, 0, no_splice, RIG_TEMP_FILE);
    struct seen *s = &g.s;
    int wfd = g.wfd, rfd = g.rfd;
    if (piece == 1) {
        for (size_t off = 0; off < w.len; off++) {
            send_all(wfd, w.buf + off, 1);
            ck_assert_int_eq(pump_once(x, rfd), RX_AGAIN);
        }
    } else {
        struct sender snd = {wfd, w.buf, w.len, piece};
        pthread_t th;
        pthread_create(&th, NULL, send_main, &snd);
        while (s->frames < 7)
            ck_assert_int_eq(pump_once(x, rfd), RX_AGAIN);
        pthread_join(th, NULL);
    }
    ck_assert_int_eq(s->frames, 7);
    assert_rpc(s, 0, "handle");
    assert_chunk(s, 1, 0, big, BIG);
    assert_chunk(s, 2, 1, small, SMALL);
    ck_assert_int_eq(s->types[3], PROTO_STREAM_RESPONSE);
    ck_assert_int_eq(s->types[4], PROTO_STREAM_RESPONSE);
    assert_chunk(s, 5, 2, small, SMALL);
    assert_rpc(s, 6, "end");
    /* the first stream went through memory (no sink for it: see on_frame) */
    ck_assert_uint_eq(s->raw_len, MEM_RAW);
    ck_assert(memcmp(s->raw, mem, MEM_RAW) == 0);
    ck_assert_uint_eq(s->sunk, FILE_RAW);
    ck_assert_int_eq(s->raw_pieces_left_at_end, 2);
    assert_file(g.path, file, FILE_RAW);
    const struct rx_stats *st = rx_get_stats(x);
    if (piece == 1) { /* BIG never arrived whole in one read */
        ck_assert_uint_eq(st->direct_bodies, 1);
        ck_assert_uint_eq(st->direct_bytes, BIG + 12);
    }
    ck_assert_uint_eq(st->spliced_bytes + st->written_bytes, FILE_RAW);
    if (no_splice)
        ck_assert_uint_eq(st->spliced_bytes, 0);
    shutdown(wfd, SHUT_WR);
    ck_assert_int_eq(pump_once(x, rfd), RX_EOF);
    rig_close(&g);
    proto_writer_free(&w);
    free(big);
    free(small);
    free(mem);
    free(file);
}

START_TEST(test_every_boundary_one_byte_reads)
{
    run_split(1, _i == 1);
}
END_TEST

START_TEST(test_random_pieces)
{
    run_split(4096, _i == 1);
}
END_TEST

START_TEST(test_all_at_once)
{
    run_split(0, false);
}
END_TEST

/* 8 MiB (more than the socket buffers hold): a body read straight into its
 * allocation, and a stream into a file, with the peer blocked in send meanwhile:
 * _i 0 spliced, 1 splice off (read + write), 2 a file splice refuses (O_APPEND):
 * the bytes already in the pipe and all later ones are read + written. */
START_TEST(test_larger_than_socket_buffers)
{
    bool no_splice = _i == 1, append = _i == 2;
    size_t len = 8u << 20;
    uint8_t *body = pattern(len, 5), *raw = pattern(len, 6);
    struct proto_writer w;
    proto_writer_init(&w);
    put_chunk(&w, 3, body, len);
    put_stream(&w, "s_file", raw, len);
    put_rpc(&w, 1, "after");
    struct rig g;
    struct rx *x = rig_open(&g, 0, no_splice, append ? RIG_APPEND_FILE : RIG_TEMP_FILE);
    struct seen *s = &g.s;
    int wfd = g.wfd, rfd = g.rfd, rcvbuf = 0;
    socklen_t sl = sizeof(rcvbuf);
    getsockopt(rfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl);
    ck_assert_int_lt(rcvbuf, (int)len);
    struct sender snd = {wfd, w.buf, w.len, 0};
    pthread_t th;
    pthread_create(&th, NULL, send_main, &snd);
    while (s->frames < 3)
        ck_assert_int_eq(pump_once(x, rfd), RX_AGAIN);
    pthread_join(th, NULL);
    assert_chunk(s, 0, 3, body, len);
    assert_rpc(s, 2, "after");
    ck_assert_uint_eq(s->sunk, len);
    assert_file(g.path, raw, len);
    const struct rx_stats *st = rx_get_stats(x);
    ck_assert_uint_eq(st->direct_bodies, 1);
    if (no_splice || append) { /* append: the first splice into the file failed */
        ck_assert_uint_eq(st->spliced_bytes, 0);
        ck_assert_uint_eq(st->written_bytes, len);
    } else {
        /* all but what the first read of the header brought along */
        ck_assert_uint_gt(st->spliced_bytes, len - RX_BUF_BYTES);
        ck_assert_uint_eq(st->spliced_bytes + st->written_bytes, len);
    }
    rig_close(&g);
    proto_writer_free(&w);
    free(body);
    free(raw);
}
END_TEST

/* ---- through a cipher link (client/link.h): a toy one, XOR 0x5a, that reads the socket in
 * 16 KiB gulps and hands out at most 3000 bytes per call, holding the rest (pending) ---- */

enum { TOY_GULP = 16384, TOY_HANDOUT = 3000 };
struct toy_link {
    uint8_t held[TOY_GULP];
    size_t off, len;
    int trims; /* rx_release_idle's calls of trim */
};

static ssize_t toy_readv(void *state, int fd, const struct iovec *iov, int iovcnt)
{
    struct toy_link *t = state;
    if (t->off == t->len) {
        ssize_t n = read(fd, t->held, sizeof(t->held));
        if (n <= 0)
            return n;
        for (ssize_t i = 0; i < n; i++)
            t->held[i] ^= 0x5a;
        t->off = 0;
        t->len = (size_t)n;
    }
    size_t given = 0;
    for (int i = 0; i < iovcnt && given < TOY_HANDOUT && t->off < t->len; i++) {
        size_t n = t->len - t->off, room = TOY_HANDOUT - given;
        n = n < room ? n : room;
        n = n < iov[i].iov_len ? n : iov[i].iov_len;
        memcpy(iov[i].iov_base, t->held + t->off, n);
        t->off += n;
        given += n;
    }
    return (ssize_t)given;
}

static size_t toy_pending(void *state)
{
    struct toy_link *t = state;
    return t->len - t->off;
}

static void toy_trim(void *state)
{
    ((struct toy_link *)state)->trims++;
}

static const struct link_ops toy_ops = {
    .name = "toy-xor", .readv = toy_readv, .pending = toy_pending, .trim = toy_trim};

/* A direct body, a small chunk and a stream to the sink file, XORed on the wire: every frame
 * decrypted whole, and the stream's bytes read + written (never spliced: the socket holds
 * ciphertext). As the transport does, rx is pumped again while the link holds plaintext; once
 * quiet, rx_release_idle trims the link too. */
START_TEST(test_through_a_link)
{
    size_t big_len = 300000, file_len = 500000;
    uint8_t *big = pattern(big_len, 7), *file = pattern(file_len, 8);
    struct proto_writer w;
    proto_writer_init(&w);
    put_chunk(&w, 0, big, big_len);
    put_stream(&w, "s_file", file, file_len);
    put_rpc(&w, 1, "after");
    for (size_t i = 0; i < w.len; i++)
        w.buf[i] ^= 0x5a;
    struct rig g;
    struct rx *x = rig_open(&g, 0, false, RIG_TEMP_FILE);
    struct toy_link toy = {.off = 0};
    struct link link = {&toy_ops, &toy};
    ck_assert_int_eq(rx_set_link(x, &link), 0);
    struct sender snd = {g.wfd, w.buf, w.len, 0};
    pthread_t th;
    pthread_create(&th, NULL, send_main, &snd);
    while (g.s.frames < 3)
        ck_assert_int_eq(link_pending(&link) ? rx_pump(x, g.rfd) : pump_once(x, g.rfd), RX_AGAIN);
    pthread_join(th, NULL);
    assert_chunk(&g.s, 0, 0, big, big_len);
    assert_rpc(&g.s, 2, "after");
    ck_assert_uint_eq(g.s.sunk, file_len);
    assert_file(g.path, file, file_len);
    const struct rx_stats *st = rx_get_stats(x);
    ck_assert_uint_eq(st->spliced_bytes, 0);
    ck_assert_uint_eq(st->written_bytes, file_len);
    /* quiet between frames: rx gives its buffer back, and the link its own (link_trim) */
    ck_assert_int_eq(toy.trims, 0);
    rx_release_idle(x);
    ck_assert_int_eq(toy.trims, 1);
    rig_close(&g);
    proto_writer_free(&w);
    free(big);
    free(file);
}
END_TEST

/* A link goes on only between frames: bytes already read under the old one refuse it. */
START_TEST(test_link_refused_with_bytes_buffered)
{
    struct proto_writer w;
    proto_writer_init(&w);
    put_rpc(&w, 1, "reply");
    put_rpc(&w, 2, "too early");
    struct rig g;
    struct rx *x = rig_open(&g, 0, false, -1);
    send_all(g.wfd, w.buf, 12); /* the first frame's header, then the rest */
    ck_assert_int_eq(pump_once(x, g.rfd), RX_AGAIN);
    struct toy_link toy = {.off = 0};
    struct link link = {&toy_ops, &toy};
    ck_assert_int_eq(rx_set_link(x, &link), -1); /* inside a frame */
    send_all(g.wfd, w.buf + 12, w.len - 12);
    while (g.s.frames < 2)
        ck_assert_int_eq(pump_once(x, g.rfd), RX_AGAIN);
    ck_assert_int_eq(rx_set_link(x, &link), 0); /* between frames, nothing held */
    rig_close(&g);
    proto_writer_free(&w);
}
END_TEST

/* The peer goes away in the middle of a direct body, of a spliced stream. */
START_TEST(test_dropped_mid_body)
{
    size_t len = 1u << 20;
    uint8_t *body = pattern(len, 7);
    struct proto_writer w;
    proto_writer_init(&w);
    if (_i == 0)
        put_chunk(&w, 0, body, len);
    else
        put_stream(&w, "s_file", body, len);
    struct rig g;
    struct rx *x = rig_open(&g, 0, false, RIG_TEMP_FILE);
    struct seen *s = &g.s;
    int wfd = g.wfd, rfd = g.rfd;
    send_all(wfd, w.buf, w.len / 2);
    shutdown(wfd, SHUT_WR);
    enum rx_result rc;
    while ((rc = pump_once(x, rfd)) == RX_AGAIN)
        ;
    ck_assert_int_eq(rc, RX_EOF);
    ck_assert_int_eq(s->frames, _i == 0 ? 0 : 1); /* no chunk; the stream's header */
    ck_assert_uint_lt(s->sunk, len);
    rig_close(&g);
    proto_writer_free(&w);
    free(body);
}
END_TEST

/* Header checks are the frame decoder's, before anything is allocated. */
START_TEST(test_header_limits)
{
    struct rig g;
    struct rx *x = rig_open(&g, 4096, false, -1);
    struct seen *s = &g.s;
    int wfd = g.wfd, rfd = g.rfd;
    uint8_t hdr[PROTO_FRAME_HEADER_LEN + 12] = {0};
    proto_store_u64(hdr, (uint64_t)1 << 30); /* a 1 GiB ChunkFetchSuccess */
    hdr[8] = PROTO_CHUNK_FETCH_SUCCESS;
    send_all(wfd, hdr, sizeof(hdr));
    ck_assert_int_eq(pump_once(x, rfd), RX_MALFORMED);
    ck_assert_str_eq(rx_error(x), "too large frame: 1073741824 bytes (limit 4096)");
    ck_assert_int_eq(s->frames, 0);
    rig_close(&g);

    x = rig_open(&g, 0, false, -1);
    wfd = g.wfd;
    rfd = g.rfd;
    proto_store_u64(hdr, 3);
    send_all(wfd, hdr, sizeof(hdr));
    ck_assert_int_eq(pump_once(x, rfd), RX_MALFORMED);
    ck_assert_str_eq(rx_error(x), "frame length should be positive: -5");
    rig_close(&g);
}
END_TEST

/* A sink that refuses writes: RX_SINK_ERROR with its errno. */
START_TEST(test_sink_cannot_be_written)
{
    uint8_t *raw = pattern(300000, 8);
    struct proto_writer w;
    proto_writer_init(&w);
    put_stream(&w, "s_file", raw, 300000);
    int ro = open("/dev/null", O_RDONLY);
    struct rig g;
    struct rx *x = rig_open(&g, 0, _i == 1, ro);
    int wfd = g.wfd, rfd = g.rfd;
    struct sender snd = {wfd, w.buf, w.len, 0};
    pthread_t th;
    pthread_create(&th, NULL, send_main, &snd);
    enum rx_result rc;
    while ((rc = pump_once(x, rfd)) == RX_AGAIN)
        ;
    ck_assert_int_eq(rc, RX_SINK_ERROR);
    ck_assert_int_eq(rx_errno(x), EBADF);
    close(rfd); /* the sender's blocked send fails */
    g.rfd = -1;
    pthread_join(th, NULL);
    rig_close(&g);
    close(ro);
    proto_writer_free(&w);
    free(raw);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rx");
    TCase *tc = tcase_create("rx");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_every_boundary_one_byte_reads, 0, 2);
    tcase_add_loop_test(tc, test_random_pieces, 0, 2);
    tcase_add_test(tc, test_all_at_once);
    tcase_add_loop_test(tc, test_larger_than_socket_buffers, 0, 3);
    tcase_add_loop_test(tc, test_dropped_mid_body, 0, 2);
    tcase_add_test(tc, test_header_limits);
    tcase_add_test(tc, test_through_a_link);
    tcase_add_test(tc, test_link_refused_with_bytes_buffered);
    tcase_add_loop_test(tc, test_sink_cannot_be_written, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run_suite(suite());
}
