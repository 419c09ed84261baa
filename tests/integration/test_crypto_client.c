/* SPDX-License-Identifier: Apache-2.0 */
/* Encryption on the wire with libshuffle against the real shuffled (crypto_enabled and
 * auth_sasl_encryption on the fixture's shared-secret daemon): every mode (AES pbkdf2, x25519,
 * x25519-v2) registers and fetches over every path (OpenBlocks chunks, FetchShuffleBlocks,
 * batch ranges, stream-to-file) with every byte verified; a wrong secret is refused in each
 * mode, unretried; mixed modes are refused as configured: an AES client against a daemon
 * without crypto (Spark's "Expected SaslMessage" text reported), and a SASL client against
 * crypto_sasl_fallback=false ("Unknown challenge message."). Spark 4.0's AES-GCM channel
 * (crypto_cipher) after both X25519 handshakes, on every path too; a daemon limited to CTR
 * closes a GCM client. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/client.h"
#include "../harness/process.h"
#include "auth_fixture.h"
#include "client_util.h"
#include "crypto_fixture.h"
#include "shuffle/client.h"

#define AES_REFUSED "java.lang.IllegalArgumentException: Authentication failed."
#define NO_FALLBACK "java.lang.IllegalArgumentException: Unknown challenge message."

/* the three handshakes with AES-CTR, then Spark 4.0's AES-GCM after each X25519 one */
enum { MODES = 5 };
static const int crypto_of_mode[MODES] = {SHUFFLE_CRYPTO_PBKDF2, SHUFFLE_CRYPTO_X25519,
                                          SHUFFLE_CRYPTO_X25519_V2, SHUFFLE_CRYPTO_X25519,
                                          SHUFFLE_CRYPTO_X25519_V2};
static const int cipher_of_mode[MODES] = {SHUFFLE_CIPHER_CTR, SHUFFLE_CIPHER_CTR,
                                          SHUFFLE_CIPHER_CTR, SHUFFLE_CIPHER_GCM,
                                          SHUFFLE_CIPHER_GCM};

static struct harness_daemon strictd; /* crypto on, crypto_sasl_fallback false */

/* mode -1: SASL without encryption */
static shuffle_client *client(int mode, const char *secret, enum fetch_path path)
{
    if (mode < 0)
        return crypto_client(SHUFFLE_CRYPTO_OFF, false, secret, path);
    return crypto_client_cipher(crypto_of_mode[mode], cipher_of_mode[mode], false, secret, path);
}

/* _i: mode * FETCH_PATHS + path */
START_TEST(every_mode_every_path_fetches_every_byte)
{
    enum fetch_path path = (enum fetch_path)(_i % FETCH_PATHS);
    shuffle_client *c = client(_i / FETCH_PATHS, SECRET, path);
    crypto_assert_fetches_every_byte(c, authd.port, path);
    shuffle_client_free(c);
}
END_TEST

START_TEST(wrong_secret_refused_in_each_mode)
{
    for (int mode = 0; mode < MODES; mode++) {
        shuffle_client *c = client(mode, "not-the-secret", VIA_FETCH_SHUFFLE_BLOCKS);
        ck_assert_int_eq(crypto_register(c, authd.port), SHUFFLE_EAUTH);
        const char *err = shuffle_last_error(c);
        ck_assert_msg(strstr(err, AES_REFUSED) && strstr(err, "(attempt 1 of"), "%s", err);
        struct collector col;
        collector_fetch_wait(&col, c, &man, "127.0.0.1", authd.port, "app-1", "1", ids, nids, NULL);
        collector_assert_all_failed(&col, SHUFFLE_EAUTH, AES_REFUSED);
        collector_free(&col);
        shuffle_client_free(c);
    }
}
END_TEST

START_TEST(aes_client_against_a_daemon_without_crypto)
{
    /* appd: auth on, crypto off: it answers an AES message as Spark's SASL-only server does */
    for (int mode = 0; mode < MODES; mode++) {
        shuffle_client *c = client(mode, SECRET, VIA_FETCH_SHUFFLE_BLOCKS);
        ck_assert_int_eq(crypto_register(c, appd.port), SHUFFLE_EAUTH);
        ck_assert_msg(strstr(shuffle_last_error(c), NOT_SASL), "%s", shuffle_last_error(c));
        shuffle_client_free(c);
    }
}
END_TEST

/* The tools with each --crypto mode: shuffle-fetch registers and verifies every block,
 * shuffle-bench verifies a few requests; a mode without a secret file is a usage error. */
/* shuffle-fetch with args and more_args against authd is a usage error (status 2) naming why. */
static void fetch_usage_error(const char *args, const char *more_args, const char *why)
{
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd,
             "%s/src/tools/shuffle-fetch %s %s --verify %s/manifest.tsv 127.0.0.1:%d app-1 1 2>&1",
             builddir, args, more_args, data_root, authd.port);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, why), "%s", out);
}

START_TEST(tools_fetch_with_each_mode)
{
    static const char *const names[MODES] = {"pbkdf2", "x25519", "x25519-v2",
                                             "x25519 --crypto-cipher gcm",
                                             "x25519-v2 --crypto-cipher gcm"};
    char args[64];
    for (int mode = 0; mode < MODES; mode++) {
        snprintf(args, sizeof args, "--crypto %s", names[mode]);
        crypto_assert_tools_fetch(args, authd.port);
    }
    char secret[800];
    snprintf(secret, sizeof secret, "--auth-secret-file %s", secret_path);
    fetch_usage_error("--crypto x25519", "", "--crypto needs --auth-secret-file");
    fetch_usage_error("--crypto aes", secret, "'aes' is not pbkdf2, x25519 or x25519-v2");
    fetch_usage_error("--crypto pbkdf2 --crypto-cipher gcm", secret, "gcm needs --crypto x25519");
    fetch_usage_error("--crypto x25519 --crypto-cipher ccm", secret, "'ccm' is not ctr or gcm");
}
END_TEST

/* shuffle_client_new refuses what cannot work, naming it: an unknown mode, a mode without a
 * secret, AES and SASL encryption at once. */
START_TEST(options_checked)
{
    struct {
        int crypto, sasl_encrypt;
        const char *secret, *why;
    } bad[] = {
        {7, 0, SECRET, "unknown crypto mode 7"},
        {SHUFFLE_CRYPTO_X25519, 0, NULL, "crypto and sasl_encrypt need auth_secret"},
        {SHUFFLE_CRYPTO_OFF, 1, NULL, "crypto and sasl_encrypt need auth_secret"},
        {SHUFFLE_CRYPTO_PBKDF2, 1, SECRET, "exclude each other"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct shuffle_client_options o;
        shuffle_client_options_init(&o);
        o.auth_app_id = "app-1";
        o.auth_secret = bad[i].secret;
        o.crypto = bad[i].crypto;
        o.sasl_encrypt = bad[i].sasl_encrypt;
        shuffle_client *c = NULL;
        ck_assert_int_eq(shuffle_client_new(&o, &c), SHUFFLE_EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(shuffle_last_error(NULL), bad[i].why), "%zu: %s", i,
                      shuffle_last_error(NULL));
    }
    /* GCM exists only after the X25519 handshakes */
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.auth_app_id = "app-1";
    o.auth_secret = SECRET;
    o.crypto = SHUFFLE_CRYPTO_PBKDF2;
    o.crypto_cipher = SHUFFLE_CIPHER_GCM;
    shuffle_client *c = NULL;
    ck_assert_int_eq(shuffle_client_new(&o, &c), SHUFFLE_EINVAL);
    ck_assert_ptr_nonnull(strstr(shuffle_last_error(NULL), "needs an X25519 crypto mode"));
}
END_TEST

static void sasl_client_refused_without_fallback(void)
{
    shuffle_client *c = client(-1, SECRET, VIA_FETCH_SHUFFLE_BLOCKS);
    ck_assert_int_eq(crypto_register(c, strictd.port), SHUFFLE_EAUTH);
    ck_assert_msg(strstr(shuffle_last_error(c), NO_FALLBACK), "%s", shuffle_last_error(c));
    shuffle_client_free(c);
    /* the same daemon serves an AES client */
    c = client(1, SECRET, VIA_FETCH_SHUFFLE_BLOCKS);
    ck_assert_msg(crypto_register(c, strictd.port) == SHUFFLE_OK, "%s", shuffle_last_error(c));
    shuffle_client_free(c);
    /* ... but only with AES-CTR (crypto_cipher ctr): a GCM client's first message closes */
    c = client(3, SECRET, VIA_FETCH_SHUFFLE_BLOCKS);
    ck_assert_int_ne(crypto_register(c, strictd.port), SHUFFLE_OK);
    shuffle_client_free(c);
}

static void start_strict(void)
{
    char json[1200];
    snprintf(json, sizeof json,
             "\"auth_enabled\": true, \"auth_secret_file\": \"%s\", \"crypto_enabled\": true, "
             "\"crypto_sasl_fallback\": false, \"crypto_cipher\": \"ctr\"",
             secret_path);
    ck_assert(auth_fixture_daemon_start(&strictd, "strict", json));
}

static void stop_strict(void)
{
    ck_assert_int_eq(harness_daemon_stop(&strictd), 0); /* exits cleanly: no leaks under ASan */
}

START_TEST(strict_daemon)
{
    start_strict();
    sasl_client_refused_without_fallback();
    stop_strict();
}
END_TEST

int main(void)
{
    setenv("SHUFFLED_TEST_AUTH_EXTRA", "\"crypto_enabled\": true", 1);
    return auth_fixture_main(
        &(struct check_case){.suite = "crypto_client",
                             .name = "crypto_client",
                             .timeout_s = 120,
                             .loops = MODES * FETCH_PATHS,
                             .looped = {every_mode_every_path_fetches_every_byte}},
        CHECK_TESTS(every_mode_every_path_fetches_every_byte, wrong_secret_refused_in_each_mode,
                    aes_client_against_a_daemon_without_crypto, strict_daemon,
                    tools_fetch_with_each_mode, options_checked));
}
