# SPDX-License-Identifier: Apache-2.0
# spark.authenticate end to end: the real shuffled (auth on and off), raw Java-style SASL
# frames (test_auth), libshuffle/shuffle-fetch with secrets (test_auth_client), SASL
# encryption (QOP auth-conf) with a Cyrus client over raw frames (test_auth_conf), and
# spark.network.crypto (AES) with a client of the daemon's own state machines (test_auth_aes).
AUTH_TESTS = tests/integration/test_auth tests/integration/test_auth_client \
	tests/integration/test_auth_conf tests/integration/test_auth_aes
check_PROGRAMS += $(AUTH_TESTS)
TESTS += $(AUTH_TESTS)
tests_integration_test_auth_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_integration_test_auth_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_auth_client_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_integration_test_auth_client_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_auth_conf_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_integration_test_auth_conf_SOURCES = tests/integration/test_auth_conf.c \
	tests/integration/cyrus_lsan_hook.c
tests_integration_test_auth_conf_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_auth_aes_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS) $(CRYPTO_CFLAGS)
tests_integration_test_auth_aes_LDADD = src/server/libshuffled_core.la $(INTEGRATION_LIBS) \
	$(CRYPTO_LIBS)
# Debian 12's DIGEST-MD5 plugin leaks its cipher per encrypted session (test_auth_conf only).
EXTRA_DIST += tests/integration/cyrus-digestmd5.supp
# libshuffle's encryption (AES modes, SASL auth-conf) against the real daemon, every fetch path.
tests_integration_test_crypto_client_SOURCES = tests/integration/test_crypto_client.c \
	tests/integration/crypto_fixture.c tests/integration/crypto_fixture.h
tests_integration_test_crypto_client_LDADD = $(INTEGRATION_LIBS)
check_PROGRAMS += tests/integration/test_crypto_client
TESTS += tests/integration/test_crypto_client
# SASL auth-conf: Cyrus's DIGEST-MD5 cipher leak suppressed (cyrus-digestmd5.supp), so apart.
tests_integration_test_crypto_sasl_SOURCES = tests/integration/test_crypto_sasl.c \
	tests/integration/crypto_fixture.c tests/integration/crypto_fixture.h \
	tests/integration/cyrus_lsan_hook.c
tests_integration_test_crypto_sasl_LDADD = $(INTEGRATION_LIBS)
check_PROGRAMS += tests/integration/test_crypto_sasl
TESTS += tests/integration/test_crypto_sasl
# Push-based shuffle over AES-CTR, AES-GCM and SASL auth-conf, libshuffle and shuffle-push.
tests_integration_test_push_secure_SOURCES = tests/integration/test_push_secure.c \
	tests/integration/crypto_fixture.c tests/integration/crypto_fixture.h \
	tests/integration/cyrus_lsan_hook.c
tests_integration_test_push_secure_LDADD = $(INTEGRATION_LIBS)
check_PROGRAMS += tests/integration/test_push_secure
TESTS += tests/integration/test_push_secure
