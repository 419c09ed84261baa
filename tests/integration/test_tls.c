/* SPDX-License-Identifier: Apache-2.0 */
/* TLS in the daemon (spark.ssl.rpc, docs/tls.md): the real shuffled with certificates made
 * at test time. openssl s_client completes a handshake and refuses what it must; client
 * certificates are required when configured; SIGHUP rotates the certificate for new
 * connections while old ones go on; a plain client is refused on a TLS port, and a TLS port
 * beside a plain one serves both; the handshake is bounded in time and in memory. */
#include <config.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check_main.h"
#include "../harness/locate.h"
#include "../harness/port.h"
#include "../harness/process.h"
#include "../harness/wait.h"
#include "proto/message.h"
#include "tclient.h"
#include "tls_fixture.h"

static struct harness_daemon d;

static void stop(void)
{
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}

/* The daemon's log holds text. */
static bool log_has(const char *text)
{
    char *log = harness_daemon_log(&d);
    bool found = log && strstr(log, text);
    free(log);
    return found;
}

struct log_wait {
    const char *text;
};

static bool log_shows(void *arg)
{
    return log_has(((struct log_wait *)arg)->text);
}

static void wait_log(const char *text)
{
    struct log_wait w = {text};
    ck_assert_msg(harness_wait_until(log_shows, &w, 10000, 20), "the log never said '%s'", text);
}

/* openssl s_client against the daemon trusting ca.pem and expecting host localhost: its exit
 * status, its output in out. */
static int s_client(int port, const char *extra, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "openssl s_client -connect 127.0.0.1:%d -CAfile %s -verify_hostname localhost "
             "-verify_return_error %s </dev/null 2>&1",
             port, tls_cert_path("ca.pem"), extra ? extra : "");
    return harness_run(cmd, out, outlen);
}

START_TEST(test_s_client_handshake)
{
    ck_assert_int_eq(tls_daemon_start(&d, "server", NULL), 0);
    char out[16384];
    ck_assert_int_eq(s_client(d.port, NULL, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "Verification: OK"), "%s", out);
    ck_assert_msg(strstr(out, "TLSv1.3"), "%s", out);
    /* Spark 4.0's client offers only TLS 1.3 with these suites: each is accepted */
    const char *suites[] = {"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
                            "TLS_AES_256_GCM_SHA384"};
    for (size_t i = 0; i < sizeof suites / sizeof *suites; i++) {
        char extra[128];
        snprintf(extra, sizeof extra, "-tls1_3 -ciphersuites %s", suites[i]);
        ck_assert_int_eq(s_client(d.port, extra, out, sizeof out), 0);
        ck_assert_msg(strstr(out, suites[i]), "%s", out);
    }
    /* and TLS 1.2 by default (tls_protocols) */
    ck_assert_int_eq(s_client(d.port, "-tls1_2", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "TLSv1.2"), "%s", out);
    stop();
}
END_TEST

/* A server certificate a client must refuse, and s_client's reason. */
static const struct {
    const char *cert, *reason;
} refused[] = {
    {"other-server", "unable to get local issuer certificate"},
    {"wronghost", "hostname mismatch"},
    {"expired", "certificate has expired"},
};

START_TEST(test_s_client_refuses_bad_server_certificates)
{
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        ck_assert_int_eq(tls_daemon_start(&d, refused[i].cert, NULL), 0);
        char out[16384];
        ck_assert_int_ne(s_client(d.port, NULL, out, sizeof out), 0);
        ck_assert_msg(strstr(out, refused[i].reason), "%s: %s", refused[i].cert, out);
        stop();
    }
}
END_TEST

START_TEST(test_protocols_and_ciphers_configured)
{
    ck_assert_int_eq(tls_daemon_start(&d, "server",
                                      "\"tls_protocols\": \"TLSv1.3\", "
                                      "\"tls_ciphers\": \"TLS_AES_128_GCM_SHA256\""),
                     0);
    char out[16384];
    ck_assert_int_ne(s_client(d.port, "-tls1_2", out, sizeof out), 0);
    ck_assert_int_eq(s_client(d.port, NULL, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "TLS_AES_128_GCM_SHA256"), "%s", out);
    stop();
}
END_TEST

START_TEST(test_encrypted_key_with_password_file)
{
    char extra[1400];
    snprintf(extra, sizeof extra,
             "\"tls_cert_file\": \"%s\", \"tls_key_file\": \"%s\", "
             "\"tls_key_password_file\": \"%s\"",
             tls_cert_path("server.pem"), tls_cert_path("enc.key"), tls_cert_path("enc.pass"));
    ck_assert_int_eq(tls_daemon_start(&d, NULL, extra), 0);
    char why[512];
    SSL *ssl = tls_client_connect(d.port, tls_cert_path("ca.pem"), NULL, why, sizeof why);
    ck_assert_msg(ssl, "%s", why);
    ck_assert_int_eq(tls_client_probe(ssl), PROTO_RPC_FAILURE);
    tls_client_close(ssl);
    stop();
}
END_TEST

/* Connects with client certificate cert (NULL: none): true when an RPC was answered. */
static bool answered_with(const char *cert)
{
    char why[512];
    SSL *ssl = tls_client_connect(d.port, tls_cert_path("ca.pem"), cert, why, sizeof why);
    /* TLS 1.3: the server checks the client's certificate after the client's handshake
     * ended, so a refusal shows on the first read */
    bool ok = ssl && tls_client_probe(ssl) == PROTO_RPC_FAILURE;
    tls_client_close(ssl);
    return ok;
}

START_TEST(test_client_certificate_required)
{
    char extra[800];
    snprintf(extra, sizeof extra, "\"tls_ca_file\": \"%s\", \"tls_require_client_cert\": true",
             tls_cert_path("ca.pem"));
    ck_assert_int_eq(tls_daemon_start(&d, "server", extra), 0);
    ck_assert(answered_with("client"));
    ck_assert(!answered_with(NULL));
    wait_log("TLS handshake refused");
    wait_log("peer did not return a certificate");
    ck_assert(!answered_with("other-client"));
    wait_log("certificate verify failed");
    stop();
}
END_TEST

struct cn_wait {
    int port;
    const char *want;
};

static bool new_connection_sees(void *arg)
{
    struct cn_wait *w = arg;
    char why[512], cn[128] = "";
    SSL *ssl = tls_client_connect(w->port, tls_cert_path("ca.pem"), NULL, why, sizeof why);
    if (ssl)
        tls_client_peer_cn(ssl, cn, sizeof cn);
    tls_client_close(ssl);
    return strcmp(cn, w->want) == 0;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[1400], out[64];
    snprintf(cmd, sizeof cmd, "cp %s %s.new && mv %s.new %s", from, to, to, to);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 0);
}

START_TEST(test_sighup_rotates_certificate_keeping_connections)
{
    char extra[1400];
    snprintf(extra, sizeof extra, "\"tls_cert_file\": \"%s\", \"tls_key_file\": \"%s\"",
             tls_cert_path("live.pem"), tls_cert_path("live.key"));
    copy_file(tls_cert_path("server.pem"), tls_cert_path("live.pem"));
    copy_file(tls_cert_path("server.key"), tls_cert_path("live.key"));
    ck_assert_int_eq(tls_daemon_start(&d, NULL, extra), 0);
    char why[512], cn[128];
    SSL *old = tls_client_connect(d.port, tls_cert_path("ca.pem"), NULL, why, sizeof why);
    ck_assert_msg(old, "%s", why);
    ck_assert_int_eq(tls_client_probe(old), PROTO_RPC_FAILURE);
    ck_assert_str_eq(tls_client_peer_cn(old, cn, sizeof cn), "localhost");

    copy_file(tls_cert_path("rotated.pem"), tls_cert_path("live.pem"));
    copy_file(tls_cert_path("rotated.key"), tls_cert_path("live.key"));
    ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
    struct cn_wait w = {d.port, "localhost-rotated"};
    ck_assert(harness_wait_until(new_connection_sees, &w, 10000, 50));
    SSL *fresh = tls_client_connect(d.port, tls_cert_path("ca.pem"), NULL, why, sizeof why);
    ck_assert_msg(fresh, "%s", why);
    ck_assert_int_eq(tls_client_probe(fresh), PROTO_RPC_FAILURE);
    /* the connection made before the rotation is still served, on its old certificate */
    ck_assert_int_eq(tls_client_probe(old), PROTO_RPC_FAILURE);
    ck_assert_str_eq(tls_client_peer_cn(old, cn, sizeof cn), "localhost");
    tls_client_close(old);
    tls_client_close(fresh);

    /* a broken certificate file is refused and the running one stays */
    char out[64];
    snprintf(why, sizeof why, "echo broken > %s", tls_cert_path("live.pem"));
    ck_assert_int_eq(harness_run(why, out, sizeof out), 0);
    ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
    wait_log("reload rejected");
    ck_assert(new_connection_sees(&w));
    stop();
}
END_TEST

/* A plain Spark frame sent to a TLS port: no answer, the connection is closed. */
static void plain_refused(int port)
{
    int fd = tc_connect(port);
    ck_assert_int_ge(fd, 0);
    static const uint8_t unknown_message[] = {99};
    ck_assert_int_eq(tc_send_rpc(fd, 1, unknown_message, sizeof unknown_message), 0);
    uint8_t byte;
    ssize_t n = read(fd, &byte, 1);
    /* at most a TLS alert record (content type 21), never a frame */
    ck_assert(n <= 0 || byte == 21);
    ck_assert(tc_wait_closed(fd));
    close(fd);
}

START_TEST(test_plain_client_refused_on_tls_port)
{
    ck_assert_int_eq(tls_daemon_start(&d, "server", NULL), 0);
    plain_refused(d.port);
    wait_log("TLS handshake refused");
    stop();
}
END_TEST

START_TEST(test_tls_port_beside_plain)
{
    int tls_port = harness_free_port();
    char json[1400];
    snprintf(json, sizeof json,
             "\"tls_port\": %d, \"tls_cert_file\": \"%s\", \"tls_key_file\": \"%s\"", tls_port,
             tls_cert_path("server.pem"), tls_cert_path("server.key"));
    struct harness_daemon_opts o = {.extra_json = json};
    ck_assert_int_eq(harness_daemon_start(&d, &o), 0);
    int fd = tc_connect(d.port);
    static const uint8_t unknown_message[] = {99};
    uint8_t *out = NULL;
    size_t outlen = 0;
    ck_assert_int_eq(tc_rpc(fd, unknown_message, sizeof unknown_message, &out, &outlen), 1);
    free(out);
    close(fd);
    char why[512];
    SSL *ssl = tls_client_connect(tls_port, tls_cert_path("ca.pem"), NULL, why, sizeof why);
    ck_assert_msg(ssl, "%s", why);
    ck_assert_int_eq(tls_client_probe(ssl), PROTO_RPC_FAILURE);
    tls_client_close(ssl);
    plain_refused(tls_port);
    stop();
}
END_TEST

START_TEST(test_handshake_timeout)
{
    ck_assert_int_eq(tls_daemon_start(&d, "server", "\"handshake_timeout_ms\": 300"), 0);
    int fd = tc_connect(d.port);
    ck_assert_int_ge(fd, 0);
    ck_assert(tc_wait_closed(fd));
    close(fd);
    wait_log("TLS handshake not completed within handshake_timeout_ms");
    stop();
}
END_TEST

/* Connections that began a handshake hold OpenSSL's record buffers: they count against
 * max_input_bytes, so a flood of half-open handshakes is shed like any other input. */
START_TEST(test_handshake_buffers_count_against_input_budget)
{
    ck_assert_int_eq(
        tls_daemon_start(&d, "server", "\"max_input_bytes\": 65536, \"io_threads\": 1"), 0);
    /* a TLS handshake record header announcing 512 bytes, and nothing after it */
    static const uint8_t record_start[] = {0x16, 0x03, 0x01, 0x02, 0x00};
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = tc_connect(d.port);
        ck_assert_int_ge(fds[i], 0);
        ck_assert_int_eq(tc_send_all(fds[i], record_start, sizeof record_start), 0);
        harness_sleep_ms(100);
    }
    wait_log("max_input_bytes");
    int closed = 0;
    for (int i = 0; i < 3; i++) {
        closed += tc_wait_closed(fds[i]);
        close(fds[i]);
    }
    ck_assert_int_ge(closed, 1);
    stop();
}
END_TEST

/* Spark 4.0's own ClientHello (../vectors-40/tls, connection 0, its first record) replayed to
 * the daemon: it answers with a TLS 1.3 ServerHello choosing one of the three suites offered. */
START_TEST(test_spark_client_hello_vector)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/vectors-40/tls/c2s.bin", harness_shared_dir());
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("SKIP test_spark_client_hello_vector: %s is absent\n", path);
        return;
    }
    uint8_t hello[5 + 318];
    ck_assert_uint_eq(fread(hello, 1, sizeof hello, f), sizeof hello);
    fclose(f);
    ck_assert_int_eq(hello[0], 22); /* Handshake */
    ck_assert_int_eq(hello[3] << 8 | hello[4], 318);
    ck_assert_int_eq(tls_daemon_start(&d, "server", NULL), 0);
    int fd = tc_connect(d.port);
    ck_assert_int_eq(tc_send_all(fd, hello, sizeof hello), 0);
    uint8_t head[5], body[512];
    ck_assert_int_eq(tc_read_exact(fd, head, sizeof head), 0);
    ck_assert_int_eq(head[0], 22);
    size_t len = (size_t)(head[3] << 8 | head[4]);
    ck_assert_uint_le(len, sizeof body);
    ck_assert_int_eq(tc_read_exact(fd, body, len), 0);
    ck_assert_int_eq(body[0], 2); /* ServerHello */
    size_t at = 4 + 2 + 32;       /* type and length, legacy_version, random */
    at += 1 + body[at];           /* legacy_session_id_echo */
    unsigned suite = (unsigned)(body[at] << 8 | body[at + 1]);
    ck_assert_msg(suite == 0x1301 || suite == 0x1302 || suite == 0x1303, "suite %04x", suite);
    static const uint8_t tls13_selected[] = {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};
    ck_assert(memmem(body, len, tls13_selected, sizeof tls13_selected) != NULL);
    close(fd);
    stop();
}
END_TEST

static int run(void)
{
    return check_main(
        &(struct check_case){.suite = "tls", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(test_s_client_handshake, test_s_client_refuses_bad_server_certificates,
                    test_protocols_and_ciphers_configured, test_encrypted_key_with_password_file,
                    test_client_certificate_required,
                    test_sighup_rotates_certificate_keeping_connections,
                    test_plain_client_refused_on_tls_port, test_tls_port_beside_plain,
                    test_handshake_timeout, test_handshake_buffers_count_against_input_budget,
                    test_spark_client_hello_vector));
}

int main(void)
{
    if (tls_certs_make() != 0) {
        fprintf(stderr, "cannot make the test certificates (openssl CLI)\n");
        return 1;
    }
    return run();
}
