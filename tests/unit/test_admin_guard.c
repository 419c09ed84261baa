/* SPDX-License-Identifier: Apache-2.0 */
/* The guard of the admin actions (admin_http.h): which addresses count as loopback; with a
 * token, no action runs without "Authorization: Bearer <token>" (401), prefixes, extensions and
 * other schemes included; without one, a non-loopback endpoint answers 403 naming
 * admin_token_file and runs nothing; /metrics and /healthz are open either way. */
#include <config.h>

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "server/ops/admin_http.h"
#include "../check_main.h"

static int actions_run;

static int remove_app(void *ctx, const char *app_id, bool cleanup, char *msg, size_t msglen)
{
    actions_run++;
    return 0;
}

static int remove_exec(void *ctx, const char *app_id, const char *exec_id, char *msg, size_t msglen)
{
    actions_run++;
    return 0;
}

static const struct admin_actions acts = {NULL, remove_app, remove_exec, NULL, NULL};

START_TEST(loopback_addresses)
{
    const char *yes[] = {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"};
    const char *no[] = {"0.0.0.0",   "::",        "10.0.0.1", "::ffff:10.0.0.1",
                        "128.0.0.1", "localhost", ""};
    for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
        ck_assert_msg(admin_addr_is_loopback(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
        ck_assert_msg(!admin_addr_is_loopback(no[i]), "%s", no[i]);
}
END_TEST

static int post(int port, const char *target, const char *auth)
{
    char req[1024];
    snprintf(req, sizeof(req), "POST %s HTTP/1.0\r\nHost: x\r\n%s%s%sContent-Length: 0\r\n\r\n",
             target, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    struct http_response r = http_raw(port, req);
    if (r.status == 401)
        ck_assert_msg(strstr(r.head, "WWW-Authenticate: Bearer"), "%s", r.head);
    free(r.body);
    return r.status;
}

static int get(int port, const char *target)
{
    struct http_response r = http_request(port, "GET", target);
    free(r.body);
    return r.status;
}

START_TEST(token_required_for_actions)
{
    char err[256];
    struct admin_http *a = admin_http_start("127.0.0.1", 0, &acts, "s3cret", err, sizeof(err));
    ck_assert_msg(a != NULL, "%s", err);
    admin_http_set_health(a, ADMIN_SERVING);
    int port = admin_http_port(a);
    actions_run = 0;
    const char *app = "/admin/remove-application?app_id=a",
               *exec = "/admin/remove-executor?app_id=a&exec_id=1";
    const char *bad[] = {NULL,           "Bearer",         "Bearer ",
                         "Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET",
                         "Basic s3cret", "s3cret"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        ck_assert_int_eq(post(port, app, bad[i]), 401);
        ck_assert_int_eq(post(port, exec, bad[i]), 401);
    }
    ck_assert_int_eq(post(port, "/admin/nothing-here", NULL), 401); /* the whole prefix */
    ck_assert_int_eq(actions_run, 0);
    ck_assert_int_eq(get(port, "/metrics"), 200);
    ck_assert_int_eq(get(port, "/healthz"), 200);
    ck_assert_int_eq(post(port, app, "Bearer s3cret"), 200);
    ck_assert_int_eq(post(port, exec, "bearer s3cret"), 200); /* the scheme is case-insensitive */
    ck_assert_int_eq(actions_run, 2);
    admin_http_stop(a);
}
END_TEST

START_TEST(network_without_token_is_forbidden)
{
    char err[256];
    struct admin_http *a = admin_http_start("0.0.0.0", 0, &acts, NULL, err, sizeof(err));
    ck_assert_msg(a != NULL, "%s", err);
    admin_http_set_health(a, ADMIN_SERVING);
    int port = admin_http_port(a);
    actions_run = 0;
    struct http_response r = http_request(port, "POST", "/admin/remove-application?app_id=a");
    ck_assert_int_eq(r.status, 403);
    ck_assert_msg(strstr(r.body, "admin_token_file") && strstr(r.body, "0.0.0.0"), "%s", r.body);
    free(r.body);
    ck_assert_int_eq(post(port, "/admin/remove-executor?app_id=a&exec_id=1", "Bearer x"), 403);
    ck_assert_int_eq(actions_run, 0);
    ck_assert_int_eq(get(port, "/metrics"), 200);
    ck_assert_int_eq(get(port, "/healthz"), 200);
    admin_http_stop(a);
    /* the same on loopback: allowed */
    a = admin_http_start("127.0.0.1", 0, &acts, "", err, sizeof(err));
    ck_assert_msg(a != NULL, "%s", err);
    ck_assert_int_eq(post(admin_http_port(a), "/admin/remove-application?app_id=a", NULL), 200);
    ck_assert_int_eq(actions_run, 1);
    admin_http_stop(a);
}
END_TEST

CHECK_MAIN((.suite = "admin_guard", .name = "core"), loopback_addresses, token_required_for_actions,
           network_without_token_is_forbidden)
