# spark.authenticate end to end: the real shuffled (auth on and off), raw Java-style SASL
# frames (test_auth), libshuffle/shuffle-fetch with secrets (test_auth_client) and SASL
# encryption (QOP auth-conf) with a Cyrus client over raw frames (test_auth_conf).
AUTH_TESTS = tests/integration/test_auth tests/integration/test_auth_client \
	tests/integration/test_auth_conf
check_PROGRAMS += $(AUTH_TESTS)
TESTS += $(AUTH_TESTS)
tests_integration_test_auth_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(SASL_CFLAGS)
tests_integration_test_auth_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_auth_client_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(SASL_CFLAGS)
tests_integration_test_auth_client_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_auth_conf_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(SASL_CFLAGS)
tests_integration_test_auth_conf_LDADD = $(INTEGRATION_LIBS)
# Debian 12's DIGEST-MD5 plugin leaks its cipher per encrypted session (test_auth_conf only).
EXTRA_DIST += tests/integration/cyrus-digestmd5.supp
