/* SPDX-License-Identifier: Apache-2.0 */
/* Registration limits, dir ownership and the admin endpoint's protection against the real
 * daemon (issue 15): each refusal's text names its config key and is counted in /metrics;
 * SIGHUP raises the limits; a dir equal to, above or inside another application's is refused
 * while the owner may register it again; ownership survives a restart and ends with the
 * application; cleanup deletes only the removed application's dirs; /admin/... answers 401
 * without the bearer token of admin_token_file and 403 on a non-loopback admin_listen without
 * one, while /metrics and /healthz stay open; a taken admin port stops the daemon at start. */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/http_client.h"
#include "../unit/prom_parse.h"
#include "../check_main.h"
#include "../harness/port.h"
#include "../harness/process.h"
#include "../harness/wait.h"
#include "daemon_client.h"

struct fixture {
    const char *tmp; /* the test's temp dir */
    char state[700];
    int admin_port;
    struct harness_daemon d;
    struct client c;
};

/* Starts the daemon with its admin endpoint on a free port and the extra keys. */
static void start(struct fixture *f, const char *extra)
{
    char keys[600];
    f->admin_port = harness_free_port();
    ck_assert_int_gt(f->admin_port, 0);
    snprintf(keys, sizeof(keys), "\"admin_port\": %d%s%s", f->admin_port, *extra ? ", " : "",
             extra);
    daemon_start(&f->d, f->tmp, f->state, keys);
    client_open(&f->c, f->d.port);
}

static void stop(struct fixture *f)
{
    client_close(&f->c);
    daemon_stop_clean(&f->d);
}

static void setup(struct fixture *f, const char *extra)
{
    memset(f, 0, sizeof(*f));
    f->tmp = harness_test_dir();
    snprintf(f->state, sizeof(f->state), "%s/state", f->tmp);
    start(f, extra);
}

static void teardown(struct fixture *f)
{
    stop(f);
}

/* <tmp>/<rel>, created (mkdir -p) when make. */
static char *dir_at(struct fixture *f, const char *rel, bool make)
{
    static char bufs[8][800];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, 800, "%s/%s", f->tmp, rel);
    if (make) {
        char cmd[900];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
        ck_assert_int_eq(system(cmd), 0);
    }
    return p;
}

/* RegisterExecutor with one dir: "" when accepted, else the RpcFailure's first line. */
static const char *reg(struct fixture *f, const char *app, const char *exec, char *dir)
{
    static char err[1024];
    err[0] = 0;
    char *dirs[1] = {dir};
    int t = client_register(&f->c, app, exec, dirs, 1, 4, err, sizeof(err));
    ck_assert(t == PROTO_RPC_RESPONSE || t == PROTO_RPC_FAILURE);
    ck_assert(t == PROTO_RPC_FAILURE || err[0] == 0);
    return t == PROTO_RPC_RESPONSE ? "" : err;
}

static double metric(struct fixture *f, const char *key)
{
    struct http_response r = http_request(f->admin_port, "GET", "/metrics");
    ck_assert_int_eq(r.status, 200);
    double v = prom_value(r.body, key);
    free(r.body);
    return v;
}

/* app-a's third executor registers (once the limit is raised). */
static bool third_executor_accepted(void *arg)
{
    struct fixture *f = arg;
    return reg(f, "app-a", "2", dir_at(f, "a/2", false))[0] == 0;
}

#define PER_APP "shuffled_registrations_refused_max_executors_per_app_total"
#define TOTAL "shuffled_registrations_refused_max_executors_total"
#define OWNED "shuffled_registrations_refused_dir_owned_total"

START_TEST(limits_refuse_with_the_key_and_reload)
{
    struct fixture f;
    setup(&f, "\"max_executors_per_app\": 2, \"max_executors\": 3");
    ck_assert_str_eq(reg(&f, "app-a", "0", dir_at(&f, "a/0", true)), "");
    ck_assert_str_eq(reg(&f, "app-a", "1", dir_at(&f, "a/1", true)), "");
    const char *e = reg(&f, "app-a", "2", dir_at(&f, "a/2", true));
    ck_assert_msg(strstr(e, "refused") && strstr(e, "max_executors_per_app") &&
                      strstr(e, "already has 2 registered executors"),
                  "%s", e);
    /* at the limit, the same executor registers again (with a new dir, too) */
    ck_assert_str_eq(reg(&f, "app-a", "1", dir_at(&f, "a/1b", true)), "");
    ck_assert_str_eq(reg(&f, "app-b", "0", dir_at(&f, "b/0", true)), "");
    e = reg(&f, "app-c", "0", dir_at(&f, "c/0", true));
    ck_assert_msg(strstr(e, "refused") && strstr(e, "the limit set by max_executors") &&
                      strstr(e, "3 executors are registered"),
                  "%s", e);
    ck_assert(metric(&f, PER_APP) == 1);
    ck_assert(metric(&f, TOTAL) == 1);
    ck_assert(metric(&f, OWNED) == 0);
    /* SIGHUP: the new limits apply live */
    char keys[600];
    snprintf(keys, sizeof(keys),
             "\"admin_port\": %d, \"max_executors_per_app\": 3, \"max_executors\": 5",
             f.admin_port);
    struct harness_daemon_opts raised = f.d.opts;
    raised.extra_json = keys;
    ck_assert_int_eq(harness_daemon_write_config(&f.d, &raised), 0);
    kill(f.d.pid, SIGHUP);
    ck_assert_msg(harness_wait_until(third_executor_accepted, &f, 5000, 10),
                  "max_executors_per_app was not raised by SIGHUP");
    ck_assert_str_eq(reg(&f, "app-c", "0", dir_at(&f, "c/0", false)), "");
    teardown(&f);
}
END_TEST

START_TEST(dirs_of_another_app_are_refused)
{
    struct fixture f;
    setup(&f, "");
    char *a0 = dir_at(&f, "apps/a/blockmgr-0", true);
    ck_assert_str_eq(reg(&f, "app-a", "0", a0), "");
    const char *names[] = {"apps/a/blockmgr-0", "apps/a", "apps/a/blockmgr-0/inner", "apps"};
    for (int i = 0; i < 4; i++) {
        const char *e = reg(&f, "app-b", "0", dir_at(&f, names[i], i == 2));
        ck_assert_msg(strstr(e, "java.lang.SecurityException") && strstr(e, "refused") &&
                          strstr(e, "another application"),
                      "%s: %s", names[i], e);
    }
    /* a symlink to the dir is the same dir */
    char link[800];
    snprintf(link, sizeof(link), "%s/link-to-a", f.tmp);
    ck_assert_int_eq(symlink(a0, link), 0);
    ck_assert_msg(strstr(reg(&f, "app-b", "0", link), "another application"), "link accepted");
    ck_assert(metric(&f, OWNED) == 5);
    /* the owner: again, another executor, a dir inside its own */
    ck_assert_str_eq(reg(&f, "app-a", "0", a0), "");
    ck_assert_str_eq(reg(&f, "app-a", "1", a0), "");
    ck_assert_str_eq(reg(&f, "app-a", "2", dir_at(&f, "apps/a/blockmgr-0/inner", false)), "");
    /* a sibling is fine */
    ck_assert_str_eq(reg(&f, "app-b", "0", dir_at(&f, "apps/b", true)), "");
    /* ownership is rebuilt from the registration log at start */
    stop(&f);
    start(&f, "");
    ck_assert_msg(strstr(reg(&f, "app-b", "0", a0), "another application"),
                  "ownership lost at restart");
    /* and ends with the application */
    struct http_response r =
        http_request(f.admin_port, "POST", "/admin/remove-application?app_id=app-a");
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    ck_assert_str_eq(reg(&f, "app-b", "0", a0), "");
    teardown(&f);
}
END_TEST

START_TEST(cleanup_deletes_only_owned_dirs)
{
    struct fixture f;
    setup(&f, "");
    char *a = dir_at(&f, "x/a", true), *b = dir_at(&f, "x/b", true);
    char a_file[900], b_file[900], cmd[2000];
    snprintf(a_file, sizeof(a_file), "%s/shuffle_0_0_0.data", a);
    snprintf(b_file, sizeof(b_file), "%s/shuffle_0_0_0.data", b);
    ck_assert_int_eq(harness_write_file(a_file, "a", 1), 0);
    ck_assert_int_eq(harness_write_file(b_file, "b", 1), 0);
    ck_assert_str_eq(reg(&f, "app-a", "0", a), "");
    ck_assert_str_eq(reg(&f, "app-b", "0", b), "");
    /* app-a's second dir: its parent is then swapped for a link into app-b's */
    char *moved = dir_at(&f, "y/z", true);
    ck_assert_str_eq(reg(&f, "app-a", "1", moved), "");
    snprintf(cmd, sizeof(cmd), "mv '%s/y' '%s/y-old' && ln -s '%s/x' '%s/y' && mkdir -p '%s/x/z'",
             f.tmp, f.tmp, f.tmp, f.tmp, f.tmp);
    ck_assert_int_eq(system(cmd), 0);
    char z_file[900];
    snprintf(z_file, sizeof(z_file), "%s/x/z/keep", f.tmp);
    ck_assert_int_eq(harness_write_file(z_file, "z", 1), 0);
    struct http_response r = http_request(
        f.admin_port, "POST", "/admin/remove-application?app_id=app-a&cleanup_local_dirs=true");
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    ck_assert(!harness_path_exists(a));     /* owned: deleted */
    ck_assert(harness_path_exists(b_file)); /* app-b's: kept */
    ck_assert(harness_path_exists(z_file)); /* resolves elsewhere than when registered: kept */
    teardown(&f);
}
END_TEST

/* An HTTP/1.0 POST with an optional Authorization header. */
static struct http_response post(int port, const char *target, const char *auth)
{
    char req[1024];
    snprintf(req, sizeof(req),
             "POST %s HTTP/1.0\r\nHost: localhost\r\n%s%s%sContent-Length: 0\r\n\r\n", target,
             auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    return http_raw(port, req);
}

static void expect(struct http_response r, int status, const char *needle)
{
    ck_assert_msg(r.status == status && (!needle || strstr(r.body, needle)), "%d %s", r.status,
                  r.body);
    free(r.body);
}

START_TEST(admin_token_guards_actions)
{
    struct fixture f;
    memset(&f, 0, sizeof(f));
    f.tmp = harness_test_dir();
    snprintf(f.state, sizeof(f.state), "%s/state", f.tmp);
    char token_file[400], extra[500];
    snprintf(token_file, sizeof(token_file), "%s/admin-token", f.tmp);
    ck_assert_int_eq(harness_write_file(token_file, "t0ken-xyz\n", 10), 0);
    ck_assert_int_eq(chmod(token_file, 0600), 0);
    snprintf(extra, sizeof(extra), "\"admin_token_file\": \"%s\"", token_file);
    start(&f, extra);
    ck_assert_str_eq(reg(&f, "app-a", "0", dir_at(&f, "a", true)), "");
    const char *target = "/admin/remove-application?app_id=app-a";
    expect(post(f.admin_port, target, NULL), 401, "missing bearer token");
    expect(post(f.admin_port, target, "Bearer t0ken-xy"), 401, "wrong bearer token");
    expect(post(f.admin_port, target, "Bearer t0ken-xyzz"), 401, "wrong");
    expect(post(f.admin_port, target, "Basic t0ken-xyz"), 401, NULL);
    expect(post(f.admin_port, "/admin/remove-executor?app_id=app-a&exec_id=0", NULL), 401, NULL);
    /* scrapes and health checks need none */
    expect(http_request(f.admin_port, "GET", "/healthz"), 200, "serving");
    ck_assert(metric(&f, "shuffled_admin_unauthorized_total") == 5);
    ck_assert(metric(&f, "shuffled_registered_executors") == 1); /* nothing removed */
    expect(post(f.admin_port, target, "Bearer t0ken-xyz"), 200, "removed");
    ck_assert(metric(&f, "shuffled_registered_executors") == 0);
    teardown(&f);
}
END_TEST

START_TEST(admin_on_the_network_needs_a_token)
{
    struct fixture f;
    setup(&f, "\"admin_listen\": \"0.0.0.0\"");
    ck_assert_str_eq(reg(&f, "app-a", "0", dir_at(&f, "a", true)), "");
    expect(post(f.admin_port, "/admin/remove-application?app_id=app-a", NULL), 403,
           "admin_token_file");
    expect(post(f.admin_port, "/admin/remove-executor?app_id=app-a&exec_id=0", NULL), 403,
           "admin_token_file");
    expect(http_request(f.admin_port, "GET", "/healthz"), 200, "serving");
    ck_assert(metric(&f, "shuffled_admin_forbidden_total") == 2);
    ck_assert(metric(&f, "shuffled_registered_executors") == 1);
    teardown(&f);
}
END_TEST

/* Runs build/shuffled with args and its output in a file; its raw wait status and output. */
static int run_daemon(const char *cfg, const char *flag, char *out, size_t outlen, const char *tmp)
{
    char log[800], exe[700];
    snprintf(log, sizeof(log), "%s/stderr", tmp);
    harness_build_path(exe, sizeof(exe), "shuffled");
    char *argv[] = {exe, (char *)(flag ? flag : "-c"), (char *)(flag ? "-c" : cfg),
                    (char *)(flag ? cfg : NULL), NULL};
    unlink(log);
    pid_t pid = harness_spawn(argv, log, NULL, NULL);
    ck_assert_int_ge(pid, 0);
    int st = harness_reap_status(pid, 20000);
    ck_assert_msg(st != -1, "shuffled did not exit");
    size_t n = 0;
    uint8_t *text = harness_read_file(log, &n);
    n = text ? (n < outlen - 1 ? n : outlen - 1) : 0;
    if (n)
        memcpy(out, text, n);
    out[n] = 0;
    free(text);
    return st;
}

START_TEST(taken_admin_port_is_fatal)
{
    const char *tmp = harness_test_dir();
    char cfg[700], json[1500], out[8192];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 1), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    int taken = ntohs(sa.sin_port);
    snprintf(cfg, sizeof(cfg), "%s/shuffled.json", tmp);
    snprintf(json, sizeof(json),
             "{\"listen\": [\"127.0.0.1\"], \"port\": 0, \"io_threads\": 1, "
             "\"blocking_threads\": 1, \"state_dir\": \"%s/state\", \"admin_port\": %d}\n",
             tmp, taken);
    ck_assert_int_eq(harness_write_file(cfg, json, strlen(json)), 0);
    int st = run_daemon(cfg, NULL, out, sizeof(out), tmp);
    char want[64];
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1 port %d", taken);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0 && strstr(out, want), "status %d: %s", st,
                  out);
    close(fd);
    /* a token file others can read is refused by -t and at start */
    char token[700];
    snprintf(token, sizeof(token), "%s/token", tmp);
    ck_assert_int_eq(harness_write_file(token, "abc\n", 4), 0);
    ck_assert_int_eq(chmod(token, 0644), 0);
    snprintf(json, sizeof(json),
             "{\"port\": 0, \"admin_port\": 0, \"state_dir\": \"%s/state\", "
             "\"admin_token_file\": \"%s\"}\n",
             tmp, token);
    ck_assert_int_eq(harness_write_file(cfg, json, strlen(json)), 0);
    st = run_daemon(cfg, "-t", out, sizeof(out), tmp);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0 && strstr(out, "key 'admin_token_file'") &&
                      strstr(out, "accessible by group or others"),
                  "%s", out);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return check_main(
        &(struct check_case){.suite = "tenancy_daemon", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(limits_refuse_with_the_key_and_reload, dirs_of_another_app_are_refused,
                    cleanup_deletes_only_owned_dirs, admin_token_guards_actions,
                    admin_on_the_network_needs_a_token, taken_admin_port_is_fatal));
}
