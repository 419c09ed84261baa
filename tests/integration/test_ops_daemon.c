/* SPDX-License-Identifier: Apache-2.0 */
/* The real daemon under a simulated systemd: notifications on a test NOTIFY_SOCKET
 * (STATUS=, READY=1 only once listening, WATCHDOG=1 from the loops, RELOADING=1/READY=1
 * around SIGHUP, STOPPING=1), /metrics counting work done over TCP, /healthz, config
 * checks (-t/-T), reload keeping the old config on error, socket activation through
 * systemd-socket-activate, and (with a test service) a stuck I/O loop stopping the
 * watchdog pings and turning /healthz unhealthy, and the service's admin actions. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "../unit/http_client.h"
#include "../unit/prom_scrape.h"
#include "server/ops/config.h"
#include "../check_main.h"
#include "../harness/daemon.h"
#include "../harness/fs.h"
#include "../harness/locate.h"
#include "../harness/port.h"
#include "../harness/wait.h"

static char tmp[256], notify_path[300];
static struct harness_daemon d; /* the config, port file and log in tmp */
static int notify_fd = -1;
static char seen[16384]; /* every notification so far, one per line */

static void setup(void)
{
    ck_assert_int_eq(harness_temp_dir_into(tmp, sizeof(tmp)), 0);
    snprintf(notify_path, sizeof(notify_path), "%s/notify", tmp);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ck_assert_msg(strlen(notify_path) < sizeof(sa.sun_path), "TMPDIR too long for a socket path");
    memcpy(sa.sun_path, notify_path, strlen(notify_path) + 1);
    ck_assert_int_eq(bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    seen[0] = '\0';
}

static void teardown(void)
{
    close(notify_fd);
    harness_rm_rf(tmp);
}

static const char *daemon_path(void)
{
    static char exe[600];
    harness_build_path(exe, sizeof(exe), "shuffled");
    return exe;
}

static int free_port(void)
{
    int port = harness_free_port();
    ck_assert_int_gt(port, 0);
    return port;
}
static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* The config (in d.config) with admin_port and extra members; the daemon logs at "info". */
static void write_config(int port, int admin_port, const char *extra)
{
    char members[1024];
    snprintf(members, sizeof(members), "\"admin_port\": %d%s%s", admin_port, extra ? ", " : "",
             extra ? extra : "");
    struct harness_daemon_opts o = {
        .dir = tmp, .port = port, .log_level = "info", .extra_json = members};
    ck_assert_int_eq(harness_daemon_prepare(&d, &o), 0);
}

struct child_env {
    bool watchdog, journal;
};

/* In the child, stderr already in the log: a simulated systemd environment; with journal,
 * JOURNAL_STREAM names the log as journald would name its stream. */
static void systemd_env(void *arg)
{
    const struct child_env *env = arg;
    setenv("NOTIFY_SOCKET", notify_path, 1);
    struct stat st;
    if (env->journal && fstat(2, &st) == 0) {
        char js[64];
        snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", js, 1);
    } else {
        unsetenv("JOURNAL_STREAM");
    }
    if (env->watchdog) {
        char pidstr[32];
        snprintf(pidstr, sizeof(pidstr), "%d", (int)getpid());
        setenv("WATCHDOG_USEC", "200000", 1);
        setenv("WATCHDOG_PID", pidstr, 1);
    }
}

/* Starts argv with stdout and stderr to the log, under a simulated systemd. */
static pid_t spawn_env(char *const argv[], bool watchdog, bool journal)
{
    struct child_env env = {watchdog, journal};
    pid_t pid = harness_spawn(argv, d.log, systemd_env, &env);
    ck_assert_int_ge(pid, 0);
    return pid;
}

static pid_t spawn(char *const argv[], bool watchdog)
{
    return spawn_env(argv, watchdog, false);
}

/* The next notification starting with prefix (earlier ones are kept in `seen`). */
static void wait_notify(const char *prefix)
{
    for (;;) {
        struct pollfd p = {.fd = notify_fd, .events = POLLIN};
        ck_assert_msg(poll(&p, 1, 10000) == 1, "no %s within 10 s; saw:\n%s", prefix, seen);
        char buf[1024];
        ssize_t n = recv(notify_fd, buf, sizeof(buf) - 1, 0);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        if (strlen(seen) + (size_t)n + 2 < sizeof(seen)) {
            strcat(seen, buf);
            strcat(seen, "\n");
        }
        if (strncmp(buf, prefix, strlen(prefix)) == 0)
            return;
    }
}

static char *read_log(void)
{
    return harness_daemon_log(&d);
}

/* Bounded: 20 s. */
static int exit_status(pid_t pid)
{
    return harness_reap(pid, 20000);
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_rpc(int fd, const uint8_t *body, uint32_t len)
{
    uint8_t frame[64] = {0};
    uint64_t total = 8 + 1 + 8 + 4 + (uint64_t)len;
    ck_assert_uint_le(total, sizeof(frame));
    for (int i = 0; i < 8; i++)
        frame[i] = (uint8_t)(total >> (56 - 8 * i));
    frame[8] = 3;  /* RpcRequest */
    frame[16] = 7; /* request id 7 */
    frame[20] = (uint8_t)len;
    memcpy(frame + 21, body, len);
    ck_assert_int_eq(send(fd, frame, total, MSG_NOSIGNAL), (ssize_t)total);
}

/* Reads one whole frame and returns its type. */
static int read_frame_type(int fd)
{
    uint8_t head[9];
    size_t got = 0;
    while (got < sizeof(head)) {
        ssize_t r = recv(fd, head + got, sizeof(head) - got, 0);
        ck_assert_msg(r > 0, "no answer to the RpcRequest");
        got += (size_t)r;
    }
    uint64_t frame_len = 0;
    for (int i = 0; i < 8; i++)
        frame_len = frame_len << 8 | head[i];
    ck_assert_uint_lt(frame_len, 1 << 20);
    for (uint64_t left = frame_len - sizeof(head); left > 0;) { /* the rest of the frame */
        char sink[4096];
        ssize_t r = recv(fd, sink, left < sizeof(sink) ? left : sizeof(sink), 0);
        ck_assert_msg(r > 0, "truncated answer");
        left -= (uint64_t)r;
    }
    return head[8];
}

/* An RpcRequest whose body is a RegisterExecutor type byte and garbage; returns the type
 * of the answer frame (RpcFailure = 5 expected). */
static int rpc_register_garbage(int fd)
{
    static const uint8_t body[] = {2, 0xff, 0xff};
    send_rpc(fd, body, sizeof(body));
    return read_frame_type(fd);
}

static double metric(int admin_port, const char *key)
{
    return prom_scrape(admin_port, key);
}

static void expect_health(int admin_port, int status, const char *body)
{
    http_expect(admin_port, "GET", "/healthz", status, body);
}

static bool health_is(int admin_port, int status, const char *body)
{
    struct http_response r = http_request(admin_port, "GET", "/healthz");
    bool same = r.status == status && strcmp(r.body, body) == 0;
    free(r.body);
    return same;
}

struct health_wanted {
    int admin_port;
    int status;
    const char *body;
};

static bool health_as_wanted(void *arg)
{
    const struct health_wanted *w = arg;
    return health_is(w->admin_port, w->status, w->body);
}

/* The test's watchdog ticks every 100 ms (WATCHDOG_USEC 200000): on a loaded machine a tick can
 * come before a loop ran its heartbeat, so a state is awaited, not read once. */
static void wait_health(int admin_port, int status, const char *body)
{
    struct health_wanted w = {admin_port, status, body};
    ck_assert_msg(harness_wait_until(health_as_wanted, &w, 10000, 20), "/healthz never said %s",
                  body);
}

START_TEST(lifecycle_under_systemd)
{
    int admin = free_port();
    write_config(0, admin, NULL);
    char *argv[] = {(char *)daemon_path(), "-c", d.config, "--port-file", d.port_file, NULL};
    pid_t pid = spawn_env(argv, true, true);

    wait_notify("READY=1");
    /* READY=1 only once listening: the port file is written before it */
    int port = harness_daemon_read_port(&d);
    ck_assert_msg(port > 0, "READY=1 before the daemon was listening");
    ck_assert_ptr_nonnull(strstr(seen, "STATUS=0 connections"));
    wait_notify("WATCHDOG=1");
    wait_notify("WATCHDOG=1"); /* keeps coming while the loops run */
    wait_health(admin, 200, "serving\n");
    /* the block service's admin actions are linked in (not 501) */
    http_expect(admin, "POST", "/admin/remove-application?app_id=app-none", 404,
                "application app-none has no registered executors\n");
    http_expect(admin, "POST", "/admin/remove-executor?app_id=app-none&exec_id=1", 404, NULL);
    ck_assert_double_eq(metric(admin, "shuffled_registered_executors"), 0);

    /* work: one RPC answered, one connection killed by a bad frame */
    int fd = connect_port(port);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(rpc_register_garbage(fd), 5);
    ck_assert_double_eq(metric(admin, "shuffled_active_connections"), 1);
    ck_assert_double_eq(metric(admin, "shuffled_connections_accepted_total"), 1);
    ck_assert_double_eq(metric(admin, "shuffled_rpc_requests_total{type=\"RegisterExecutor\"}"), 1);
    ck_assert_double_eq(metric(admin, "shuffled_rpc_errors_total{type=\"RegisterExecutor\"}"), 1);
    ck_assert_double_eq(metric(admin, "shuffled_register_executor_request_latency_seconds_count"),
                        1);
    ck_assert_double_eq(metric(admin, "shuffled_caught_exceptions_total"), 0);
    static const uint8_t bad[] = {0, 0, 0, 0, 0, 0, 0, 3, 0}; /* length below the header */
    ck_assert_int_eq(send(fd, bad, sizeof(bad), MSG_NOSIGNAL), (ssize_t)sizeof(bad));
    char c;
    ck_assert_int_le(recv(fd, &c, 1, 0), 0); /* closed by the daemon */
    close(fd);
    ck_assert_double_eq(metric(admin, "shuffled_caught_exceptions_total"), 1);

    /* reload: live keys apply; restart-only ones are reported and keep their running values */
    int admin2 = free_port();
    write_config(0, admin2,
                 "\"log_level\": \"debug\", \"idle_timeout_ms\": 300, "
                 "\"index_cache_bytes\": 4096");
    kill(pid, SIGHUP);
    wait_notify("RELOADING=1");
    wait_notify("READY=1");
    char *log = read_log();
    ck_assert_msg(strstr(log, "applied live: log_level, idle_timeout_ms\n") &&
                      strstr(log, "need a restart and were not applied: index_cache_bytes, "
                                  "admin_port\n"),
                  "%s", log);
    /* stderr is the "journal": lines carry syslog priorities, not timestamps */
    ck_assert_msg(strstr(log, "<6>started: 2 io thread(s)") && strstr(log, "<6>reloaded ") &&
                      strstr(log, "<4>reload of ") && !strstr(log, "Z shuffled info:"),
                  "%s", log);
    free(log);
    wait_health(admin, 200, "serving\n"); /* admin_port not applied: still the old one */
    /* the new idle timeout closes a silent connection (the old one was 120 s) */
    fd = connect_port(port);
    ck_assert_int_ge(fd, 0);
    struct timeval rcv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
    ck_assert_int_eq(recv(fd, &c, 1, 0), 0);
    close(fd);

    /* a bad new config is rejected; the old one keeps serving */
    write_text(d.config, "{\n  \"port\": \"seven\"\n}\n");
    kill(pid, SIGHUP);
    wait_notify("RELOADING=1");
    wait_notify("READY=1");
    log = read_log();
    ck_assert_msg(strstr(log, "reload rejected, the running configuration stays:") &&
                      strstr(log, "shuffled.json:2:3: key 'port'"),
                  "%s", log);
    free(log);
    wait_health(admin, 200, "serving\n");
    fd = connect_port(port);
    ck_assert_int_eq(rpc_register_garbage(fd), 5);
    close(fd);

    kill(pid, SIGTERM);
    wait_notify("STOPPING=1");
    ck_assert_int_eq(exit_status(pid), 0);
}
END_TEST

static const char *stall_daemon_path(void)
{
    static char exe[600];
    harness_build_path(exe, sizeof(exe), "tests/integration/shuffled-stall");
    return exe;
}

/* Queued notifications (without waiting); fails on a WATCHDOG=1. */
static void assert_no_ping_queued(void)
{
    char buf[1024];
    ssize_t n;
    while ((n = recv(notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
        buf[n] = '\0';
        ck_assert_msg(strncmp(buf, "WATCHDOG=1", 10) != 0, "WATCHDOG=1 while a loop is stuck");
    }
}

static void drain_notifications(void)
{
    char buf[1024];
    while (recv(notify_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
}

START_TEST(stuck_loop_withholds_pings)
{
    int admin = free_port();
    write_config(0, admin, NULL);
    char release[400];
    snprintf(release, sizeof(release), "%s/release", tmp);
    setenv("SHUFFLED_TEST_RELEASE", release, 1);
    char *argv[] = {(char *)stall_daemon_path(), "-c", d.config, "--port-file", d.port_file, NULL};
    pid_t pid = spawn(argv, true);
    unsetenv("SHUFFLED_TEST_RELEASE");
    wait_notify("READY=1");
    int port = harness_daemon_read_port(&d);
    ck_assert_int_gt(port, 0);
    wait_notify("WATCHDOG=1");

    /* the service's admin actions are what the endpoints call */
    http_expect(admin, "POST", "/admin/remove-application?app_id=app-known&cleanup_local_dirs=true",
                200, "removed 2 executors of app-known and their dirs\n");
    http_expect(admin, "POST", "/admin/remove-application?app_id=app-other", 404, NULL);
    http_expect(admin, "POST", "/admin/remove-executor?app_id=app-known&exec_id=1", 501, NULL);

    /* one worker loop stuck in a handler */
    int fd = connect_port(port);
    ck_assert_int_ge(fd, 0);
    send_rpc(fd, (const uint8_t *)"S", 1);
    wait_health(admin, 503, "unhealthy\n");
    drain_notifications();
    /* a ping needs every loop's heartbeat: none can come while the loop is stuck */
    ck_assert(health_is(admin, 503, "unhealthy\n"));
    assert_no_ping_queued();
    char *log = read_log();
    ck_assert_msg(strstr(log, "has not run its heartbeat"), "%s", log);
    free(log);

    write_text(release, "go\n");
    ck_assert_int_eq(read_frame_type(fd), 4); /* RpcResponse: the loop ran again */
    wait_notify("WATCHDOG=1");
    wait_health(admin, 200, "serving\n");

    /* stop while a loop is busy: the daemon drains (and says so) until it is done */
    unlink(release);
    send_rpc(fd, (const uint8_t *)"S", 1);
    wait_health(admin, 503, "unhealthy\n");
    kill(pid, SIGTERM);
    wait_notify("STOPPING=1");
    expect_health(admin, 503, "draining\n");
    write_text(release, "go\n");
    ck_assert_int_eq(read_frame_type(fd), 4); /* the answer still goes out while draining */
    close(fd);
    ck_assert_int_eq(exit_status(pid), 0);
}
END_TEST

static int run_capture(char *const argv[], char *out, size_t outlen)
{
    unlink(d.log);
    pid_t pid = spawn(argv, false);
    int st = exit_status(pid);
    char *log = read_log();
    snprintf(out, outlen, "%s", log);
    free(log);
    return st;
}

START_TEST(config_check_modes)
{
    char out[65536];
    write_config(7400, 7401, "\"max_chunks_in_flight\": 99");
    char *t[] = {(char *)daemon_path(), "-t", "-c", d.config, NULL};
    ck_assert_int_eq(run_capture(t, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "is valid"), "%s", out);

    char *big_t[] = {(char *)daemon_path(), "-T", "-c", d.config, NULL};
    ck_assert_int_eq(run_capture(big_t, out, sizeof(out)), 0);
    char *json_end = strstr(out, "\n}\n");
    ck_assert_ptr_nonnull(json_end);
    json_end[2] = '\0';
    struct shuffled_config back;
    char err[512];
    ck_assert_msg(config_parse(out, "-T output", &back, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(back.max_chunks_in_flight, 99);
    ck_assert_int_eq(back.admin_port, 7401);
    ck_assert_int_eq(back.port, 7400);
    ck_assert_uint_eq(back.max_connections, 16384); /* a default filled in */
    config_free(&back);

    write_text(d.config, "{\n  \"port\": 7337,\n  \"nope\": true\n}\n");
    ck_assert_int_eq(run_capture(t, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "shuffled.json:3:3: key 'nope': unknown key"), "%s", out);
    write_text(d.config, "{\n  \"admin_port\": 70000\n}\n");
    ck_assert_int_eq(run_capture(t, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "key 'admin_port'") && strstr(out, "out of range"), "%s", out);
    /* every error, not only the first */
    write_text(d.config, "{\n  \"admin_port\": 70000,\n  \"nope\": 1,\n  \"log_level\": 3\n}\n");
    ck_assert_int_eq(run_capture(t, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "shuffled.json:2:3: key 'admin_port': 70000 is out of range") &&
                      strstr(out, "shuffled.json:3:3: key 'nope': unknown key\n") &&
                      strstr(out, "shuffled.json:4:3: key 'log_level': expected a string\n"),
                  "%s", out);
}
END_TEST

struct connect_try {
    int port, fd;
};

static bool connected(void *arg)
{
    struct connect_try *t = arg;
    return (t->fd = connect_port(t->port)) >= 0;
}

START_TEST(socket_activation)
{
    if (access("/usr/bin/systemd-socket-activate", X_OK) != 0) {
        fprintf(stderr, "systemd-socket-activate missing (Debian package systemd): not run\n");
        return;
    }
    int passed = free_port(), own = free_port(), admin = free_port();
    ck_assert_int_ne(passed, own);
    write_config(own, admin, NULL);
    char listen_arg[64];
    snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%d", passed);
    char *argv[] = {"/usr/bin/systemd-socket-activate",
                    "-l",
                    listen_arg,
                    "-E",
                    "NOTIFY_SOCKET",
                    (char *)daemon_path(),
                    "-c",
                    d.config,
                    NULL};
    pid_t pid = spawn(argv, false);
    struct connect_try at = {passed, -1};
    ck_assert(harness_wait_until(connected, &at, 10000, 10)); /* until the activator listens */
    int fd = at.fd;
    /* the first connection starts the daemon, which serves it on the passed socket */
    ck_assert_int_eq(rpc_register_garbage(fd), 5);
    close(fd);
    wait_notify("READY=1");
    ck_assert_int_lt(connect_port(own), 0); /* its own "port" was not bound */
    char *log = read_log();
    ck_assert_msg(strstr(log, "using 1 socket(s) passed by systemd"), "%s", log);
    ck_assert_msg(strstr(log, "Z shuffled info: "), "not under journald: timestamps\n%s", log);
    free(log);
    kill(pid, SIGTERM); /* the activator exec'd the daemon: same pid */
    ck_assert_int_eq(exit_status(pid), 0);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return check_main(&(struct check_case){.suite = "ops_daemon",
                                           .name = "daemon",
                                           .timeout_s = 120,
                                           .setup = setup,
                                           .teardown = teardown},
                      CHECK_TESTS(lifecycle_under_systemd, config_check_modes, socket_activation,
                                  stuck_loop_withholds_pings));
}
