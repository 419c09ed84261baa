/* SPDX-License-Identifier: Apache-2.0 */
/* The reply queue over a plain channel on a socketpair: answers leave in reservation order
 * whatever order they are filled in; headers, heap bodies and file segments arrive byte for
 * byte through a full socket (partial writes, BLOCKED, then more); a partial body asks its
 * producer for more and waits; closing hands slots back as documented; slots are recycled. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check_main.h"
#include "server/net/channel.h"
#include "server/net/reply_queue.h"
#include "test_util.h"

static int peer; /* the reading end */
static struct channel *ch;
static struct reply_queue q;
static int written_count, written_chunks;

static void written(void *ctx, const struct reply_slot *s)
{
    (void)ctx;
    written_count++;
    written_chunks += s->chunk;
}

static void setup(void)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    ch = channel_plain_new(sv[0]);
    peer = sv[1];
    reply_queue_init(&q);
    written_count = written_chunks = 0;
}

static void teardown(void)
{
    reply_queue_close(&q);
    reply_queue_free(&q);
    channel_destroy(ch);
    close(peer);
}

/* Flushes and drains the peer until everything is written; returns what the peer read. */
static size_t pump(uint8_t *out, size_t cap)
{
    size_t got = 0;
    for (int i = 0; i < 100000; i++) {
        enum reply_flush r = reply_queue_flush(&q, ch, written, NULL);
        ck_assert_int_ne(r, REPLY_FLUSH_ERROR);
        ssize_t n = recv(peer, out + got, cap - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        if (r != REPLY_FLUSH_BLOCKED && (n <= 0))
            return got;
    }
    ck_abort_msg("the queue never drained");
    return got;
}

static void fill_text(struct reply_slot *s, const char *hdr, const char *body)
{
    uint8_t *m = NULL;
    size_t n = body ? strlen(body) : 0;
    if (body) {
        m = malloc(n);
        memcpy(m, body, n);
    }
    ck_assert_int_eq(reply_slot_fill(&q, s, (const uint8_t *)hdr, strlen(hdr), m, n, NULL, 0), 0);
}

START_TEST(arrival_order_whatever_the_fill_order)
{
    setup();
    struct reply_slot *a = reply_queue_reserve(&q), *b = reply_queue_reserve(&q),
                      *c = reply_queue_reserve(&q);
    fill_text(c, "C", "3");
    ck_assert_int_eq(reply_queue_flush(&q, ch, written, NULL), REPLY_FLUSH_WAITING);
    fill_text(a, "A", NULL);
    fill_text(b, "B", "22");
    uint8_t out[64];
    size_t n = pump(out, sizeof out);
    ck_assert_uint_eq(n, 6);
    ck_assert(memcmp(out, "AB22C3", 6) == 0);
    ck_assert_int_eq(written_count, 3);
    ck_assert_uint_eq(q.unsent, 0);
    ck_assert_uint_eq(q.mem_bytes, 0);
    ck_assert_uint_eq(q.nspare, 3); /* recycled, not freed */
    teardown();
}
END_TEST

/* A file of n bytes of a known pattern; returns its fd. */
static int pattern_file(size_t n)
{
    char path[] = "/tmp/rq-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 13 + 5);
    ck_assert_int_eq(pwrite(fd, b, n, 0), (ssize_t)n);
    free(b);
    return fd;
}

START_TEST(headers_and_file_bodies_through_a_full_socket)
{
    setup();
    enum { N = 40, BODY = 20000 };
    int fd = pattern_file(BODY * 2);
    for (int i = 0; i < N; i++) {
        struct reply_slot *s = reply_queue_reserve(&q);
        s->chunk = true;
        char hdr[8];
        memset(hdr, 'a' + i % 26, sizeof hdr);
        struct reply_file f = {.fd = dup(fd), .offset = (uint64_t)i * 100, .len = BODY};
        ck_assert_int_eq(
            reply_slot_fill(&q, s, (const uint8_t *)hdr, sizeof hdr, NULL, 0, &f, BODY), 0);
    }
    /* the socket buffer is far smaller than what is queued */
    ck_assert_int_eq(reply_queue_flush(&q, ch, written, NULL), REPLY_FLUSH_BLOCKED);
    size_t cap = N * (8 + BODY);
    uint8_t *out = malloc(cap);
    size_t n = pump(out, cap);
    ck_assert_uint_eq(n, cap);
    uint8_t *want = malloc(BODY * 2);
    ck_assert_int_eq(pread(fd, want, BODY * 2, 0), BODY * 2);
    for (int i = 0; i < N; i++) {
        const uint8_t *p = out + (size_t)i * (8 + BODY);
        for (int k = 0; k < 8; k++)
            ck_assert_int_eq(p[k], 'a' + i % 26);
        ck_assert(memcmp(p + 8, want + i * 100, BODY) == 0);
    }
    ck_assert_int_eq(written_chunks, N);
    free(out);
    free(want);
    close(fd);
    teardown();
}
END_TEST

static int drains;
static void on_drain(void *producer, struct reply_slot *s, bool closing)
{
    (void)producer;
    if (closing) {
        drains += 100;
        reply_slot_free(s);
        return;
    }
    drains++;
}

START_TEST(partial_body_waits_for_its_producer)
{
    setup();
    int fd = pattern_file(3000);
    struct reply_slot *s = reply_queue_reserve(&q);
    s->on_drain = on_drain;
    struct reply_file f = {.fd = fd, .offset = 0, .len = 3000};
    drains = 0;
    ck_assert_int_eq(reply_slot_fill(&q, s, (const uint8_t *)"H", 1, NULL, 0, &f, 1000), 0);
    struct reply_slot *after = reply_queue_reserve(&q);
    fill_text(after, "Z", NULL);
    uint8_t out[4096];
    size_t n = pump(out, sizeof out);
    ck_assert_uint_eq(n, 1001); /* header and the first 1000 bytes, then it waits */
    ck_assert_int_ge(drains, 1);
    ck_assert_int_eq(reply_queue_flush(&q, ch, written, NULL), REPLY_FLUSH_WAITING);
    reply_queue_extend(&q, s, 2000, true);
    n = pump(out, sizeof out);
    ck_assert_uint_eq(n, 2001); /* the rest of the body, then the next answer */
    ck_assert_int_eq(out[2000], 'Z');
    ck_assert_int_eq(written_count, 2);
    teardown();
}
END_TEST

START_TEST(close_hands_slots_back)
{
    setup();
    int fd = pattern_file(3000);
    struct reply_slot *partial = reply_queue_reserve(&q);
    partial->on_drain = on_drain;
    struct reply_file f = {.fd = fd, .offset = 0, .len = 3000};
    ck_assert_int_eq(reply_slot_fill(&q, partial, (const uint8_t *)"H", 1, NULL, 0, &f, 10), 0);
    struct reply_slot *unfilled = reply_queue_reserve(&q);
    struct reply_slot *ready = reply_queue_reserve(&q);
    fill_text(ready, "R", "body");
    drains = 0;
    reply_queue_close(&q);
    ck_assert_int_eq(drains, 100); /* the partial one went back to its producer */
    ck_assert(unfilled->detached); /* its filler frees it */
    reply_slot_free(unfilled);
    ck_assert_ptr_null(q.head);
    ck_assert_uint_eq(q.unsent, 0);
    reply_queue_free(&q);
    channel_destroy(ch);
    close(peer);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reply_queue");
    TCase *tc = tcase_create("queue");
    tcase_add_test(tc, arrival_order_whatever_the_fill_order);
    tcase_add_test(tc, headers_and_file_bodies_through_a_full_socket);
    tcase_add_test(tc, partial_body_waits_for_its_producer);
    tcase_add_test(tc, close_hands_slots_back);
    suite_add_tcase(s, tc);
    return check_run_suite(s);
}
