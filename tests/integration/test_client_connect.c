/* SPDX-License-Identifier: Apache-2.0 */
/* How libshuffle connects: Spark's connection-factory fast fail (a fetch that
 * retries does not connect again to a peer whose connect failed less than
 * 0.95 x retry_wait_ms ago) and host names resolved without blocking the loop. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../harness/client.h"
#include "../harness/port.h"
#include "client_util.h"
#include "fake_ess.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "../check_main.h"

#define RETRY_WAIT_MS 2000 /* fast-fail window: 1900 ms */

static struct manifest man;

static const char *ids[] = {"shuffle_0_0_0", "shuffle_0_0_1", "shuffle_0_1_0"};
#define NIDS (sizeof(ids) / sizeof(ids[0]))

static shuffle_client *new_client_dns(int max_retries, const char *resolv_conf)
{
    struct shuffle_client_options o;
    harness_client_options(&o, max_retries, RETRY_WAIT_MS, 10000, false);
    o.resolv_conf = resolv_conf;
    return harness_client_with(&o);
}

static shuffle_client *new_client(int max_retries)
{
    return new_client_dns(max_retries, NULL);
}

static void start_fetch(shuffle_client *cl, const char *host, int port, struct collector *col)
{
    collector_fetch(col, cl, &man, host, port, "app-cap", "1", ids, NIDS, NULL);
}

static bool collector_done(struct collector *col)
{
    pthread_mutex_lock(&col->lock);
    bool done = col->done_calls > 0;
    pthread_mutex_unlock(&col->lock);
    return done;
}

static void assert_all_failed(struct collector *col, const char *needle)
{
    collector_wait(col);
    ck_assert_int_eq(col->done_calls, 1);
    collector_assert_all_failed(col, SHUFFLE_EIO, needle);
    ck_assert_uint_eq(col->done_failed, col->n);
}

/* Bound once but never listening: connects are refused. */
static int closed_port(void)
{
    int port = harness_free_port();
    ck_assert_int_gt(port, 0);
    return port;
}
/* A non-blocking listener on 127.0.0.1:port. */
static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    ck_assert(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    ck_assert(listen(fd, 16) == 0);
    ck_assert(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    return fd;
}

/* A failed connect to the peer (through a raw RPC, which never fast-fails). */
static void fail_a_connect(shuffle_client *cl, int port)
{
    const uint8_t hb[] = {5, 0, 0, 0, 1, 'a'};
    uint8_t *reply;
    size_t rlen;
    ck_assert_int_eq(shuffle_rpc_sync(cl, "127.0.0.1", port, hb, sizeof(hb), &reply, &rlen),
                     SHUFFLE_EIO);
    ck_assert_msg(strstr(shuffle_last_error(cl), "Failed to connect to 127.0.0.1:"), "%s",
                  shuffle_last_error(cl));
}

START_TEST(test_fast_fail_skips_connect_in_window)
{
    int port = closed_port();
    shuffle_client *cl = new_client(1);
    fail_a_connect(cl, port);
    /* The peer is listening now, but the fetch's first attempt is inside the
     * window: it must fail without connecting. Its retry comes retry_wait_ms later,
     * after the window, and connects; the test closes it at once. */
    int lfd = listen_on(port);
    struct collector col;
    start_fetch(cl, "127.0.0.1", port, &col);
    int accepted = 0;
    while (!collector_done(&col)) {
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        if (poll(&pfd, 1, 20) == 1) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0) {
                accepted++;
                close(fd);
            }
        }
    }
    assert_all_failed(&col, "gave up after 1 retries");
    ck_assert_msg(!strstr(col.error[0], "fail this connection directly"), "%s", col.error[0]);
    ck_assert_int_eq(accepted, 1); /* without fast fail: 2 */
    ck_assert(accept(lfd, NULL, NULL) < 0);
    shuffle_client_free(cl);
    collector_free(&col);
    close(lfd);
}
END_TEST

START_TEST(test_fast_fail_text_and_window_end)
{
    int port = closed_port();
    shuffle_client *cl = new_client(1);
    fail_a_connect(cl, port); /* t0 */
    /* W = RETRY_WAIT_MS. B fast-fails at once (t0) and retries at t0+W, after the
     * window: connects, is refused, and that failure starts a new window. D starts
     * at t0+W/2 (fast fail) and retries at t0+1.5W, inside B's new window: fast
     * fail again, with no retries left. (D's start may be off by up to 0.45 W.) */
    struct collector b, d;
    start_fetch(cl, "127.0.0.1", port, &b);
    usleep(RETRY_WAIT_MS / 2 * 1000);
    start_fetch(cl, "127.0.0.1", port, &d);
    assert_all_failed(&b, "Failed to connect to 127.0.0.1:");
    ck_assert(strstr(b.error[0], "gave up after 1 retries"));
    char want[200];
    snprintf(want, sizeof(want),
             "Connecting to 127.0.0.1:%d failed in the last %d ms, fail this connection "
             "directly (gave up after 1 retries)",
             port, RETRY_WAIT_MS * 95 / 100);
    assert_all_failed(&d, want);
    shuffle_client_free(cl);
    collector_free(&b);
    collector_free(&d);
}
END_TEST

START_TEST(test_no_fast_fail_without_retries)
{
    int port = closed_port();
    shuffle_client *cl = new_client(0);
    fail_a_connect(cl, port);
    struct collector col;
    start_fetch(cl, "127.0.0.1", port, &col);
    assert_all_failed(&col, "Failed to connect to 127.0.0.1:");
    shuffle_client_free(cl);
    collector_free(&col);
}
END_TEST

/* ---- host names ---- */

/* A resolver configuration whose only nameserver is 127.0.0.1 on a UDP port
 * nobody reads (udp_fd, bound; or closed if udp_fd is NULL): no query can leave
 * the machine, and none is ever answered. */
static void write_resolv_conf(char *path, size_t len, int *udp_fd, const char *timeout)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    if (udp_fd)
        *udp_fd = fd;
    else
        close(fd);
    const char *tmp = getenv("TMPDIR");
    snprintf(path, len, "%s/resolv-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int out = mkstemp(path);
    ck_assert(out >= 0);
    FILE *f = fdopen(out, "w");
    fprintf(f, "nameserver 127.0.0.1:%d\nsearch invalid\noptions timeout:%s attempts:1\n",
            ntohs(a.sin_port), timeout);
    fclose(f);
}

START_TEST(test_localhost_name)
{
    char conf[256];
    write_resolv_conf(conf, sizeof(conf), NULL, "0.2");
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client_dns(0, conf);
    struct collector col;
    start_fetch(cl, "localhost", fake_ess_port(fs), &col);
    collector_wait(&col);
    for (size_t i = 0; i < NIDS; i++) {
        ck_assert_int_eq(col.count[i], 1);
        ck_assert_msg(col.status[i] == SHUFFLE_OK, "%s: %s", ids[i], col.error[i]);
        ck_assert(col.verified[i]);
    }
    ck_assert_int_eq(fake_ess_connections(fs), 1);
    shuffle_client_free(cl);
    collector_free(&col);
    fake_ess_stop(fs);
    unlink(conf);
}
END_TEST

START_TEST(test_unresolvable_name)
{
    char conf[256];
    write_resolv_conf(conf, sizeof(conf), NULL, "0.2");
    shuffle_client *cl = new_client_dns(0, conf);
    struct collector col;
    start_fetch(cl, "nonexistent.invalid", 7337, &col);
    /* the resolver gives up after its own timeout, long before the connect timeout */
    assert_all_failed(&col, "Failed to connect to nonexistent.invalid:7337: cannot resolve "
                            "nonexistent.invalid: ");
    shuffle_client_free(cl);
    collector_free(&col);
    unlink(conf);
}
END_TEST

START_TEST(test_free_while_resolving)
{
    char conf[256];
    int udp;
    write_resolv_conf(conf, sizeof(conf), &udp, "30");
    shuffle_client *cl = new_client_dns(3, conf);
    struct collector col;
    start_fetch(cl, "nonexistent.invalid", 7337, &col);
    /* the query has gone out (the nameserver socket received it) */
    struct pollfd pfd = {.fd = udp, .events = POLLIN};
    ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
    /* the loop is not blocked by the lookup: another fetch completes meanwhile */
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    struct collector other;
    start_fetch(cl, "127.0.0.1", fake_ess_port(fs), &other);
    collector_wait(&other);
    for (size_t i = 0; i < NIDS; i++)
        ck_assert_msg(other.status[i] == SHUFFLE_OK && other.verified[i], "%s", other.error[i]);
    ck_assert(!collector_done(&col));
    shuffle_client_free(cl);
    collector_free(&other);
    fake_ess_stop(fs);
    for (size_t i = 0; i < NIDS; i++) {
        ck_assert_int_eq(col.count[i], 1);
        ck_assert_int_eq(col.status[i], SHUFFLE_ECANCELED);
    }
    ck_assert_int_eq(col.done_calls, 1);
    collector_free(&col);
    close(udp);
    unlink(conf);
}
END_TEST

/* Answers one query arriving on udp within wait_ms as a nameserver would: A with
 * 127.0.0.1, anything else (AAAA) with no records. 0, or -1 when none came. */
static int answer_dns_query(int udp, int wait_ms)
{
    struct pollfd pfd = {.fd = udp, .events = POLLIN};
    uint8_t q[512], a[560];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    if (poll(&pfd, 1, wait_ms) != 1)
        return -1;
    ssize_t n = recvfrom(udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    size_t at = 12; /* header, then the question: labels, type, class */
    while (n > 12 && at < (size_t)n && q[at])
        at += 1 + q[at];
    ck_assert(n > 12 && at + 5 <= (size_t)n);
    size_t qend = at + 5;
    bool type_a = q[at + 1] == 0 && q[at + 2] == 1;
    static const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
    memcpy(a, q, qend);
    a[2] = 0x81;                      /* response, recursion desired */
    a[3] = 0x80;                      /* recursion available, no error */
    a[6] = 0, a[7] = type_a;          /* answers */
    memset(a + 8, 0, 4);              /* no authority, no additional records */
    memcpy(a + qend, rr, sizeof(rr)); /* used only when type_a */
    size_t len = qend + (type_a ? sizeof(rr) : 0);
    ck_assert(sendto(udp, a, len, 0, (struct sockaddr *)&from, fl) == (ssize_t)len);
    return 0;
}

START_TEST(test_requests_wait_for_the_name)
{
    char conf[256];
    int udp;
    write_resolv_conf(conf, sizeof(conf), &udp, "5");
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client_dns(0, conf);
    struct collector col;
    /* the fetch's request is queued while the name is being looked up: it must go out
     * once the nameserver has answered, not be lost (then only the request timeout ends it) */
    start_fetch(cl, "peer.example", fake_ess_port(fs), &col);
    struct timespec pause = {0, 200 * 1000000};
    nanosleep(&pause, NULL);
    ck_assert_int_eq(answer_dns_query(udp, 10000), 0);
    while (!collector_done(&col))
        answer_dns_query(udp, 100); /* the AAAA query too, if the resolver sends one */
    collector_wait(&col);
    for (size_t i = 0; i < NIDS; i++)
        ck_assert_msg(col.status[i] == SHUFFLE_OK && col.verified[i], "%s: %s", ids[i],
                      col.error[i]);
    shuffle_client_free(cl);
    collector_free(&col);
    fake_ess_stop(fs);
    close(udp);
    unlink(conf);
}
END_TEST

START_TEST(test_missing_resolv_conf)
{
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.resolv_conf = "/nonexistent/resolv.conf";
    shuffle_client *c = (shuffle_client *)&o; /* overwritten with NULL on failure */
    ck_assert_int_eq(shuffle_client_new(&o, &c), SHUFFLE_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(shuffle_last_error(NULL), "/nonexistent/resolv.conf"), "%s",
                  shuffle_last_error(NULL));
}
END_TEST

/* RPC answers counted from the loop thread. */
struct answers {
    pthread_mutex_t lock;
    int n;
};

static void on_answer(void *arg, int status, const char *error, const uint8_t *body, size_t len)
{
    struct answers *a = arg;
    (void)status, (void)error, (void)body, (void)len;
    pthread_mutex_lock(&a->lock);
    a->n++;
    pthread_mutex_unlock(&a->lock);
}

static int answered(struct answers *a)
{
    pthread_mutex_lock(&a->lock);
    int n = a->n;
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* With two connections to a peer, one of them stuck (its server never answers), new requests
 * go to the one with fewer unanswered requests: none waits behind the stuck one (picked at
 * random, about half of them would, each until the request timeout). */
START_TEST(test_requests_avoid_a_stuck_connection)
{
    struct fake_ess_opts fo = {.manifest = &man, .silent_first = 1};
    struct fake_ess *fs = fake_ess_start(&fo);
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.connections_per_peer = 2;
    o.request_timeout_ms = 20000;
    o.max_retries = 0;
    shuffle_client *cl;
    ck_assert_int_eq(shuffle_client_new(&o, &cl), SHUFFLE_OK);
    struct answers a = {.lock = PTHREAD_MUTEX_INITIALIZER};
    static const char body[] = "x"; /* not a message: answered with an RpcFailure */
    /* requests until both connections are up, the first one holding unanswered requests */
    int sent = 0;
    while ((fake_ess_connections(fs) < 2 || answered(&a) == sent) && sent < 200) {
        ck_assert_int_eq(shuffle_rpc(cl, "127.0.0.1", fake_ess_port(fs), body, 1, on_answer, &a),
                         SHUFFLE_OK);
        sent++;
        for (int waited = 0; answered(&a) < sent && waited < 50; waited++)
            usleep(1000);
    }
    ck_assert_int_eq(fake_ess_connections(fs), 2);
    ck_assert_int_lt(answered(&a), sent);
    int stuck = sent - answered(&a);
    /* one at a time, each answered within 5 s */
    for (int k = 0; k < 20; k++) {
        ck_assert_int_eq(shuffle_rpc(cl, "127.0.0.1", fake_ess_port(fs), body, 1, on_answer, &a),
                         SHUFFLE_OK);
        sent++;
        for (int waited = 0; answered(&a) < sent - stuck && waited < 5000; waited++)
            usleep(1000);
        ck_assert_msg(answered(&a) == sent - stuck, "request %d waits behind the stuck connection",
                      k);
    }
    ck_assert_int_eq(fake_ess_connections(fs), 2);
    shuffle_client_free(cl);
    fake_ess_stop(fs);
}
END_TEST

int main(void)
{
    check_require_shared_vectors();
    load_vectors_manifest(&man);
    int status = check_main(
        &(struct check_case){.suite = "client_connect", .name = "connect", .timeout_s = 60},
        CHECK_TESTS(test_fast_fail_skips_connect_in_window, test_fast_fail_text_and_window_end,
                    test_no_fast_fail_without_retries, test_localhost_name, test_unresolvable_name,
                    test_free_while_resolving, test_requests_wait_for_the_name,
                    test_missing_resolv_conf, test_requests_avoid_a_stuck_connection));
    manifest_free(&man);
    return status;
}
