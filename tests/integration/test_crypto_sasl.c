/* SPDX-License-Identifier: Apache-2.0 */
/* SASL encryption (QOP auth-conf, spark.authenticate.enableSaslEncryption) with libshuffle
 * against the real shuffled (auth_sasl_encryption on the fixture's shared-secret daemon): every
 * fetch path with every byte verified, the tools with --sasl-encrypt; a wrong secret is refused
 * with Java's digest mismatch; a daemon that offers no encryption (auth_sasl_encryption off) is
 * refused by the client rather than used in the clear. Cyrus's DIGEST-MD5 plugin (Debian 12)
 * leaks its OpenSSL cipher per encrypted session, in this process and in the daemons: that one
 * leak is suppressed (cyrus_lsan_hook.c, cyrus-digestmd5.supp), as in test_auth_conf. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_fixture.h"
#include "crypto_fixture.h"
#include "shuffle/client.h"

START_TEST(every_path_fetches_every_byte)
{
    shuffle_client *c = crypto_client(SHUFFLE_CRYPTO_OFF, true, SECRET, (enum fetch_path)_i);
    crypto_assert_fetches_every_byte(c, authd.port, (enum fetch_path)_i);
    shuffle_client_free(c);
}
END_TEST

/* Registration with secret against port fails with SHUFFLE_EAUTH and text. */
static void refused(const char *secret, int port, const char *text)
{
    shuffle_client *c = crypto_client(SHUFFLE_CRYPTO_OFF, true, secret, VIA_FETCH_SHUFFLE_BLOCKS);
    ck_assert_int_eq(crypto_register(c, port), SHUFFLE_EAUTH);
    ck_assert_msg(strstr(shuffle_last_error(c), text), "%s", shuffle_last_error(c));
    shuffle_client_free(c);
}

START_TEST(wrong_secret_refused)
{
    refused("not-the-secret", authd.port, MISMATCH);
}
END_TEST

START_TEST(daemon_without_sasl_encryption_refused)
{
    /* appd offers QOP auth only (sasl_encryption off; app-1's secret there is its own file's):
     * never used in the clear */
    refused("secret-one", appd.port, "Can't find an acceptable layer");
}
END_TEST

START_TEST(tools_with_sasl_encrypt)
{
    crypto_assert_tools_fetch("--sasl-encrypt", authd.port);
}
END_TEST

int main(void)
{
    auth_fixture_suppress_cyrus_cipher_leak();
    setenv("SHUFFLED_TEST_AUTH_EXTRA", "\"auth_sasl_encryption\": true", 1);
    setenv("SHUFFLED_TEST_APPS_EXTRA", "\"sasl_encryption\": \"off\"", 1);
    return auth_fixture_main(&(struct check_case){.suite = "crypto_sasl",
                                                  .name = "crypto_sasl",
                                                  .timeout_s = 120,
                                                  .loops = FETCH_PATHS,
                                                  .looped = {every_path_fetches_every_byte}},
                             CHECK_TESTS(every_path_fetches_every_byte, wrong_secret_refused,
                                         daemon_without_sasl_encryption_refused,
                                         tools_with_sasl_encrypt));
}
