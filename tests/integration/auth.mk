# spark.authenticate end to end: the real shuffled (auth on and off), raw Java-style SASL
# frames (test_auth) and libshuffle/shuffle-fetch with secrets (test_auth_client).
AUTH_TESTS = tests/integration/test_auth tests/integration/test_auth_client
check_PROGRAMS += $(AUTH_TESTS)
TESTS += $(AUTH_TESTS)
tests_integration_test_auth_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(SASL_CFLAGS)
tests_integration_test_auth_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_auth_client_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(SASL_CFLAGS)
tests_integration_test_auth_client_LDADD = $(INTEGRATION_LIBS)
