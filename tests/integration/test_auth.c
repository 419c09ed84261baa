/* SPDX-License-Identifier: Apache-2.0 */
/* spark.authenticate, server side, against the real shuffled on 127.0.0.1: a hand-made
 * Java-style DIGEST-MD5 exchange (protocol.md 12.2) is accepted with the spec's rspauth and RPCs then
 * reach the block handler under app isolation (protocol.md 9.1); a wrong secret, garbage or oversized
 * tokens get Java's RpcFailure and a closed connection; RPCs, OneWayMessage and UploadStream
 * before authentication get protocol.md 12.1's treatment; another app's connection cannot read a
 * stream; `shuffled -t` rejects bad secret files and dirs. */
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
#include "auth_fixture.h"
#include "client_util.h"
#include "proto/blockmsg.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "tclient.h"

START_TEST(java_style_handshake_accepted_then_rpcs_reach_the_handler)
{
    int fd = tc_connect(authd.port);
    ck_assert_int_ge(fd, 0);
    char err[512];
    ck_assert_int_eq(java_auth(fd, "app-1", SECRET, err, sizeof err), 0);
    char *out = NULL;
    struct blockmsg reg = register_msg("app-1");
    ck_assert_msg(rpc_msg(fd, &reg, &out) == 0, "%s", out);
    free(out);
    struct blockmsg other = register_msg("app-2");
    ck_assert_int_eq(rpc_msg(fd, &other, &out), 1);
    ck_assert_str_eq(out, "java.lang.SecurityException: Client for app-1 not authorized for "
                          "application app-2.");
    free(out);
    close(fd);
}
END_TEST

START_TEST(wrong_secret_refused_and_closed)
{
    java_auth_refused(authd.port, "app-1", "not-the-secret");
}
END_TEST

START_TEST(garbage_tokens_refused_and_closed)
{
    static char big[70001];
    memset(big, 'A', sizeof big - 1);
    const char *c2s[] = {big, "realm=\"default\",nonce=\"x\"", "\xff\xfe,,,=\"\"\""};
    for (int k = 0; k < 3; k++) {
        int fd = tc_connect(authd.port);
        char *out = NULL;
        ck_assert_int_eq(sasl_rpc(fd, "app-1", NULL, &out), 0);
        free(out);
        ck_assert_int_eq(sasl_rpc(fd, "app-1", c2s[k], &out), 1);
        ck_assert_msg(!strncmp(out,
                               "java.lang.RuntimeException: javax.security.sasl.SaslException: "
                               "DIGEST-MD5: ",
                               strlen("java.lang.RuntimeException: javax.security.sasl."
                                      "SaslException: DIGEST-MD5: ")),
                      "%s", out);
        free(out);
        ck_assert(tc_wait_closed(fd));
        close(fd);
    }
    /* an initial token where DIGEST-MD5 has none: answered (either way), daemon alive */
    int fd = tc_connect(authd.port);
    char *out = NULL;
    ck_assert_int_ge(sasl_rpc(fd, "app-1", "junk", &out), 0);
    free(out);
    close(fd);
    fd = tc_connect(authd.port);
    char err[512];
    ck_assert_int_eq(java_auth(fd, "app-1", SECRET, err, sizeof err), 0);
    close(fd);
}
END_TEST

START_TEST(before_auth_rpcs_oneway_and_upload_stream)
{
    int fd = tc_connect(authd.port);
    char *out = NULL;
    struct blockmsg reg = register_msg("app-1");
    ck_assert_int_eq(rpc_msg(fd, &reg, &out), 1); /* never reaches the block handler */
    ck_assert_str_eq(out, NOT_SASL);
    free(out);
    struct proto_msg ow = {.type = PROTO_ONE_WAY_MESSAGE};
    uint8_t junk[] = {2, 0, 0, 0, 0};
    ow.u.one_way.body = (struct proto_view){junk, sizeof junk};
    ck_assert_int_eq(tc_send_msg(fd, &ow), 0); /* dropped, no answer */
    /* the connection stays open: a client may still switch to SASL (saslFallback) */
    char err[512];
    ck_assert_int_eq(java_auth(fd, "app-1", SECRET, err, sizeof err), 0);
    close(fd);

    fd = tc_connect(authd.port);
    struct proto_msg up = {.type = PROTO_UPLOAD_STREAM};
    up.u.upload_stream.request_id = 77;
    up.u.upload_stream.meta = (struct proto_view){junk, sizeof junk};
    up.u.upload_stream.body_byte_count = 0;
    ck_assert_int_eq(tc_send_msg(fd, &up), 0);
    struct tc_resp r;
    ck_assert_int_eq(tc_recv(fd, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_RPC_FAILURE);
    ck_assert_int_eq(r.m.u.rpc_failure.request_id, 77);
    ck_assert_int_eq(
        r.m.u.rpc_failure.error.len,
        strlen("java.lang.SecurityException: Unauthenticated call to receiveStream()."));
    ck_assert(memcmp(r.m.u.rpc_failure.error.data,
                     "java.lang.SecurityException: Unauthenticated call to receiveStream().",
                     r.m.u.rpc_failure.error.len) == 0);
    tc_resp_free(&r);
    ck_assert(tc_wait_closed(fd));
    close(fd);
}
END_TEST

START_TEST(chunk_of_another_apps_stream_refused)
{
    int a = tc_connect(authd.port), b = tc_connect(authd.port);
    char err[512], *out = NULL;
    ck_assert_int_eq(java_auth(a, "app-1", SECRET, err, sizeof err), 0);
    ck_assert_int_eq(java_auth(b, "app-2", SECRET, err, sizeof err), 0);
    struct blockmsg reg = register_msg("app-1");
    ck_assert_int_eq(rpc_msg(a, &reg, &out), 0);
    free(out);
    struct proto_bytes bid = {(char *)ids[0], (uint32_t)strlen(ids[0])};
    struct blockmsg open = {.type = BLOCKMSG_OPEN_BLOCKS};
    open.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    open.u.open_blocks.exec_id = (struct proto_bytes){"1", 1};
    open.u.open_blocks.block_ids = (struct proto_string_array){&bid, 1};
    size_t n;
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &open);
    ck_assert_int_eq(tc_rpc(a, w.buf, w.len, (uint8_t **)&out, &n), 0);
    proto_writer_free(&w);
    struct blockmsg handle;
    char why[128];
    ck_assert_int_eq(blockmsg_decode((uint8_t *)out, n, &handle, why, sizeof why), 0);
    free(out);
    int64_t sid = handle.u.stream_handle.stream_id;
    blockmsg_free(&handle);
    /* app-2's connection cannot read it (streams are per connection here: unknown to it) */
    ck_assert_int_eq(tc_send_fetch(b, sid, 0), 0);
    struct tc_resp r;
    ck_assert_int_eq(tc_recv(b, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_CHUNK_FETCH_FAILURE);
    const char *want = "java.lang.IllegalArgumentException: Unknown stream ID.";
    ck_assert_uint_eq(r.m.u.chunk_fetch_failure.error.len, strlen(want));
    ck_assert(memcmp(r.m.u.chunk_fetch_failure.error.data, want, strlen(want)) == 0);
    tc_resp_free(&r);
    /* its owner can */
    ck_assert_int_eq(tc_send_fetch(a, sid, 0), 0);
    ck_assert_int_eq(tc_recv(a, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_CHUNK_FETCH_SUCCESS);
    ck_assert_uint_eq(r.body_len, manifest_find(&man, ids[0])->size);
    tc_resp_free(&r);
    close(a);
    close(b);
}
END_TEST

START_TEST(config_check_rejects_bad_secret_files)
{
    char cfg[700], cmd[2048], out[4096];
    snprintf(cfg, sizeof cfg, "%s/check.json", tmp);
    FILE *f = fopen(cfg, "w");
    fprintf(f, "{\"auth_enabled\": true}\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s/shuffled -t -c %s 2>&1", builddir, cfg);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "key 'auth_enabled': needs auth_secret_file"), "%s", out);
    char open_path[600];
    snprintf(open_path, sizeof open_path, "%s/readable-secret", tmp);
    f = fopen(open_path, "w");
    fprintf(f, "x\n");
    fclose(f);
    chmod(open_path, 0640);
    f = fopen(cfg, "w");
    fprintf(f, "{\"auth_enabled\": true, \"auth_secret_file\": \"%s\"}\n", open_path);
    fclose(f);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "key 'auth_secret_file'") && strstr(out, "mode 0640") &&
                      strstr(out, "chmod 600"),
                  "%s", out);
    chmod(open_path, 0600);
    ck_assert_msg(harness_run(cmd, out, sizeof out) == 0, "%s", out);
    f = fopen(cfg, "w");
    fprintf(f,
            "{\"auth_enabled\": true, \"auth_secret_file\": \"%s\", \"auth_app_secrets_dir\": "
            "\"%s\"}\n",
            open_path, apps_dir);
    fclose(f);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "key 'auth_app_secrets_dir': cannot be combined"), "%s", out);
    f = fopen(cfg, "w");
    fprintf(f, "{\"auth_enabled\": true, \"auth_app_secrets_dir\": \"%s\"}\n", apps_dir);
    fclose(f);
    ck_assert_msg(harness_run(cmd, out, sizeof out) == 0, "%s", out);
    chmod(apps_dir, 0755);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "key 'auth_app_secrets_dir'") && strstr(out, "mode 0755"), "%s", out);
    chmod(apps_dir, 0750);
}
END_TEST

int main(void)
{
    return auth_fixture_main(
        &(struct check_case){.suite = "auth", .name = "auth", .timeout_s = 60},
        CHECK_TESTS(java_style_handshake_accepted_then_rpcs_reach_the_handler,
                    wrong_secret_refused_and_closed, before_auth_rpcs_oneway_and_upload_stream,
                    garbage_tokens_refused_and_closed, chunk_of_another_apps_stream_refused,
                    config_check_rejects_bad_secret_files));
}
