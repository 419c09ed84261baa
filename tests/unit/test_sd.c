/* SPDX-License-Identifier: Apache-2.0 */
/* systemd glue: each notification arrives on a test NOTIFY_SOCKET; watchdog interval
 * from WATCHDOG_USEC/WATCHDOG_PID; listen fds from LISTEN_FDS/LISTEN_PID; journald
 * detection from JOURNAL_STREAM. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/ops/sd.h"
#include "../check_main.h"
#include "../harness/fs.h"

static char tmpdir[64];
static int notify_fd = -1;

static void setup_notify(void)
{
    const char *dir = harness_test_dir(); /* removed after the test */
    ck_assert_msg(strlen(dir) < sizeof(tmpdir), "TMPDIR too long for a socket path");
    snprintf(tmpdir, sizeof(tmpdir), "%s", dir);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(notify_fd, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", tmpdir);
    ck_assert_int_eq(bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setenv("NOTIFY_SOCKET", sa.sun_path, 1);
}

static void teardown_notify(void)
{
    close(notify_fd);
    unsetenv("NOTIFY_SOCKET");
}

/* The next datagram; sd_notify has already queued it when it returned. */
static const char *next_message(void)
{
    static char buf[1024];
    ssize_t n = recv(notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    ck_assert_msg(n >= 0, "no notification queued: %s", strerror(errno));
    buf[n] = '\0';
    return buf;
}

static void assert_queue_empty(void)
{
    char c;
    ck_assert_int_lt(recv(notify_fd, &c, 1, MSG_DONTWAIT), 0);
}

START_TEST(each_notification_arrives)
{
    ck_assert_int_eq(systemd_notify_ready(), 0);
    ck_assert_str_eq(next_message(), "READY=1");
    ck_assert_int_eq(systemd_notify_watchdog(), 0);
    ck_assert_str_eq(next_message(), "WATCHDOG=1");
    ck_assert_int_eq(systemd_notify_status("%d connections, %d executors\nsecond", 12, 3), 0);
    ck_assert_str_eq(next_message(), "STATUS=12 connections, 3 executors second");
    ck_assert_int_eq(systemd_notify_reloading(), 0);
    const char *m = next_message();
    ck_assert_msg(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0, "got %s", m);
    ck_assert_int_gt(strtoull(m + 27, NULL, 10), 0);
    ck_assert_int_eq(systemd_notify_stopping(), 0);
    ck_assert_str_eq(next_message(), "STOPPING=1");
    assert_queue_empty();
}
END_TEST

START_TEST(without_systemd_notifications_are_noops)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(systemd_notify_ready(), 0);
    ck_assert_int_eq(systemd_notify_status("x"), 0);
    ck_assert_int_eq(systemd_notify_watchdog(), 0);
    assert_queue_empty();
}
END_TEST

START_TEST(unreachable_notify_socket_is_an_error)
{
    setenv("NOTIFY_SOCKET", "/nonexistent/shuffled-notify", 1);
    ck_assert_int_lt(systemd_notify_ready(), 0);
}
END_TEST

START_TEST(watchdog_interval)
{
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("WATCHDOG_USEC", "30000000", 1);
    setenv("WATCHDOG_PID", pid, 1);
    ck_assert_uint_eq(systemd_watchdog_usec(), 30000000);
    setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
    ck_assert_uint_eq(systemd_watchdog_usec(), 0);
    unsetenv("WATCHDOG_PID");
    ck_assert_uint_eq(systemd_watchdog_usec(), 30000000); /* no PID: for us */
    unsetenv("WATCHDOG_USEC");
    ck_assert_uint_eq(systemd_watchdog_usec(), 0);
}
END_TEST

static int listening_socket(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return -1;
    if (type == SOCK_STREAM && listen(fd, 4) != 0)
        return -1;
    return fd;
}

/* Runs in a forked child because it moves sockets onto fds 3 and 4 as systemd does.
 * Returns the child's exit code: 0 = all as expected. */
static int child_listen_fds(int second_type)
{
    int a = listening_socket(SOCK_STREAM), b = listening_socket(second_type);
    if (a < 0 || b < 0)
        return 10;
    int hi_a = fcntl(a, F_DUPFD, 100), hi_b = fcntl(b, F_DUPFD, 100);
    if (dup2(hi_a, 3) != 3 || dup2(hi_b, 4) != 4)
        return 11;
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "2", 1);
    int *fds = NULL;
    char err[256] = "";
    int n = systemd_listen_fds(&fds, err, sizeof(err));
    if (second_type != SOCK_STREAM) /* a datagram socket must be refused, with a reason */
        return n < 0 && fds == NULL && strstr(err, "fd 4") ? 0 : 12;
    if (n != 2 || fds[0] != 3 || fds[1] != 4)
        return 13;
    if (getenv("LISTEN_FDS") || getenv("LISTEN_PID"))
        return 14; /* must not leak to children */
    if (!(fcntl(3, F_GETFD) & FD_CLOEXEC))
        return 15;
    free(fds);
    /* a second call finds nothing: the variables were consumed */
    if (systemd_listen_fds(&fds, err, sizeof(err)) != 0 || fds != NULL)
        return 16;
    return 0;
}

static void run_child(int second_type)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(child_listen_fds(second_type));
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}

START_TEST(listen_fds_passed)
{
    run_child(SOCK_STREAM);
}
END_TEST

START_TEST(listen_fds_non_listening_refused)
{
    run_child(SOCK_DGRAM);
}
END_TEST

START_TEST(listen_fds_none)
{
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_PID");
    int *fds = (int *)1;
    char err[64];
    ck_assert_int_eq(systemd_listen_fds(&fds, err, sizeof(err)), 0);
    ck_assert_ptr_null(fds);
}
END_TEST

START_TEST(journal_stream_detection)
{
    struct stat st;
    ck_assert_int_eq(fstat(2, &st), 0);
    char v[64];
    snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", v, 1);
    ck_assert(systemd_journal_stderr());
    snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + 1);
    setenv("JOURNAL_STREAM", v, 1); /* stderr was redirected elsewhere since */
    ck_assert(!systemd_journal_stderr());
    setenv("JOURNAL_STREAM", "garbage", 1);
    ck_assert(!systemd_journal_stderr());
    unsetenv("JOURNAL_STREAM");
    ck_assert(!systemd_journal_stderr());
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sd");
    check_add_case(
        s,
        &(struct check_case){
            .suite = "sd", .name = "notify", .setup = setup_notify, .teardown = teardown_notify},
        CHECK_TESTS(each_notification_arrives, without_systemd_notifications_are_noops,
                    unreachable_notify_socket_is_an_error));
    check_add_case(s, &(struct check_case){.suite = "sd", .name = "environment"},
                   CHECK_TESTS(watchdog_interval, listen_fds_passed,
                               listen_fds_non_listening_refused, listen_fds_none,
                               journal_stream_detection));
    return check_run_suite(s);
}
