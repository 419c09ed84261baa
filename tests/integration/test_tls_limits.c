/* SPDX-License-Identifier: Apache-2.0 */
/* TLS handshake admission in the real daemon (docs/tls.md): raw TCP connections that begin a
 * ClientHello and never finish it take the places of tls_max_handshakes_in_progress; once they
 * are all taken, each newcomer (a stalled one, or a real client, which is then served) closes
 * the oldest unfinished handshake, counted and logged; a place also comes back when its
 * connection closes or times out (handshake_timeout_ms); completed handshakes hold no place.
 * tls_max_handshakes_per_second closes the connections beyond its rate, before any TLS work,
 * until the bucket refills, and a real client is then served. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/prom_scrape.h"
#include "../check_main.h"
#include "../harness/port.h"
#include "../harness/wait.h"
#include "proto/message.h"
#include "tclient.h"
#include "tls_fixture.h"

static struct harness_daemon d;
static int admin_port;

static void start(const char *limits)
{
    admin_port = harness_free_port();
    ck_assert_int_gt(admin_port, 0);
    char extra[512];
    snprintf(extra, sizeof extra, "\"admin_port\": %d, %s", admin_port, limits);
    ck_assert_int_eq(tls_daemon_start(&d, "server", extra), 0);
    /* the admin endpoint may come up just after the service port */
    bool up = false;
    for (int i = 0; i < 200 && !up; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)admin_port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        up = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (fd >= 0)
            close(fd);
        if (!up)
            usleep(50000);
    }
    ck_assert_msg(up, "admin port %d never accepted", admin_port);
}

static double metric(const char *key)
{
    return prom_scrape(admin_port, key);
}

static void await_metric(const char *key, double want)
{
    prom_await(admin_port, key, want);
}

/* A TCP connection that begins a ClientHello (a record header announcing 512 bytes, and 4 of
 * them) and stops there. */
static int stalled_hello(void)
{
    static const uint8_t start[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
    int fd = tc_connect(d.port);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(tc_send_all(fd, start, sizeof start), 0);
    return fd;
}

/* A real TLS client verifying the server, served: one RPC answered through it. */
static SSL *legit_client(void)
{
    char why[512];
    SSL *ssl = tls_client_connect(d.port, tls_cert_path("ca.pem"), NULL, why, sizeof why);
    if (!ssl) {
        char *log = harness_daemon_log(&d);
        fprintf(stderr, "daemon log:\n%s\n", log ? log : "");
        free(log);
        ck_abort_msg("TLS client refused: %s", why);
    }
    ck_assert_int_eq(tls_client_probe(ssl), PROTO_RPC_FAILURE);
    return ssl;
}

#define IN_PROGRESS "shuffled_tls_handshakes_in_progress"
#define REFUSED "shuffled_tls_handshakes_refused_total"
#define EVICTED "shuffled_tls_handshakes_evicted_total"

START_TEST(test_in_progress_bound)
{
    /* one loop, so that every unfinished handshake is the newcomer's to close */
    start("\"io_threads\": 1, \"tls_max_handshakes_in_progress\": 3, "
          "\"handshake_timeout_ms\": 1500");
    int stalled[4];
    for (int i = 0; i < 3; i++)
        stalled[i] = stalled_hello();
    await_metric(IN_PROGRESS, 3);

    /* a fourth: the oldest unfinished handshake is closed for it, counted, logged */
    stalled[3] = stalled_hello();
    ck_assert(tc_wait_closed(stalled[0]));
    await_metric(EVICTED, 1);
    ck_assert_double_eq(metric(IN_PROGRESS), 3);
    /* a real client too: the next oldest goes, the client is served */
    SSL *ok = legit_client();
    ck_assert(tc_wait_closed(stalled[1]));
    ck_assert_double_eq(metric(EVICTED), 2);
    ck_assert_double_eq(metric(IN_PROGRESS), 2); /* its handshake done: no place held */
    ck_assert_double_eq(metric(REFUSED), 0);
    char *log = harness_daemon_log(&d);
    ck_assert_msg(log && strstr(log, "closed by the handshake limits, the last as the oldest "
                                     "unfinished handshake, for a new one"),
                  "%s", log);
    free(log);

    /* a stalled client that leaves gives its place back */
    close(stalled[2]);
    await_metric(IN_PROGRESS, 1);
    /* the last one times out (handshake_timeout_ms) */
    ck_assert(tc_wait_closed(stalled[3]));
    await_metric(IN_PROGRESS, 0);
    ck_assert_double_eq(metric("shuffled_handshakes_timed_out_total"), 1);
    /* completed handshakes hold no place: four clients open at once beside the first */
    SSL *more[4];
    for (int i = 0; i < 4; i++)
        more[i] = legit_client();
    ck_assert_int_eq(tls_client_probe(ok), PROTO_RPC_FAILURE); /* still served */
    ck_assert_double_eq(metric(EVICTED), 2);
    for (int i = 0; i < 4; i++)
        tls_client_close(more[i]);
    tls_client_close(ok);
    for (int i = 0; i < 4; i++)
        if (i != 2)
            close(stalled[i]);
    ck_assert_double_eq(metric(REFUSED), 0);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

START_TEST(test_per_second_cap)
{
    start("\"io_threads\": 2, \"tls_max_handshakes_in_progress\": 0, "
          "\"tls_max_handshakes_per_second\": 1");
    int first = stalled_hello(); /* takes the second's one token */
    await_metric(IN_PROGRESS, 1);
    int second = tc_connect(d.port);
    ck_assert_int_ge(second, 0);
    ck_assert(tc_wait_closed(second));
    close(second);
    ck_assert_double_eq(metric(REFUSED), 1);
    char *log = harness_daemon_log(&d);
    ck_assert_msg(log && strstr(log, "tls_max_handshakes_per_second was reached"), "%s", log);
    free(log);
    usleep(1100000); /* the bucket refills */
    SSL *ok = legit_client();
    tls_client_close(ok);
    close(first);
    await_metric(IN_PROGRESS, 0);
    ck_assert_double_eq(metric(REFUSED), 1);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a refused client may write to a closed socket */
    if (tls_certs_make() != 0) {
        fprintf(stderr, "cannot make the test certificates (openssl CLI)\n");
        return 1;
    }
    return check_main(
        &(struct check_case){.suite = "tls_limits", .name = "daemon", .timeout_s = 60},
        CHECK_TESTS(test_in_progress_bound, test_per_second_cap));
}
