/* SPDX-License-Identifier: Apache-2.0 */
/* Admin HTTP endpoint over real loopback TCP: /metrics, /healthz in each state, the
 * admin actions with their parameters, and 4xx answers to bad requests. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_client.h"
#include "prom_parse.h"
#include "server/ops/admin_http.h"
#include "server/ops/metrics.h"
#include "../check_main.h"

struct calls {
    int apps, execs;
    char app[300], exec[300];
    bool cleanup;
    int result; /* what the actions return */
};

static int remove_app(void *ctx, const char *app_id, bool cleanup, char *err, size_t errlen)
{
    struct calls *c = ctx;
    c->apps++;
    snprintf(c->app, sizeof(c->app), "%s", app_id);
    c->cleanup = cleanup;
    if (c->result)
        snprintf(err, errlen, "application %s is not registered", app_id);
    return c->result;
}

static int remove_exec(void *ctx, const char *app_id, const char *exec_id, char *err, size_t errlen)
{
    struct calls *c = ctx;
    c->execs++;
    snprintf(c->app, sizeof(c->app), "%s", app_id);
    snprintf(c->exec, sizeof(c->exec), "%s", exec_id);
    if (c->result)
        snprintf(err, errlen, "disk on fire");
    return c->result;
}

static struct calls calls;
static struct admin_http *admin;

static void start(void)
{
    memset(&calls, 0, sizeof(calls));
    struct admin_actions acts = {&calls, remove_app, remove_exec, NULL, NULL};
    char err[256];
    admin = admin_http_start("127.0.0.1", 0, &acts, NULL, err, sizeof(err));
    ck_assert_msg(admin != NULL, "%s", err);
    ck_assert_int_gt(admin_http_port(admin), 0);
}

static void stop(void)
{
    admin_http_stop(admin);
    admin = NULL;
}

static struct http_response http_raw_admin(const char *request)
{
    return http_raw(admin_http_port(admin), request);
}

static struct http_response http(const char *method, const char *target)
{
    return http_request(admin_http_port(admin), method, target);
}

/* method target answers code and, unless body is NULL, exactly body. */
static void expect(const char *method, const char *target, int code, const char *body)
{
    http_expect(admin_http_port(admin), method, target, code, body);
}
#define EXPECT(method, target, code) expect(method, target, code, NULL)

START_TEST(metrics_endpoint)
{
    metrics_reset();
    metrics_add(MC_BLOCK_TRANSFER_BYTES, 4096);
    metrics_observe_usec(MH_REGISTER_EXECUTOR_LATENCY, 700);
    struct http_response r = http("GET", "/metrics");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.head, "Content-Type: text/plain; version=0.0.4"));
    prom_check_structure(r.body);
    ck_assert_double_eq(prom_value(r.body, "shuffled_block_transfer_bytes_total"), 4096);
    ck_assert_double_eq(
        prom_value(r.body, "shuffled_register_executor_request_latency_seconds_count"), 1);
    /* the scrape's own connection is an open fd of the process */
    ck_assert(prom_value(r.body, "process_open_fds") > 3);
    free(r.body);
    EXPECT("POST", "/metrics", 405);
}
END_TEST

START_TEST(healthz_follows_state)
{
    expect("GET", "/healthz", 503, "starting\n");
    admin_http_set_health(admin, ADMIN_SERVING);
    expect("GET", "/healthz", 200, "serving\n");
    admin_http_set_health(admin, ADMIN_UNHEALTHY);
    expect("GET", "/healthz", 503, "unhealthy\n");
    admin_http_set_health(admin, ADMIN_DRAINING);
    expect("GET", "/healthz", 503, "draining\n");
    EXPECT("HEAD", "/healthz", 503);
}
END_TEST

START_TEST(remove_application)
{
    EXPECT("POST", "/admin/remove-application?app_id=app-20201221-0001&cleanup_local_dirs=true",
           200);
    ck_assert_int_eq(calls.apps, 1);
    ck_assert_str_eq(calls.app, "app-20201221-0001");
    ck_assert(calls.cleanup);
    expect("POST", "/admin/remove-application?app_id=application_1_2", 200,
           "removed application application_1_2\n");
    ck_assert_int_eq(calls.apps, 2);
    ck_assert_str_eq(calls.app, "application_1_2");
    ck_assert(!calls.cleanup);
    /* parameters in a form body */
    const char *body = "app_id=app-form&cleanup_local_dirs=true";
    char form[512];
    snprintf(form, sizeof(form),
             "POST /admin/remove-application HTTP/1.0\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    struct http_response r = http_raw_admin(form);
    ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "app-form"));
    free(r.body);
    ck_assert_int_eq(calls.apps, 3);
    ck_assert_str_eq(calls.app, "app-form");
    ck_assert(calls.cleanup);
    calls.result = -ENOENT;
    expect("POST", "/admin/remove-application?app_id=nope", 404,
           "application nope is not registered\n");
}
END_TEST

START_TEST(remove_executor)
{
    expect("POST", "/admin/remove-executor?app_id=app-1&exec_id=7", 200,
           "removed the non-shuffle files of executor 7 of app-1\n");
    ck_assert_int_eq(calls.execs, 1);
    ck_assert_str_eq(calls.app, "app-1");
    ck_assert_str_eq(calls.exec, "7");
    calls.result = -EIO;
    EXPECT("POST", "/admin/remove-executor?app_id=app-1&exec_id=8", 500);
    calls.result = -EINVAL;
    EXPECT("POST", "/admin/remove-executor?app_id=app-1&exec_id=8", 400);
    ck_assert_int_eq(calls.execs, 3);
}
END_TEST

START_TEST(bad_requests_are_4xx)
{
    EXPECT("GET", "/admin/remove-application?app_id=a", 405);
    EXPECT("GET", "/nope", 404);
    EXPECT("POST", "/admin/remove-application", 400);              /* no app_id */
    EXPECT("POST", "/admin/remove-application?app_id=", 400);      /* empty */
    EXPECT("POST", "/admin/remove-application?app_id=..", 400);    /* path trick */
    EXPECT("POST", "/admin/remove-application?app_id=a%2Fb", 400); /* slash */
    EXPECT("POST", "/admin/remove-application?app_id=a%0Ab", 400); /* newline */
    EXPECT("POST", "/admin/remove-application?app_id=a&cleanup_local_dirs=yes", 400);
    EXPECT("POST", "/admin/remove-application?app_id=a&force=1", 400);  /* unknown key */
    EXPECT("POST", "/admin/remove-application?app_id=a&app_id=b", 400); /* twice */
    EXPECT("POST", "/admin/remove-executor?app_id=a", 400);             /* no exec_id */
    char longid[400];
    memset(longid, 'x', 300);
    longid[300] = '\0';
    char target[512];
    snprintf(target, sizeof(target), "/admin/remove-executor?app_id=a&exec_id=%s", longid);
    EXPECT("POST", target, 400);
    ck_assert_int_eq(calls.apps + calls.execs, 0); /* no action ran for any of them */

    /* refused from the header alone (sending the body would race the server's close) */
    struct http_response r = http_raw_admin(
        "POST /admin/remove-application?app_id=a HTTP/1.0\r\nContent-Length: 6000\r\n\r\n");
    ck_assert_int_eq(r.status, 413);
    free(r.body);
    ck_assert_int_eq(calls.apps, 0);
}
END_TEST

START_TEST(no_service_answers_501)
{
    char err[256];
    struct admin_http *bare = admin_http_start(NULL, 0, NULL, NULL, err, sizeof(err));
    ck_assert_msg(bare != NULL, "%s", err);
    struct admin_http *saved = admin;
    admin = bare;
    EXPECT("POST", "/admin/remove-application?app_id=a", 501);
    EXPECT("POST", "/admin/remove-executor?app_id=a&exec_id=1", 501);
    admin = saved;
    admin_http_stop(bare);
}
END_TEST

START_TEST(busy_port_is_reported)
{
    char err[256] = "";
    struct admin_http *dup =
        admin_http_start("127.0.0.1", admin_http_port(admin), NULL, NULL, err, sizeof(err));
    ck_assert_ptr_null(dup);
    ck_assert_msg(strstr(err, "cannot listen on 127.0.0.1 port") != NULL, "%s", err);
    ck_assert_ptr_null(admin_http_start("127.0.0.1", 70000, NULL, NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "out of range"));
    admin_http_stop(NULL);
}
END_TEST

CHECK_MAIN((.suite = "admin_http", .name = "loopback", .setup = start, .teardown = stop),
           metrics_endpoint, healthz_follows_state, remove_application, remove_executor,
           bad_requests_are_4xx, no_service_answers_501, busy_port_is_reported)
