# spark.authenticate end to end: the real shuffled (auth on and off), raw Java-style SASL
# frames (test_auth) and libshuffle/shuffle-fetch with secrets (test_auth_client).
AUTH_TEST_SOURCES = tests/integration/auth_fixture.c tests/integration/auth_fixture.h \
	tests/integration/tclient.c tests/integration/tclient.h $(CLIENT_TEST_HELPERS)
check_PROGRAMS += tests/integration/test_auth tests/integration/test_auth_client
TESTS += tests/integration/test_auth tests/integration/test_auth_client
tests_integration_test_auth_SOURCES = tests/integration/test_auth.c $(AUTH_TEST_SOURCES)
tests_integration_test_auth_CFLAGS = $(CLIENT_TEST_CFLAGS) $(SASL_CFLAGS) -D_GNU_SOURCE
tests_integration_test_auth_LDADD = $(CLIENT_TEST_LIBS) $(SASL_LIBS)
tests_integration_test_auth_client_SOURCES = tests/integration/test_auth_client.c \
	$(AUTH_TEST_SOURCES)
tests_integration_test_auth_client_CFLAGS = $(CLIENT_TEST_CFLAGS) $(SASL_CFLAGS) -D_GNU_SOURCE
tests_integration_test_auth_client_LDADD = $(CLIENT_TEST_LIBS) $(SASL_LIBS)

# SASL encryption (QOP auth-conf) with a Cyrus client over raw frames.
check_PROGRAMS += tests/integration/test_auth_conf
TESTS += tests/integration/test_auth_conf
tests_integration_test_auth_conf_SOURCES = tests/integration/test_auth_conf.c $(AUTH_TEST_SOURCES)
tests_integration_test_auth_conf_CFLAGS = $(CLIENT_TEST_CFLAGS) $(SASL_CFLAGS) -D_GNU_SOURCE
tests_integration_test_auth_conf_LDADD = $(CLIENT_TEST_LIBS) $(SASL_LIBS)
EXTRA_DIST += tests/integration/cyrus-digestmd5.supp

# spark.network.crypto (AES) against the real daemon: a client of the same state machines.
check_PROGRAMS += tests/integration/test_auth_aes
TESTS += tests/integration/test_auth_aes
tests_integration_test_auth_aes_SOURCES = tests/integration/test_auth_aes.c $(AUTH_TEST_SOURCES)
tests_integration_test_auth_aes_CFLAGS = $(CLIENT_TEST_CFLAGS) $(SASL_CFLAGS) $(CRYPTO_CFLAGS) \
	-D_GNU_SOURCE
tests_integration_test_auth_aes_LDADD = src/server/libshuffled_core.la $(CLIENT_TEST_LIBS) \
	$(SASL_LIBS) $(CRYPTO_LIBS)
