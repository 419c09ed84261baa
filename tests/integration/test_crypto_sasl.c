/* SPDX-License-Identifier: Apache-2.0 */
/* SASL encryption (QOP auth-conf, spark.authenticate.enableSaslEncryption) with libshuffle
 * against the real shuffled (auth_sasl_encryption on the fixture's shared-secret daemon): every
 * fetch path with every byte verified, the tools with --sasl-encrypt; a wrong secret is refused
 * with Java's digest mismatch; a daemon that offers no encryption (auth_sasl_encryption off) is
 * refused by the client rather than used in the clear. Cyrus's DIGEST-MD5 plugin (Debian 12)
 * leaks its OpenSSL cipher per encrypted session, in this process and in the daemons: that one
 * leak is suppressed here (tests/integration/cyrus-digestmd5.supp), as in test_auth_conf. */
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

START_TEST(wrong_secret_refused)
{
    shuffle_client *c =
        crypto_client(SHUFFLE_CRYPTO_OFF, true, "not-the-secret", VIA_FETCH_SHUFFLE_BLOCKS);
    ck_assert_int_eq(crypto_register(c, authd.port), SHUFFLE_EAUTH);
    ck_assert_msg(strstr(shuffle_last_error(c), MISMATCH), "%s", shuffle_last_error(c));
    shuffle_client_free(c);
}
END_TEST

START_TEST(daemon_without_sasl_encryption_refused)
{
    /* appd offers QOP auth only (sasl_encryption off); app-1's secret there is its own file's */
    shuffle_client *c =
        crypto_client(SHUFFLE_CRYPTO_OFF, true, "secret-one", VIA_FETCH_SHUFFLE_BLOCKS);
    ck_assert_int_eq(crypto_register(c, appd.port), SHUFFLE_EAUTH);
    ck_assert_msg(strstr(shuffle_last_error(c), "Can't find an acceptable layer"), "%s",
                  shuffle_last_error(c));
    shuffle_client_free(c);
}
END_TEST

START_TEST(tools_with_sasl_encrypt)
{
    crypto_assert_tools_fetch("--sasl-encrypt", authd.port);
}
END_TEST

/* LeakSanitizer, in this process (the daemons and tools get the file through LSAN_OPTIONS) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcrypto.so\n";
}

int main(void)
{
    char supp[1200];
    const char *src = getenv("SHUFFLE_SRCDIR");
    snprintf(supp, sizeof supp, "suppressions=%s/tests/integration/cyrus-digestmd5.supp",
             src && *src ? src : ".");
    setenv("LSAN_OPTIONS", supp, 1);
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
