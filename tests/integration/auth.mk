# spark.authenticate end to end: the real shuffled (auth on and off), raw Java-style SASL
# frames and libshuffle/shuffle-fetch with secrets.
check_PROGRAMS += tests/integration/test_auth
TESTS += tests/integration/test_auth
tests_integration_test_auth_SOURCES = tests/integration/test_auth.c \
	tests/integration/tclient.c tests/integration/tclient.h $(CLIENT_TEST_HELPERS)
tests_integration_test_auth_CFLAGS = $(CLIENT_TEST_CFLAGS) $(SASL_CFLAGS) -D_GNU_SOURCE
tests_integration_test_auth_LDADD = $(CLIENT_TEST_LIBS) $(SASL_LIBS)
