/* SPDX-License-Identifier: Apache-2.0 */
/* spark.authenticate with libshuffle and shuffle-fetch against the real shuffled: the right
 * secret fetches every block (both protocols); a wrong one fails every request with
 * SHUFFLE_EAUTH, unretried (fetch and registration); no auth against an auth daemon and auth
 * against a daemon without it are refused; an app authenticated as app-2 cannot
 * register/open/fetch/remove/list dirs for app-1 (protocol.md 9.1 texts); a silent server times the
 * handshake out; the client's digest-response is what a Java server accepts (protocol.md 12.2
 * transcript); per-app secret files bind each app id to its secret. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/sasl_digest.h"
#include "../harness/client.h"
#include "auth_fixture.h"
#include "client_util.h"
#include "proto/blockmsg.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "tclient.h"

/* ---- libshuffle ---- */

static shuffle_client *client(const char *app, const char *secret, bool old)
{
    struct shuffle_client_options o;
    harness_client_options(&o, 3, 20, 20000, old);
    o.auth_app_id = app;
    o.auth_secret = secret;
    return harness_client_with(&o);
}

/* The status; the error text in err. */
static int register_exec(shuffle_client *c, int port, const char *app, char *err, size_t errlen)
{
    int status = harness_register_executor(c, port, app, "1", (const char *const *)man.local_dirs,
                                           man.num_dirs, NULL);
    snprintf(err, errlen, "%s", status == SHUFFLE_OK ? "" : shuffle_last_error(c));
    return status;
}

static void fetch(shuffle_client *c, int port, const char *app, struct collector *col)
{
    collector_fetch(col, c, &man, "127.0.0.1", port, app, "1", ids, nids, NULL);
    collector_wait(col);
}

START_TEST(right_secret_fetches_every_block)
{
    shuffle_client *c = client("app-1", SECRET, _i == 1);
    char err[1024];
    ck_assert_msg(register_exec(c, authd.port, "app-1", err, sizeof err) == SHUFFLE_OK, "%s", err);
    struct collector col;
    fetch(c, authd.port, "app-1", &col);
    for (size_t i = 0; i < col.n; i++) {
        ck_assert_msg(col.count[i] == 1 && col.status[i] == SHUFFLE_OK, "%s: %s", ids[i],
                      col.error[i]);
        ck_assert_msg(col.verified[i], "%s: bytes differ", ids[i]);
    }
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(wrong_secret_fails_every_request_unretried)
{
    shuffle_client *c = client("app-1", "not-the-secret", false);
    char err[1024];
    ck_assert_int_eq(register_exec(c, authd.port, "app-1", err, sizeof err), SHUFFLE_EAUTH);
    ck_assert_msg(strstr(err, MISMATCH) && strstr(err, "(attempt 1 of"), "%s", err);
    struct collector col;
    fetch(c, authd.port, "app-1", &col);
    collector_assert_all_failed(&col, SHUFFLE_EAUTH, MISMATCH);
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(client_without_auth_is_refused)
{
    shuffle_client *c = client(NULL, NULL, false);
    char err[1024];
    ck_assert_int_eq(register_exec(c, authd.port, "app-1", err, sizeof err), SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, NOT_SASL), "%s", err);
    shuffle_client_free(c);
}
END_TEST

START_TEST(client_with_auth_against_a_daemon_without)
{
    shuffle_client *c = client("app-1", SECRET, false);
    char err[1024];
    ck_assert_int_eq(register_exec(c, plaind.port, "app-1", err, sizeof err), SHUFFLE_EAUTH);
    ck_assert_msg(strstr(err, "Unknown message type: -22"), "%s", err);
    shuffle_client_free(c);
}
END_TEST

/* GetLocalDirsForExecutors for app-1's executor "1"; the status, error text in err. */
static int get_local_dirs(shuffle_client *c, int port, char *err, size_t errlen)
{
    const char *execs[] = {"1"};
    struct local_dirs_answer a;
    local_dirs_get(c, port, "app-1", execs, 1, &a);
    snprintf(err, errlen, "%s", a.err);
    return a.status;
}

START_TEST(app_isolation)
{
    shuffle_client *owner = client("app-1", SECRET, false);
    char err[1024];
    ck_assert_msg(register_exec(owner, authd.port, "app-1", err, sizeof err) == SHUFFLE_OK, "%s",
                  err);
    shuffle_client_free(owner);
    const char *deny =
        "java.lang.SecurityException: Client for app-2 not authorized for application app-1.";
    shuffle_client *c = client("app-2", SECRET, _i == 1); /* the shared secret: any app id */
    ck_assert_int_eq(register_exec(c, authd.port, "app-1", err, sizeof err), SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, deny), "%s", err);
    struct collector col;
    fetch(c, authd.port, "app-1", &col); /* OpenBlocks or FetchShuffleBlocks */
    collector_assert_all_failed(&col, SHUFFLE_ESERVER, deny);
    collector_free(&col);
    int removed = -1;
    ck_assert_int_eq(
        shuffle_remove_blocks_sync(c, "127.0.0.1", authd.port, "app-1", "1", ids, 1, &removed),
        SHUFFLE_ESERVER);
    ck_assert_msg(strstr(shuffle_last_error(c), deny), "%s", shuffle_last_error(c));
    ck_assert_int_eq(get_local_dirs(c, authd.port, err, sizeof err), SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, deny), "%s", err);
    shuffle_client_free(c);
}
END_TEST

START_TEST(handshake_timeout_fails_the_waiting_requests)
{
    /* a listener that never answers: the TCP connect succeeds, the SASL reply never comes */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(ls, 8), 0);
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.max_retries = 0;
    o.auth_app_id = "app-1";
    o.auth_secret = SECRET;
    o.auth_timeout_ms = 200;
    shuffle_client *c = harness_client_with(&o);
    struct collector col;
    fetch(c, ntohs(sa.sin_port), "app-1", &col);
    collector_assert_all_failed(&col, SHUFFLE_EIO, "timed out (200 ms)");
    collector_free(&col);
    shuffle_client_free(c);
    close(ls);
}
END_TEST

/* ---- libshuffle against a server that checks like Java's DigestMD5Server ---- */

/* key's value in a digest-response (quoted or not); "" if absent. */
static void kv(const char *s, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    out[0] = 0;
    for (const char *p = s; *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            p += kl + 1;
            bool q = *p == '"';
            p += q;
            size_t n = q ? strcspn(p, "\"") : strcspn(p, ",");
            snprintf(out, outlen, "%.*s", (int)n, p);
            return;
        }
        const char *c = strchr(p, ',');
        if (!c)
            break;
        p = c + 1;
    }
}

struct java_server {
    int ls;
    char why[512]; /* empty when the client did everything a Java server expects */
};

static bool answer(int fd, int64_t id, const char *body)
{
    struct proto_msg m = {.type = PROTO_RPC_RESPONSE};
    m.u.rpc.request_id = id;
    m.u.rpc.body = (struct proto_view){(const uint8_t *)body, (uint32_t)strlen(body)};
    return tc_send_msg(fd, &m) == 0;
}

static void *java_server_main(void *arg)
{
    struct java_server *js = arg;
    /* the spec's S1 from a real Java server (it offers auth-conf too, and ciphers) */
    const char *nonce = "3XEvJlzN2LVv9jaTtdwZddl0/pDLbXnWGodRJ+Sz";
    char s1[512];
    snprintf(s1, sizeof s1,
             "realm=\"default\",nonce=\"%s\",qop=\"auth-conf,auth\",charset=utf-8,"
             "cipher=\"3des,rc4,des,rc4-56,rc4-40\",algorithm=md5-sess",
             nonce);
    int fd = accept(js->ls, NULL, NULL);
    struct tc_resp r = {0};
    struct saslmsg m;
    char err[160], c2[2048], f[8][256];
    snprintf(js->why, sizeof js->why, "no connection");
    if (fd < 0 || tc_recv(fd, &r) != 0 || r.m.type != PROTO_RPC_REQUEST)
        goto out;
    snprintf(js->why, sizeof js->why, "C1 is not SaslMessage(app-9, empty token)");
    if (saslmsg_decode(r.m.u.rpc.body.data, r.m.u.rpc.body.len, &m, err, sizeof err) != 0 ||
        m.app_id_len != 5 || memcmp(m.app_id, "app-9", 5) != 0 || m.token_len != 0 ||
        !answer(fd, r.m.u.rpc.request_id, s1))
        goto out;
    tc_resp_free(&r);
    snprintf(js->why, sizeof js->why, "no C2");
    if (tc_recv(fd, &r) != 0 || r.m.type != PROTO_RPC_REQUEST ||
        saslmsg_decode(r.m.u.rpc.body.data, r.m.u.rpc.body.len, &m, err, sizeof err) != 0)
        goto out;
    snprintf(c2, sizeof c2, "%.*s", (int)m.token_len, (const char *)m.token);
    const char *keys[8] = {"username", "realm",      "nonce", "cnonce",
                           "nc",       "digest-uri", "qop",   "response"};
    for (int i = 0; i < 8; i++)
        kv(c2, keys[i], f[i], sizeof f[i]);
    char want[33], rspauth[33], s2[64];
    digest_md5(SASL_SPARK_USER, "default", "czNjcjN0", nonce, f[3], f[4], "null/default", 0, want);
    digest_md5(SASL_SPARK_USER, "default", "czNjcjN0", nonce, f[3], f[4], "null/default", 1,
               rspauth);
    snprintf(js->why, sizeof js->why, "C2 is not what a Java server accepts: %.400s", c2);
    if (strcmp(f[0], SASL_SPARK_USER) || strcmp(f[1], "default") || strcmp(f[2], nonce) ||
        strcmp(f[5], "null/default") || strcmp(f[6], "auth") || strcmp(f[7], want) ||
        strstr(c2, "authzid"))
        goto out;
    snprintf(s2, sizeof s2, "rspauth=%s", rspauth);
    if (!answer(fd, r.m.u.rpc.request_id, s2))
        goto out;
    tc_resp_free(&r);
    snprintf(js->why, sizeof js->why, "the queued RegisterExecutor did not follow");
    if (tc_recv(fd, &r) != 0 || r.m.type != PROTO_RPC_REQUEST || r.m.u.rpc.body.len == 0 ||
        r.m.u.rpc.body.data[0] != BLOCKMSG_REGISTER_EXECUTOR ||
        !answer(fd, r.m.u.rpc.request_id, ""))
        goto out;
    js->why[0] = 0;
out:
    tc_resp_free(&r);
    if (fd >= 0)
        close(fd);
    return NULL;
}

START_TEST(client_speaks_what_a_java_server_checks)
{
    struct java_server js = {.ls = socket(AF_INET, SOCK_STREAM, 0)};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(js.ls, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(js.ls, 8), 0);
    socklen_t sl = sizeof sa;
    getsockname(js.ls, (struct sockaddr *)&sa, &sl);
    pthread_t th;
    pthread_create(&th, NULL, java_server_main, &js);
    shuffle_client *c = client("app-9", "s3cr3t", false);
    char err[1024];
    int st = register_exec(c, ntohs(sa.sin_port), "app-9", err, sizeof err);
    pthread_join(th, NULL);
    shuffle_client_free(c);
    close(js.ls);
    ck_assert_msg(js.why[0] == 0, "%s", js.why);
    ck_assert_msg(st == SHUFFLE_OK, "%s", err);
}
END_TEST

START_TEST(per_app_secrets_bind_app_ids)
{
    char err[1024];
    shuffle_client *c = client("app-1", "secret-one", false);
    ck_assert_msg(register_exec(c, appd.port, "app-1", err, sizeof err) == SHUFFLE_OK, "%s", err);
    struct collector col;
    fetch(c, appd.port, "app-1", &col);
    for (size_t i = 0; i < col.n; i++)
        ck_assert_msg(col.status[i] == SHUFFLE_OK && col.verified[i], "%s: %s", ids[i],
                      col.error[i]);
    collector_free(&col);
    shuffle_client_free(c);
    /* another app's secret, an app without a secret file */
    const char *pairs[][2] = {{"app-1", "secret-two"}, {"app-3", "secret-one"}};
    for (int k = 0; k < 2; k++) {
        c = client(pairs[k][0], pairs[k][1], false);
        int st = register_exec(c, appd.port, pairs[k][0], err, sizeof err);
        ck_assert_msg(st == SHUFFLE_EAUTH, "%s: %s", pairs[k][0], err);
        ck_assert_msg(strstr(err, MISMATCH), "%s", err);
        shuffle_client_free(c);
    }
    /* app-2, authenticated with its own secret, still cannot act for app-1 */
    c = client("app-2", "secret-two", false);
    ck_assert_int_eq(register_exec(c, appd.port, "app-1", err, sizeof err), SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, "Client for app-2 not authorized for application app-1."), "%s", err);
    shuffle_client_free(c);
    /* an app id that is no file name reads no file */
    java_auth_refused(appd.port, "../app-secrets/app-1", "secret-one");
}
END_TEST

START_TEST(shuffle_fetch_with_secret_file)
{
    char cmd[4096], out[8192], mpath[700];
    snprintf(mpath, sizeof mpath, "%s/manifest.tsv", data_root);
    snprintf(cmd, sizeof cmd,
             "%s/src/tools/shuffle-fetch -q --register --retry-wait 10 --verify %s -o %s/out "
             "--auth-secret-file %s 127.0.0.1:%d app-1 1 2>&1",
             builddir, mpath, tmp, secret_path, authd.port);
    ck_assert_msg(harness_run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd,
             "%s/src/tools/shuffle-fetch -q --retry-wait 10 --verify %s -o %s/out2 "
             "--auth-secret-file %s 127.0.0.1:%d app-1 1 2>&1",
             builddir, mpath, tmp, bad_path, authd.port);
    ck_assert_int_ne(harness_run(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "Mismatched response."), "%s", out);
}
END_TEST

int main(void)
{
    return auth_fixture_main(
        &(struct check_case){.suite = "auth_client",
                             .name = "auth_client",
                             .timeout_s = 60,
                             .loops = 2,
                             .looped = {right_secret_fetches_every_block, app_isolation}},
        CHECK_TESTS(right_secret_fetches_every_block, wrong_secret_fails_every_request_unretried,
                    client_without_auth_is_refused, client_with_auth_against_a_daemon_without,
                    app_isolation, shuffle_fetch_with_secret_file,
                    client_speaks_what_a_java_server_checks,
                    handshake_timeout_fails_the_waiting_requests, per_app_secrets_bind_app_ids));
}
