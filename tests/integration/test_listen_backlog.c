/* SPDX-License-Identifier: Apache-2.0 */
/* The listen backlog the kernel holds for the daemon's sockets is the one configured:
 * "listen_backlog" for sockets the daemon binds, systemd's Backlog= for a passed socket (the
 * daemon must not listen() again on it). Read back through sock_diag, as `ss -lt` shows it. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tclient.h"
#include "../check_main.h"

static struct harness_daemon d;

/* As systemd passes a socket: fd 3, LISTEN_FDS=1, LISTEN_PID = the daemon's pid (in the
 * child, before exec). */
static void pass_socket(void *arg)
{
    int listen_fd = *(const int *)arg;
    if (listen_fd != 3 && dup2(listen_fd, 3) != 3)
        _exit(127);
    fcntl(3, F_SETFD, 0);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
}

/* The daemon under socket activation: it gets listen_fd (kept open by the caller too) as
 * systemd passes shuffled.socket's. */
static int tdaemon_start_activated(struct harness_daemon *dd, const char *extra_json,
                                   int *listen_fd)
{
    struct harness_daemon_opts o = {.exe = "tests/integration/shuffled-test",
                                    .extra_json = extra_json,
                                    .child_setup = pass_socket,
                                    .child_arg = listen_fd};
    return harness_daemon_start(dd, &o);
}

/* The accept-queue limit of the IPv4 TCP listener on 127.0.0.1:port, or -1. */
static int kernel_backlog(int port)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -1;
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 req;
    } q = {0};
    q.nh.nlmsg_len = sizeof q;
    q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    q.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    q.req.sdiag_family = AF_INET;
    q.req.sdiag_protocol = IPPROTO_TCP;
    q.req.idiag_states = 1u << 10; /* TCP_LISTEN */
    int backlog = -1;
    if (send(nl, &q, sizeof q, 0) != (ssize_t)sizeof q) {
        close(nl);
        return -1;
    }
    static char buf[65536];
    for (int done = 0; !done;) {
        ssize_t n = recv(nl, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = 1;
                break;
            }
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            /* for a listener, idiag_wqueue is the backlog limit (ss's Send-Q) */
            if (ntohs(m->id.idiag_sport) == port)
                backlog = (int)m->idiag_wqueue;
        }
    }
    close(nl);
    return backlog;
}

START_TEST(configured_backlog_reaches_the_kernel)
{
    ck_assert_int_eq(tdaemon_start(&d, "\"listen_backlog\": 77"), 0);
    ck_assert_int_eq(kernel_backlog(d.port), 77);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
    /* the default is the socket unit's Backlog=4096 (capped by net.core.somaxconn) */
    ck_assert_int_eq(tdaemon_start(&d, ""), 0);
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
    int somaxconn = 4096;
    if (f) {
        ck_assert_int_eq(fscanf(f, "%d", &somaxconn), 1);
        fclose(f);
    }
    ck_assert_int_eq(kernel_backlog(d.port), somaxconn < 4096 ? somaxconn : 4096);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

START_TEST(passed_socket_keeps_its_backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(listen(fd, 33), 0);
    socklen_t sl = sizeof sin;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    int port = ntohs(sin.sin_port);
    ck_assert_int_eq(kernel_backlog(port), 33);
    /* a different listen_backlog in the config does not apply to systemd's socket */
    ck_assert_int_eq(tdaemon_start_activated(&d, "\"listen_backlog\": 77", &fd), 0);
    ck_assert_int_eq(d.port, port);
    ck_assert_int_eq(kernel_backlog(port), 33);
    int c = tc_connect(port); /* and it serves on it */
    ck_assert_int_ge(c, 0);
    uint8_t *out;
    size_t n;
    ck_assert_int_eq(tc_rpc(c, "Ehi", 3, &out, &n), 0);
    free(out);
    close(c);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
    close(fd);
}
END_TEST

static void teardown(void)
{
    if (d.pid > 0)
        harness_daemon_stop(&d);
}

int main(void)
{
    Suite *s = suite_create("listen backlog");
    TCase *tc = tcase_create("backlog");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, configured_backlog_reaches_the_kernel);
    tcase_add_test(tc, passed_socket_keeps_its_backlog);
    suite_add_tcase(s, tc);
    return check_run_suite(s);
}
