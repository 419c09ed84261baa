/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC env across processes: `shuffle-rpc serve --demo-endpoints` in its own process on an
 * ephemeral loopback port, this test's env (and the shuffle-rpc tool) as the other side.
 * echo and counter; a missing endpoint; an ask timeout; the remote's error text; the server
 * killed with asks outstanding (they fail at once, not by timeout) and restarted on the same
 * port (the same reference works again); 10,000 asks in flight, the next one refused, the
 * server's memory bounded; the tool's exit statuses; SIGTERM stops the server cleanly;
 * endpoints requiring authentication (none, the right and a wrong secret). */
#include <config.h>

#include <check.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../check_main.h"
#include "../harness/fs.h"
#include "../harness/locate.h"
#include "../harness/process.h"
#include "../harness/wait.h"
#include "shuffle/client.h"
#include "shuffle/rpc.h"

struct server {
    pid_t pid;
    int port;
};

static bool port_file_written(void *arg)
{
    return harness_path_exists(arg);
}

/* Starts shuffle-rpc serve on port (0: any), with --auth-secret-file secret_file unless NULL
 * and then up to 4 more arguments (security options, or others without a secret;
 * NULL-terminated, or NULL), and waits until it listens. */
static struct server server_start_with(int port, const char *secret_file,
                                       const char *const *security)
{
    char tool[4096], port_file[4200], log[4200], port_arg[16];
    harness_build_path(tool, sizeof tool, "src/tools/shuffle-rpc");
    snprintf(port_file, sizeof port_file, "%s/port", harness_test_dir());
    snprintf(log, sizeof log, "%s/serve.log", harness_test_dir());
    snprintf(port_arg, sizeof port_arg, "%d", port);
    unlink(port_file);
    char *argv[] = {tool, "serve", "--port", port_arg, "--port-file", port_file, "--demo-endpoints",
                    NULL, NULL,    NULL,     NULL,     NULL,          NULL,      NULL,
                    NULL};
    int more = 7;
    if (secret_file) {
        argv[more++] = "--auth-secret-file";
        argv[more++] = (char *)secret_file;
    }
    for (int i = 0; security && security[i] && i < 4; i++)
        argv[more++] = (char *)security[i];
    struct server s = {.pid = harness_spawn(argv, log, NULL, NULL)};
    ck_assert_int_gt(s.pid, 0);
    ck_assert_msg(harness_wait_until(port_file_written, port_file, 10000, 5),
                  "shuffle-rpc serve did not write %s", port_file);
    size_t len;
    uint8_t *text = harness_read_file(port_file, &len);
    char digits[16] = ""; /* the file holds no NUL */
    memcpy(digits, text, len < sizeof digits - 1 ? len : sizeof digits - 1);
    s.port = atoi(digits);
    free(text);
    ck_assert_int_gt(s.port, 0);
    return s;
}

static struct server server_start_auth(int port, const char *secret_file)
{
    return server_start_with(port, secret_file, NULL);
}

static struct server server_start(int port)
{
    return server_start_auth(port, NULL);
}

static void server_stop(struct server *s)
{
    kill(s->pid, SIGTERM);
    ck_assert_int_eq(harness_reap(s->pid, 10000), 0); /* a clean exit, not a kill */
}

/* A client-only env; with secret, authenticating by SASL (crypto 0) or AES (crypto, cipher). */
static shuffle_rpc_env *client_env_crypto(int max_asks, const char *secret, int crypto, int cipher)
{
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    o.auth_secret = secret;
    o.crypto = crypto;
    o.crypto_cipher = cipher;
    o.auth_app_id = "app-rpc-test";
    o.connect_timeout_ms = 2000;
    if (max_asks)
        o.max_asks_in_flight = max_asks;
    shuffle_rpc_env *env;
    char err[256];
    ck_assert_msg(shuffle_rpc_env_new(&o, &env, err, sizeof err) == SHUFFLE_OK, "%s", err);
    return env;
}

static shuffle_rpc_env *client_env_auth(int max_asks, const char *secret)
{
    return client_env_crypto(max_asks, secret, SHUFFLE_CRYPTO_OFF, SHUFFLE_CIPHER_CTR);
}

static shuffle_rpc_env *client_env(int max_asks)
{
    return client_env_auth(max_asks, NULL);
}

static shuffle_rpc_ref *lookup(shuffle_rpc_env *env, int port, const char *name)
{
    shuffle_rpc_ref *ref;
    int status = shuffle_rpc_lookup(env, "127.0.0.1", port, name, 5000, &ref);
    ck_assert_msg(status == SHUFFLE_OK, "lookup %s: %s", name, shuffle_rpc_status_name(status));
    return ref;
}

/* The answer's text (status SHUFFLE_OK) or the error text; malloc'd. */
static char *ask(shuffle_rpc_ref *ref, const char *payload, int timeout_ms, int *status)
{
    uint8_t *reply;
    size_t len;
    char *error;
    *status = shuffle_rpc_ask_sync(ref, payload, strlen(payload), timeout_ms, &reply, &len, &error);
    return *status == SHUFFLE_OK ? (char *)reply : error;
}

START_TEST(two_processes_echo_counter_and_failures)
{
    struct server s = server_start(0);
    shuffle_rpc_env *env = client_env(0);
    shuffle_rpc_ref *echo = lookup(env, s.port, "echo"), *counter = lookup(env, s.port, "counter");
    int status;
    char *text = ask(echo, "across processes", 5000, &status);
    ck_assert_int_eq(status, SHUFFLE_OK);
    ck_assert_str_eq(text, "across processes");
    free(text);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(shuffle_rpc_send(counter, "+", 1), SHUFFLE_OK);
    text = ask(counter, "", 5000, &status); /* answered after the 1000 messages */
    ck_assert_str_eq(text, "1000");
    free(text);

    shuffle_rpc_ref *missing;
    ck_assert_int_eq(shuffle_rpc_lookup(env, "127.0.0.1", s.port, "nope", 5000, &missing),
                     SHUFFLE_RPC_ENOENDPOINT);
    shuffle_rpc_ref *slow = lookup(env, s.port, "slow"), *fail = lookup(env, s.port, "fail");
    uint64_t t0 = (uint64_t)time(NULL);
    text = ask(slow, "3000", 200, &status);
    ck_assert_int_eq(status, SHUFFLE_RPC_ETIMEDOUT);
    ck_assert_msg(strstr(text, "200 ms"), "%s", text);
    ck_assert_uint_le((uint64_t)time(NULL) - t0, 2);
    free(text);
    text = ask(fail, "on this input", 5000, &status);
    ck_assert_int_eq(status, SHUFFLE_RPC_EREMOTE);
    ck_assert_str_eq(text, "failing on purpose: on this input");
    free(text);

    shuffle_rpc_ref_free(echo);
    shuffle_rpc_ref_free(counter);
    shuffle_rpc_ref_free(slow);
    shuffle_rpc_ref_free(fail);
    shuffle_rpc_env_free(env);
    server_stop(&s);
}
END_TEST

/* Runs shuffle-rpc with args: its exit status; stdout and stderr in out. */
static int tool(char *out, size_t outlen, const char *args)
{
    char path[4096], cmd[8192];
    harness_build_path(path, sizeof path, "src/tools/shuffle-rpc");
    if (snprintf(cmd, sizeof cmd, "%s %s 2>&1", path, args) >= (int)sizeof cmd)
        return -1;
    return harness_run(cmd, out, outlen);
}

START_TEST(tool_exit_statuses)
{
    struct server s = server_start(0);
    char out[4096], args[256];
    snprintf(args, sizeof args, "ask 127.0.0.1:%d echo hello", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 0);
    ck_assert_str_eq(out, "hello\n");
    snprintf(args, sizeof args, "send 127.0.0.1:%d counter x", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 0);
    snprintf(args, sizeof args, "ask 127.0.0.1:%d counter ''", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 0);
    ck_assert_str_eq(out, "1\n"); /* the send was delivered before send exited */
    snprintf(args, sizeof args, "ask 127.0.0.1:%d nope x", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 3);
    ck_assert_msg(strstr(out, "ENOENDPOINT"), "%s", out);
    snprintf(args, sizeof args, "ask 127.0.0.1:%d slow 5000 --timeout 100", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 4);
    ck_assert_msg(strstr(out, "ETIMEDOUT"), "%s", out);
    snprintf(args, sizeof args, "ask 127.0.0.1:%d fail boom", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 5);
    ck_assert_msg(strstr(out, "failing on purpose: boom"), "%s", out);
    snprintf(args, sizeof args, "bench 127.0.0.1:%d --mode ask --seconds 1 --json", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 0);
    ck_assert_msg(strstr(out, "{\"mode\":\"ask\",\"msgs_per_s\":") && strstr(out, "\"p99_us\":"),
                  "%s", out);
    snprintf(args, sizeof args, "bench 127.0.0.1:%d --mode send --seconds 1 --json", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 0);
    ck_assert_msg(strstr(out, "{\"mode\":\"send\"") && strstr(out, "\"errors\":0"), "%s", out);
    server_stop(&s);
}
END_TEST

/* The bench's send step loses nothing when the counter's inbox fills (it holds 64 here, so
 * the server's loop outruns the dispatcher thread within the second): the server stops
 * reading instead of refusing, and the bench's closing asks wait for room. Before the read
 * back-pressure this reported the refused messages as errors (the step that flaked under
 * load with the default 65536). */
START_TEST(bench_send_loses_nothing_to_a_full_inbox)
{
    const char *small_inbox[] = {"--inbox-capacity", "64", NULL};
    struct server s = server_start_with(0, NULL, small_inbox);
    char out[4096], args[256];
    snprintf(args, sizeof args, "bench 127.0.0.1:%d --mode send --seconds 1 --json", s.port);
    ck_assert_int_eq(tool(out, sizeof out, args), 0);
    ck_assert_msg(strstr(out, "{\"mode\":\"send\"") && strstr(out, "\"errors\":0"), "%s", out);
    ck_assert_msg(!strstr(out, "\"messages\":0,"), "%s", out); /* some were counted */
    server_stop(&s);
}
END_TEST

struct tally {
    atomic_int ok, connlost, other;
};

static void count_answer(void *arg, int status, const char *error, const uint8_t *reply, size_t len)
{
    (void)error;
    (void)reply;
    (void)len;
    struct tally *t = arg;
    if (status == SHUFFLE_OK)
        atomic_fetch_add(&t->ok, 1);
    else if (status == SHUFFLE_RPC_ECONNLOST)
        atomic_fetch_add(&t->connlost, 1);
    else
        atomic_fetch_add(&t->other, 1);
}

static int all_answered_of;

static bool all_answered(void *arg)
{
    struct tally *t = arg;
    return atomic_load(&t->ok) + atomic_load(&t->connlost) + atomic_load(&t->other) ==
           all_answered_of;
}

START_TEST(peer_restart_mid_stream)
{
    struct server s = server_start(0);
    shuffle_rpc_env *env = client_env(0);
    shuffle_rpc_ref *slow = lookup(env, s.port, "slow"), *counter = lookup(env, s.port, "counter");
    struct tally t = {0};
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(shuffle_rpc_ask(slow, "5000", 4, 30000, count_answer, &t), SHUFFLE_OK);
    int status;
    char *text = ask(counter, "", 5000, &status); /* the 100 asks are at the server now */
    free(text);
    kill(s.pid, SIGKILL);
    harness_reap(s.pid, 5000);
    /* the asks outstanding on the lost connection fail now, long before their timeout */
    all_answered_of = 100;
    ck_assert(harness_wait_until(all_answered, &t, 5000, 5));
    ck_assert_int_eq(atomic_load(&t.connlost), 100);
    /* back on the same port: the same references work again, sends go through */
    s = server_start(s.port);
    bool delivered = false;
    for (int attempt = 0; attempt < 100 && !delivered; attempt++) {
        shuffle_rpc_send(counter, "+", 1);
        text = ask(counter, "", 5000, &status);
        delivered = status == SHUFFLE_OK && atoi(text) >= 1;
        free(text);
        if (!delivered)
            harness_sleep_ms(20);
    }
    ck_assert(delivered);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(shuffle_rpc_send(counter, "+", 1), SHUFFLE_OK);
    text = ask(counter, "", 5000, &status);
    ck_assert_int_eq(status, SHUFFLE_OK);
    ck_assert_int_ge(atoi(text), 11);
    free(text);
    shuffle_rpc_ref_free(slow);
    shuffle_rpc_ref_free(counter);
    shuffle_rpc_env_free(env);
    server_stop(&s);
}
END_TEST

/* The server's peak resident memory in KiB (VmHWM). */
static long peak_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

START_TEST(ten_thousand_asks_in_flight_bounded)
{
    struct server s = server_start(0);
    shuffle_rpc_env *env = client_env(10000);
    shuffle_rpc_ref *slow = lookup(env, s.port, "slow");
    struct tally t = {0};
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(shuffle_rpc_ask(slow, "1500", 4, 30000, count_answer, &t), SHUFFLE_OK);
    /* the bound: one more is refused at once */
    ck_assert_int_eq(shuffle_rpc_ask(slow, "1", 1, 30000, count_answer, &t), SHUFFLE_RPC_EOVERFLOW);
    struct shuffle_rpc_env_stats st;
    shuffle_rpc_env_stats(env, &st);
    ck_assert_uint_eq(st.asks_in_flight, 10000);
    all_answered_of = 10000;
    ck_assert(harness_wait_until(all_answered, &t, 30000, 10));
    ck_assert_int_eq(atomic_load(&t.ok), 10000);
    long kib = peak_rss_kib(s.pid);
    ck_assert_msg(kib > 0 && kib < 64 * 1024, "server peak RSS %ld KiB", kib);
    shuffle_rpc_env_stats(env, &st);
    ck_assert_uint_eq(st.asks_in_flight, 0);
    shuffle_rpc_ref_free(slow);
    shuffle_rpc_env_free(env);
    server_stop(&s);
}
END_TEST

/* member, authenticated, is answered: echo returns payload; sends one-way messages to counter,
 * which then counts them (counter starts at 0). Frees member. */
static void member_is_answered(shuffle_rpc_env *member, int port, const char *payload, int sends)
{
    int status;
    shuffle_rpc_ref *echo = lookup(member, port, "echo");
    shuffle_rpc_ref *counter = lookup(member, port, "counter");
    char *text = ask(echo, payload, 5000, &status);
    ck_assert_msg(status == SHUFFLE_OK, "echo: %s", text);
    ck_assert_str_eq(text, payload);
    free(text);
    for (int n = 0; n < sends; n++)
        ck_assert_int_eq(shuffle_rpc_send(counter, "+", 1), SHUFFLE_OK);
    text = ask(counter, "", 5000, &status);
    char expected[16];
    snprintf(expected, sizeof expected, "%d", sends);
    ck_assert_str_eq(text, expected);
    free(text);
    shuffle_rpc_ref_free(echo);
    shuffle_rpc_ref_free(counter);
    shuffle_rpc_env_free(member);
}

/* env's handshake is refused: even the lookup fails with SHUFFLE_EAUTH. Frees env. */
static void handshake_refused(shuffle_rpc_env *env, int port)
{
    shuffle_rpc_ref *ref = NULL;
    ck_assert_int_eq(shuffle_rpc_lookup(env, "127.0.0.1", port, "echo", 5000, &ref), SHUFFLE_EAUTH);
    shuffle_rpc_env_free(env);
}

/* The server's endpoints require authentication (SASL DIGEST-MD5 with the shared secret). */
START_TEST(auth_on)
{
    char secret_file[4200];
    snprintf(secret_file, sizeof secret_file, "%s/secret", harness_test_dir());
    ck_assert_int_eq(harness_write_file(secret_file, "rpc-s3cret\n", 11), 0);
    struct server s = server_start_auth(0, secret_file);
    int status;
    /* without a secret: the endpoint exists, but answers nothing */
    shuffle_rpc_env *anonymous = client_env(0);
    shuffle_rpc_ref *echo = lookup(anonymous, s.port, "echo");
    char *text = ask(echo, "hi", 5000, &status);
    ck_assert_int_eq(status, SHUFFLE_EAUTH);
    ck_assert_str_eq(text, "shuffle-rpc: authentication required: echo");
    free(text);
    shuffle_rpc_ref_free(echo);
    shuffle_rpc_env_free(anonymous);
    /* with the right secret: answered, one-way messages delivered */
    member_is_answered(client_env_auth(0, "rpc-s3cret"), s.port, "hi", 1);
    /* with a wrong one: refused during the handshake, before anything is delivered */
    handshake_refused(client_env_auth(0, "guess"), s.port);
    server_stop(&s);
}
END_TEST

/* spark.network.crypto between envs: in each mode and cipher the server (shuffle-rpc serve
 * --crypto) answers a client configured alike, every message encrypted both ways; a wrong
 * secret, a SASL-only client and a client of another handshake are refused with
 * SHUFFLE_EAUTH before anything is delivered; a client without a secret reaches endpoints
 * that require authentication no more than under SASL. */
START_TEST(aes_on)
{
    static const struct {
        const char *mode, *cipher;
        int crypto, crypto_cipher;
    } modes[] = {
        {"pbkdf2", "ctr", SHUFFLE_CRYPTO_PBKDF2, SHUFFLE_CIPHER_CTR},
        {"x25519", "ctr", SHUFFLE_CRYPTO_X25519, SHUFFLE_CIPHER_CTR},
        {"x25519-v2", "ctr", SHUFFLE_CRYPTO_X25519_V2, SHUFFLE_CIPHER_CTR},
        {"x25519", "gcm", SHUFFLE_CRYPTO_X25519, SHUFFLE_CIPHER_GCM},
        {"x25519-v2", "gcm", SHUFFLE_CRYPTO_X25519_V2, SHUFFLE_CIPHER_GCM},
    };
    char secret_file[4200];
    snprintf(secret_file, sizeof secret_file, "%s/secret", harness_test_dir());
    ck_assert_int_eq(harness_write_file(secret_file, "rpc-aes-s3cret\n", 15), 0);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const char *security[] = {"--crypto", modes[i].mode, "--crypto-cipher", modes[i].cipher,
                                  NULL};
        struct server s = server_start_with(0, secret_file, security);
        static char big[100001]; /* several cipher records (GCM segments) in one frame */
        memset(big, 'a' + (int)i, sizeof big - 1);
        member_is_answered(
            client_env_crypto(0, "rpc-aes-s3cret", modes[i].crypto, modes[i].crypto_cipher), s.port,
            big, 3);
        /* a wrong secret: the server cannot open the client's message */
        handshake_refused(client_env_crypto(0, "guess", modes[i].crypto, modes[i].crypto_cipher),
                          s.port);
        /* the right secret over SASL: this env speaks AES only */
        handshake_refused(client_env_auth(0, "rpc-aes-s3cret"), s.port);
        /* the other handshake family (v1 ClientChallenge against 3.2+, and back) */
        int other = modes[i].crypto == SHUFFLE_CRYPTO_PBKDF2 ? SHUFFLE_CRYPTO_X25519
                                                             : SHUFFLE_CRYPTO_PBKDF2;
        handshake_refused(client_env_crypto(0, "rpc-aes-s3cret", other, SHUFFLE_CIPHER_CTR),
                          s.port);
        /* the tool, configured alike: ask answered */
        char args[4096], out[256];
        int n = snprintf(args, sizeof args,
                         "ask 127.0.0.1:%d echo tool-%zu --auth-secret-file %s --crypto %s "
                         "--crypto-cipher %s",
                         s.port, i, secret_file, modes[i].mode, modes[i].cipher);
        ck_assert_int_lt(n, (int)sizeof args);
        ck_assert_int_eq(tool(out, sizeof out, args), 0);
        char expected[32];
        snprintf(expected, sizeof expected, "tool-%zu\n", i);
        ck_assert_str_eq(out, expected);
        /* the same family, another engine version or cipher: the handshake passes (the
         * server picks by its own mode, docs/rpc.md), then neither side can read the other's
         * bytes and the connection closes; proof that both really encrypt */
        if (modes[i].crypto != SHUFFLE_CRYPTO_PBKDF2) {
            int version = modes[i].crypto == SHUFFLE_CRYPTO_X25519 ? SHUFFLE_CRYPTO_X25519_V2
                                                                   : SHUFFLE_CRYPTO_X25519;
            int cipher = modes[i].crypto_cipher == SHUFFLE_CIPHER_GCM ? SHUFFLE_CIPHER_CTR
                                                                      : SHUFFLE_CIPHER_GCM;
            shuffle_rpc_env *other_version =
                client_env_crypto(0, "rpc-aes-s3cret", version, modes[i].crypto_cipher);
            shuffle_rpc_env *other_cipher =
                client_env_crypto(0, "rpc-aes-s3cret", modes[i].crypto, cipher);
            shuffle_rpc_ref *ref = NULL;
            ck_assert_int_eq(
                shuffle_rpc_lookup(other_version, "127.0.0.1", s.port, "echo", 5000, &ref),
                SHUFFLE_RPC_ECONNLOST);
            ck_assert_int_eq(
                shuffle_rpc_lookup(other_cipher, "127.0.0.1", s.port, "echo", 5000, &ref),
                SHUFFLE_RPC_ECONNLOST);
            shuffle_rpc_env_free(other_version);
            shuffle_rpc_env_free(other_cipher);
        }
        /* no secret: the endpoints exist but require authentication */
        shuffle_rpc_env *anonymous = client_env(0);
        shuffle_rpc_ref *echo = lookup(anonymous, s.port, "echo");
        int status;
        char *text = ask(echo, "hi", 5000, &status);
        ck_assert_int_eq(status, SHUFFLE_EAUTH);
        free(text);
        shuffle_rpc_ref_free(echo);
        shuffle_rpc_env_free(anonymous);
        server_stop(&s);
    }
}
END_TEST

CHECK_MAIN((.suite = "rpc_remote", .name = "rpc_remote", .timeout_s = 120),
           two_processes_echo_counter_and_failures, tool_exit_statuses,
           bench_send_loses_nothing_to_a_full_inbox, peer_restart_mid_stream,
           ten_thousand_asks_in_flight_bounded, auth_on, aes_on)
