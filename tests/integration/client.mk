# libshuffle against a scripted fake shuffle service (tests/integration/fake_ess.c).
CLIENT_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/integration
CLIENT_TEST_LIBS = src/client/libshuffle.la src/proto/libproto.la $(CHECK_LIBS) $(PTHREAD_LIBS)
CLIENT_TEST_HELPERS = tests/integration/fake_ess.c tests/integration/fake_ess.h \
	tests/integration/manifest.c tests/integration/manifest.h \
	tests/integration/client_util.c tests/integration/client_util.h

check_PROGRAMS += tests/integration/test_client_vectors tests/integration/test_client_fetch
TESTS += tests/integration/test_client_vectors tests/integration/test_client_fetch

tests_integration_test_client_vectors_SOURCES = tests/integration/test_client_vectors.c \
	$(CLIENT_TEST_HELPERS)
tests_integration_test_client_vectors_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_integration_test_client_vectors_LDADD = $(CLIENT_TEST_LIBS)
tests_integration_test_client_fetch_SOURCES = tests/integration/test_client_fetch.c \
	$(CLIENT_TEST_HELPERS)
tests_integration_test_client_fetch_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_integration_test_client_fetch_LDADD = $(CLIENT_TEST_LIBS)

# shuffle-fetch / shuffle-bench end to end (needs the tools built first).
check_PROGRAMS += tests/integration/test_client_tools
TESTS += tests/integration/test_client_tools
tests_integration_test_client_tools_SOURCES = tests/integration/test_client_tools.c \
	$(CLIENT_TEST_HELPERS)
tests_integration_test_client_tools_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_integration_test_client_tools_LDADD = $(CLIENT_TEST_LIBS)

# libshuffle against the real daemon (skips until shuffled and gen-shuffle-data build).
check_PROGRAMS += tests/integration/test_client_daemon
TESTS += tests/integration/test_client_daemon
tests_integration_test_client_daemon_SOURCES = tests/integration/test_client_daemon.c \
	$(CLIENT_TEST_HELPERS)
tests_integration_test_client_daemon_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_integration_test_client_daemon_LDADD = $(CLIENT_TEST_LIBS)

# Connecting: fast fail inside the retry window, host names resolved asynchronously.
check_PROGRAMS += tests/integration/test_client_connect
TESTS += tests/integration/test_client_connect
tests_integration_test_client_connect_SOURCES = tests/integration/test_client_connect.c \
	$(CLIENT_TEST_HELPERS)
tests_integration_test_client_connect_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_integration_test_client_connect_LDADD = $(CLIENT_TEST_LIBS)

# The public API contract: size-versioned structs, the error convention.
check_PROGRAMS += tests/integration/test_client_api
TESTS += tests/integration/test_client_api
tests_integration_test_client_api_SOURCES = tests/integration/test_client_api.c
tests_integration_test_client_api_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_integration_test_client_api_LDADD = $(CLIENT_TEST_LIBS)

# The receive path end to end: dribbled replies, large bodies, splice and its fallback,
# a connection dropped mid-body.
check_PROGRAMS += tests/integration/test_client_rx
TESTS += tests/integration/test_client_rx
tests_integration_test_client_rx_SOURCES = tests/integration/test_client_rx.c \
	$(CLIENT_TEST_HELPERS)
tests_integration_test_client_rx_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_integration_test_client_rx_LDADD = $(CLIENT_TEST_LIBS)
