/* SPDX-License-Identifier: Apache-2.0 */
/* LeakSanitizer's suppressions for a test program that runs SASL auth-conf sessions in its own
 * process: Cyrus's DIGEST-MD5 plugin (Debian 12) leaks its OpenSSL cipher per session (the
 * daemons and tools it starts get cyrus-digestmd5.supp through
 * auth_fixture_suppress_cyrus_cipher_leak). Compiled into those programs only. */
#include <config.h>

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcrypto.so\n";
}
