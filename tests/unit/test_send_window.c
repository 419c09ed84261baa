/* SPDX-License-Identifier: Apache-2.0 */
/* The bounded write window shared by the AES-CTR, AES-GCM and TLS channels (send_window.h):
 * bytes leave in order, at most one window is held while the drain is full, the held bytes
 * leave first and an idle window beyond `keep` is given back; an appending window keeps what
 * it holds for bytes that follow at once, and nothing staged is given back; a window given
 * back is kept by the thread for its next window. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "server/net/send_window.h"

#define MAX 1000
#define KEEP 100

/* A drain taking at most budget bytes, then EAGAIN; what it took goes to out, in writes
 * calls. */
struct sink {
    uint8_t out[8192];
    size_t len, budget;
    int writes;
};

static ssize_t drain(void *arg, const uint8_t *p, size_t n, bool more)
{
    struct sink *s = arg;
    (void)more;
    if (s->budget == 0) {
        errno = EAGAIN;
        return -1;
    }
    size_t take = n < s->budget ? n : s->budget;
    memcpy(s->out + s->len, p, take);
    s->len += take;
    s->budget -= take;
    s->writes++;
    return (ssize_t)take;
}

/* The source from byte *base on (NULL: 0): byte i is (uint8_t)(i * 7). */
static ssize_t fill(void *src, struct send_window *w, size_t done, size_t n)
{
    size_t base = src ? *(const size_t *)src : 0;
    uint8_t *win = send_window_room(w, &n);
    if (!win)
        return -1;
    for (size_t i = 0; i < n; i++)
        win[i] = (uint8_t)((base + done + i) * 7);
    w->end += n;
    return (ssize_t)n;
}

static void assert_sequence(const struct sink *s, size_t n)
{
    ck_assert_uint_eq(s->len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(s->out[i], (uint8_t)(i * 7));
}

START_TEST(everything_leaves_in_order_and_the_window_goes_back)
{
    struct send_window w;
    send_window_init(&w, MAX, KEEP, false);
    struct sink s = {.budget = SIZE_MAX};
    ck_assert_int_eq(send_window_pump(&w, 2500, false, fill, NULL, drain, &s), 2500);
    assert_sequence(&s, 2500);
    ck_assert_uint_eq(send_window_held(&w), 0);
    ck_assert_uint_eq(w.cap, 0); /* larger than KEEP and idle: freed */
    send_window_free(&w);
}
END_TEST

START_TEST(a_full_drain_holds_one_window_at_most)
{
    struct send_window w;
    send_window_init(&w, MAX, KEEP, false);
    struct sink s = {.budget = 300};
    ssize_t taken = send_window_pump(&w, 2500, false, fill, NULL, drain, &s);
    /* the first window was filled and 300 of it left: taken counts the whole window */
    ck_assert_int_eq(taken, MAX);
    ck_assert_uint_eq(send_window_held(&w), MAX - 300);
    ck_assert_uint_le(w.cap, MAX);
    /* still full: flush keeps everything held */
    ck_assert_int_eq(send_window_flush(&w, drain, &s, false), -1);
    ck_assert_int_eq(errno, EAGAIN);
    /* room again: the held bytes first, then the rest of the source */
    s.budget = SIZE_MAX;
    ck_assert_int_eq(send_window_flush(&w, drain, &s, false), 0);
    size_t base = MAX;
    ck_assert_int_eq(send_window_pump(&w, 2500 - MAX, false, fill, &base, drain, &s), 2500 - MAX);
    assert_sequence(&s, 2500); /* the first window, in order, then the rest */
    ck_assert_uint_eq(w.cap, 0);
    send_window_free(&w);
}
END_TEST

/* CTR's way: a header written with more waits for its body, and both leave in one write. */
START_TEST(an_appending_window_keeps_a_header_for_its_body)
{
    struct send_window w;
    send_window_init(&w, MAX, KEEP, true);
    struct sink s = {.budget = SIZE_MAX};
    ck_assert_int_eq(send_window_pump(&w, 13, true, fill, NULL, drain, &s), 13);
    ck_assert_uint_eq(send_window_held(&w), 13); /* held for what follows */
    ck_assert_int_eq(s.writes, 0);
    size_t base = 13;
    ck_assert_int_eq(send_window_pump(&w, 500, false, fill, &base, drain, &s), 500);
    ck_assert_int_eq(s.writes, 1);
    assert_sequence(&s, 513);
    /* a full window leaves before the next bytes, even with more */
    s.len = 0;
    s.writes = 0;
    ck_assert_int_eq(send_window_pump(&w, 2 * MAX + 13, true, fill, NULL, drain, &s), 2 * MAX + 13);
    ck_assert_int_eq(s.writes, 2);
    ck_assert_uint_eq(send_window_held(&w), 13);
    ck_assert_int_eq(send_window_flush(&w, drain, &s, false), 0);
    assert_sequence(&s, 2 * MAX + 13);
    send_window_free(&w);
}
END_TEST

/* GCM's way: a message being built (staged) keeps its window while nothing is held. */
START_TEST(a_staged_window_is_kept)
{
    struct send_window w;
    send_window_init(&w, MAX, KEEP, false);
    ck_assert_int_eq(send_window_reserve(&w, MAX), 0);
    w.staged = 10;
    struct sink s = {.budget = SIZE_MAX};
    ck_assert_int_eq(send_window_flush(&w, drain, &s, false), 0);
    ck_assert_uint_eq(w.cap, MAX);
    w.staged = 0;
    ck_assert_int_eq(send_window_flush(&w, drain, &s, false), 0);
    ck_assert_uint_eq(w.cap, 0);
    send_window_free(&w);
}
END_TEST

/* A connection answering block after block gives its window back between answers: the
 * thread keeps the last one for the next window (no fresh pages each time), and gives it
 * only to a window allowed that much. */
START_TEST(a_given_back_window_is_reused_on_the_thread)
{
    struct send_window w, v, small;
    send_window_init(&w, MAX, KEEP, false);
    ck_assert_int_eq(send_window_reserve(&w, MAX), 0);
    uint8_t *first = w.buf;
    struct sink s = {.budget = SIZE_MAX};
    ck_assert_int_eq(send_window_flush(&w, drain, &s, false), 0);
    ck_assert_uint_eq(w.cap, 0);  /* given back: not the connection's any more */
    uint8_t *other = malloc(MAX); /* would take the freed block if it had been freed */
    send_window_init(&small, MAX / 2, KEEP, false);
    ck_assert_int_eq(send_window_reserve(&small, 10), 0);
    ck_assert_ptr_ne(small.buf, first); /* more than its max: not for it */
    send_window_init(&v, MAX, KEEP, false);
    ck_assert_int_eq(send_window_reserve(&v, 10), 0);
    ck_assert_ptr_eq(v.buf, first);
    ck_assert_uint_eq(v.cap, MAX);
    free(other);
    send_window_free(&small);
    send_window_free(&v);
}
END_TEST

START_TEST(gather_skips_across_iovecs)
{
    uint8_t a[] = {1, 2, 3}, b[] = {4, 5}, c[] = {6, 7, 8, 9}, dst[16] = {0};
    struct iovec iov[] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
    ck_assert_uint_eq(send_window_gather(dst, iov, 3, 2, 4), 4);
    ck_assert_mem_eq(dst, ((uint8_t[]){3, 4, 5, 6}), 4);
    ck_assert_uint_eq(send_window_gather(dst, iov, 3, 7, 10), 2); /* the iovecs end first */
    ck_assert_mem_eq(dst, ((uint8_t[]){8, 9}), 2);
}
END_TEST

CHECK_MAIN((.suite = "send_window", .name = "window"),
           everything_leaves_in_order_and_the_window_goes_back,
           a_full_drain_holds_one_window_at_most, an_appending_window_keeps_a_header_for_its_body,
           a_staged_window_is_kept, a_given_back_window_is_reused_on_the_thread,
           gather_skips_across_iovecs)
