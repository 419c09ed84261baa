/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's connection setup (src/client/dial.c) against a loopback listener: the
 * connected bufferevent writes more than libevent's default 16 KiB per writable event, so a
 * pushed block of 64 KiB leaves in one loop turn (one writev) rather than four. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/dial.h"
#include "client/resolve.h"
#include "../check_main.h"

enum { BLOCK = 64 * 1024, LIBEVENT_DEFAULT_WRITE = 16 * 1024 };

struct dialed {
    struct bufferevent *bev;
    bool called;
    char error[200];
};

static void on_dialed(void *arg, struct bufferevent *bev, const char *error)
{
    struct dialed *d = arg;
    d->called = true;
    d->bev = bev;
    if (error)
        snprintf(d->error, sizeof(d->error), "%s", error);
}

/* A listening socket on 127.0.0.1, its port in *port. */
static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

START_TEST(test_one_turn_writes_a_whole_block)
{
    struct event_base *base = event_base_new();
    char err[200];
    struct resolver *res = resolver_new(base, NULL, err, sizeof(err));
    ck_assert_msg(res != NULL, "%s", err);
    int port, lfd = listen_loopback(&port);
    struct dialed d = {0};
    dial_start(base, res, "127.0.0.1", port, on_dialed, &d);
    for (int turns = 0; !d.called && turns < 1000; turns++)
        event_base_loop(base, EVLOOP_ONCE);
    ck_assert_msg(d.bev != NULL, "dial: %s", d.error);
    int peer = accept(lfd, NULL, NULL);
    ck_assert_int_ge(peer, 0);

    /* the block queued, then the loop's first writable event: with libevent's default
     * only 16 KiB of it would leave, the rest waiting for three more turns */
    static uint8_t block[BLOCK];
    memset(block, 'b', sizeof(block));
    struct evbuffer *out = bufferevent_get_output(d.bev);
    bufferevent_enable(d.bev, EV_WRITE);
    ck_assert_int_eq(bufferevent_write(d.bev, block, sizeof(block)), 0);
    for (int turns = 0; evbuffer_get_length(out) == BLOCK && turns < 1000; turns++)
        event_base_loop(base, EVLOOP_ONCE);
    size_t written = BLOCK - evbuffer_get_length(out);
    ck_assert_msg(written > LIBEVENT_DEFAULT_WRITE,
                  "the first writable turn wrote %zu bytes of a %d-byte block", written, BLOCK);
    ck_assert_uint_ge(bufferevent_get_max_single_write(d.bev), BLOCK);

    bufferevent_free(d.bev);
    close(peer);
    close(lfd);
    resolver_free(res);
    event_base_free(base);
}
END_TEST

CHECK_MAIN((.suite = "dial", .name = "writes"), test_one_turn_writes_a_whole_block)
