/* Integration tests of the daemon's lifecycle and limits, each with its own daemon: idle
 * timeout, SIGTERM during a transfer, max_chunks_in_flight, IPv4+IPv6, max_connections. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tclient.h"
#include "texpect.h"

static struct tdaemon d; /* the test's daemon; stopped by the teardown if the test failed */

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
    ck_assert_int_eq(tdaemon_stop(&d), 0);
}
END_TEST

START_TEST(sigterm_with_transfer_in_flight)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"shutdown_grace_ms\": 30000"), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/term.bin", d.dir);
    int f = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert_int_eq(ftruncate(f, 32 << 20), 0);
    close(f);
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
    ck_assert_int_eq(tdaemon_wait(&d), 0);
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
    ck_assert_int_eq(tdaemon_stop(&d), 0);
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
    ck_assert_int_eq(tdaemon_stop(&d), 0);
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
    ck_assert_int_eq(tdaemon_stop(&d), 0);
}
END_TEST

/* A client that asks for much and reads nothing: the daemon stops reading its requests at
 * max_chunks_per_connection, and resumes when the client reads. */
START_TEST(per_connection_backpressure)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"max_chunks_per_connection\": 8"), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/bp.bin", d.dir);
    int f = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert_int_eq(ftruncate(f, 1 << 20), 0);
    close(f);
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
    ck_assert_int_eq(tdaemon_stop(&d), 0);
}
END_TEST

static void own_teardown(void)
{
    if (d.pid > 0)
        tdaemon_stop(&d);
}

int main(void)
{
    Suite *s = suite_create("server lifecycle");
    TCase *own = tcase_create("own daemon");
    tcase_set_timeout(own, 300);
    tcase_add_checked_fixture(own, NULL, own_teardown);
    tcase_add_test(own, idle_timeout);
    tcase_add_test(own, sigterm_with_transfer_in_flight);
    tcase_add_test(own, max_chunks_in_flight_waits);
    tcase_add_test(own, ipv4_and_ipv6);
    tcase_add_test(own, max_connections);
    tcase_add_test(own, per_connection_backpressure);
    suite_add_tcase(s, own);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
