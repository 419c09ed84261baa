/* SPDX-License-Identifier: Apache-2.0 */
/* app_ttl_ms against the real daemon (issue 18, items 10 and 11), with a short TTL in its
 * config: an idle application is removed once the TTL has passed and not before, and the
 * removal is logged with its reason, as each RegisterExecutor is; an open connection that
 * named it, or RPCs naming it, keep it; its local dirs are deleted only with
 * app_ttl_cleanup_local_dirs, and only its own; after a restart the clock starts again for
 * the reloaded registrations; GET /admin/apps lists applications, executors, dir counts and
 * activity. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/http_client.h"
#include "../unit/prom_parse.h"
#include "../check_main.h"
#include "../harness/fs.h"
#include "../harness/port.h"
#include "../harness/wait.h"
#include "daemon_client.h"

#define TTL_MS 300

struct fixture {
    const char *tmp;
    char state[700], keys[600];
    int admin_port;
    struct harness_daemon d;
};

/* The daemon at log level info, app_ttl_ms TTL_MS and the extra keys. */
static void start(struct fixture *f, const char *extra)
{
    if (!f->tmp) {
        f->tmp = harness_test_dir();
        snprintf(f->state, sizeof(f->state), "%s/state", f->tmp);
        f->admin_port = harness_free_port();
        ck_assert_int_gt(f->admin_port, 0);
        snprintf(f->keys, sizeof(f->keys), "\"admin_port\": %d, \"app_ttl_ms\": %d%s%s",
                 f->admin_port, TTL_MS, *extra ? ", " : "", extra);
    }
    struct harness_daemon_opts o = {
        .dir = f->tmp, .state_dir = f->state, .log_level = "info", .extra_json = f->keys};
    ck_assert_msg(harness_daemon_start(&f->d, &o) == 0, "shuffled did not start");
}

/* <tmp>/<rel>, made, with one file in it. */
static char *local_dir(struct fixture *f, const char *rel)
{
    static char bufs[4][800];
    static int next;
    char *p = bufs[next++ % 4], cmd[900], file[900];
    snprintf(p, 800, "%s/%s", f->tmp, rel);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(file, sizeof(file), "%s/shuffle_0_0_0.data", p);
    ck_assert_int_eq(harness_write_file(file, "x", 1), 0);
    return p;
}

static void reg(struct client *c, const char *app, const char *exec, char *dir)
{
    char err[512] = "";
    ck_assert_msg(client_register(c, app, exec, &dir, 1, 4, err, sizeof(err)) == PROTO_RPC_RESPONSE,
                  "%s", err);
}

/* The daemon started with extra, and app-a's executor 0 registered on c with one dir
 * (returned), c left open. */
static char *start_with_app_a(struct fixture *f, struct client *c, const char *extra)
{
    start(f, extra);
    client_open(c, f->d.port);
    char *dir = local_dir(f, "a/0");
    reg(c, "app-a", "0", dir);
    return dir;
}

static char *apps_json(struct fixture *f)
{
    struct http_response r = http_request(f->admin_port, "GET", "/admin/apps");
    ck_assert_int_eq(r.status, 200);
    return r.body;
}

/* Whether GET /admin/apps lists app. */
static bool listed(struct fixture *f, const char *app)
{
    char *body = apps_json(f), key[300];
    snprintf(key, sizeof(key), "\"%s\": {", app);
    bool found = strstr(body, key) != NULL;
    free(body);
    return found;
}

struct app_ref {
    struct fixture *f;
    const char *app;
};

static bool gone(void *arg)
{
    struct app_ref *a = arg;
    return !listed(a->f, a->app);
}

static bool held_once(void *arg)
{
    char *body = apps_json(arg);
    bool held = strstr(body, "\"open_connections\": 1") != NULL;
    free(body);
    return held;
}

/* Waits (10 s at most) until app is no longer listed. */
static void wait_removed(struct fixture *f, const char *app, const char *what)
{
    struct app_ref ref = {f, app};
    ck_assert_msg(harness_wait_until(gone, &ref, 10000, 20), "%s: %s never removed", what, app);
}

struct log_ref {
    struct fixture *f;
    const char *text;
};

static bool logged(void *arg)
{
    struct log_ref *l = arg;
    char *log = harness_daemon_log(&l->f->d);
    bool found = log && strstr(log, l->text);
    free(log);
    return found;
}

/* The daemon's log holds text, within 10 s: a removal is logged once its dirs are deleted,
 * which may be after the app left the listing. */
static void expect_log(struct fixture *f, const char *text)
{
    struct log_ref ref = {f, text};
    if (harness_wait_until(logged, &ref, 10000, 20))
        return;
    char *log = harness_daemon_log(&f->d);
    ck_assert_msg(0, "no \"%s\" in the log:\n%s", text, log);
    free(log);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

START_TEST(idle_app_removed_after_ttl_and_logged)
{
    struct fixture f = {0};
    struct client c;
    char *dir = start_with_app_a(&f, &c, "");
    /* the connection holds app-a once the registration is back on its loop */
    ck_assert(harness_wait_until(held_once, &f, 5000, 10));
    char *body = apps_json(&f);
    ck_assert_msg(strstr(body, "\"app-a\": {") && strstr(body, "\"executor_count\": 1") &&
                      strstr(body, "\"local_dir_count\": 1") &&
                      strstr(body, "\"shuffle_manager\": \"org.apache.spark.shuffle.sort."),
                  "%s", body);
    free(body);
    client_close(&c);
    uint64_t closed = now_ms();
    wait_removed(&f, "app-a", "idle");
    ck_assert_msg(now_ms() - closed >= TTL_MS - 20, "removed %llu ms after its last activity",
                  (unsigned long long)(now_ms() - closed));
    ck_assert_msg(exists(dir), "its dir was deleted without app_ttl_cleanup_local_dirs");
    struct http_response r = http_request(f.admin_port, "GET", "/metrics");
    ck_assert_int_eq(r.status, 200);
    ck_assert(prom_value(r.body, "shuffled_applications_expired_total") == 1);
    free(r.body);
    expect_log(&f, "RegisterExecutor(appId=app-a, execId=0): 1 local dir(s), shuffle manager "
                   "org.apache.spark.shuffle.sort.SortShuffleManager");
    expect_log(&f, "application app-a removed (idle for app_ttl_ms 300 ms, no connection open): "
                   "1 executor registration(s); local dirs kept");
    daemon_stop_clean(&f.d);
}
END_TEST

START_TEST(open_connection_or_rpcs_keep_the_app)
{
    struct fixture f = {0};
    struct client held, c;
    start_with_app_a(&f, &held, "");
    client_open(&c, f.d.port);
    reg(&c, "app-b", "0", local_dir(&f, "b/0"));
    client_close(&c);
    /* app-a: its connection stays open, silent; app-b: an RPC naming it every 60 ms, each on
     * a connection of its own */
    uint64_t until = now_ms() + 4 * TTL_MS;
    while (now_ms() < until) {
        client_open(&c, f.d.port);
        ck_assert_int_eq(client_remove_blocks(&c, "app-b", "0", NULL, 0), 0);
        client_close(&c);
        harness_sleep_ms(60);
    }
    ck_assert_msg(listed(&f, "app-a"), "app-a removed while its connection was open");
    ck_assert_msg(listed(&f, "app-b"), "app-b removed while RPCs named it");
    wait_removed(&f, "app-b", "once RPCs stopped");
    ck_assert_msg(listed(&f, "app-a"), "app-a removed while its connection was open");
    client_close(&held);
    wait_removed(&f, "app-a", "once its connection closed");
    expect_log(&f, "application app-b removed (idle for app_ttl_ms");
    daemon_stop_clean(&f.d);
}
END_TEST

START_TEST(cleanup_key_deletes_only_the_apps_own_dirs)
{
    struct fixture f = {0};
    start(&f, "\"app_ttl_cleanup_local_dirs\": true");
    struct client held, c;
    char *a = local_dir(&f, "x/a"), *b = local_dir(&f, "x/b");
    client_open(&held, f.d.port);
    reg(&held, "app-b", "0", b);
    client_open(&c, f.d.port);
    reg(&c, "app-a", "0", a);
    client_close(&c);
    wait_removed(&f, "app-a", "idle");
    ck_assert_msg(!exists(a), "app-a's dir survived app_ttl_cleanup_local_dirs");
    ck_assert_msg(exists(b), "app-b's dir was deleted with app-a");
    ck_assert_msg(listed(&f, "app-b"), "app-b removed while its connection was open");
    expect_log(&f, "1 executor registration(s); its local dirs deleted (those it owns)");
    client_close(&held);
    daemon_stop_clean(&f.d);
}
END_TEST

START_TEST(restart_restarts_the_clock)
{
    struct fixture f = {0};
    struct client c;
    start_with_app_a(&f, &c, "");
    client_close(&c);
    daemon_stop_clean(&f.d);
    harness_sleep_ms(2 * TTL_MS); /* idle for longer than the TTL while stopped */
    start(&f, "");
    uint64_t started = now_ms();
    ck_assert_msg(listed(&f, "app-a"), "a reloaded app was removed at once after a restart");
    wait_removed(&f, "app-a", "reloaded");
    ck_assert_uint_ge(now_ms() - started, TTL_MS - 50);
    daemon_stop_clean(&f.d);
}
END_TEST

START_TEST(admin_remove_is_logged_with_its_reason)
{
    struct fixture f = {0};
    struct client c;
    start_with_app_a(&f, &c, "");
    reg(&c, "app-a", "1", local_dir(&f, "a/1"));
    struct http_response r =
        http_request(f.admin_port, "POST", "/admin/remove-application?app_id=app-a");
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    expect_log(&f, "application app-a removed (admin request): 2 executor registration(s); "
                   "local dirs kept");
    client_close(&c);
    daemon_stop_clean(&f.d);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return check_main(
        &(struct check_case){.suite = "app_ttl", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(idle_app_removed_after_ttl_and_logged, open_connection_or_rpcs_keep_the_app,
                    cleanup_key_deletes_only_the_apps_own_dirs, restart_restarts_the_clock,
                    admin_remove_is_logged_with_its_reason));
}
