# Integration tests: the real daemon (test build) on an ephemeral loopback port.
# tests/integration/shuffled-test = the daemon core + the test-only service.
check_PROGRAMS += tests/integration/shuffled-test tests/integration/test_server \
	tests/integration/test_server_lifecycle
TESTS += tests/integration/test_server tests/integration/test_server_lifecycle

tests_integration_shuffled_test_SOURCES = src/server/main.c tests/integration/service_test.c
tests_integration_shuffled_test_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(LIBEVENT_CFLAGS)
tests_integration_shuffled_test_LDADD = $(SHUFFLED_CORE_LIBS)

TCLIENT_SOURCES = tests/integration/tclient.c tests/integration/tclient.h \
	tests/integration/texpect.c tests/integration/texpect.h
tests_integration_test_server_SOURCES = tests/integration/test_server.c $(TCLIENT_SOURCES)
tests_integration_test_server_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_integration_test_server_LDADD = src/proto/libproto.la $(CHECK_LIBS) $(PTHREAD_LIBS)
tests_integration_test_server_lifecycle_SOURCES = tests/integration/test_server_lifecycle.c \
	$(TCLIENT_SOURCES)
tests_integration_test_server_lifecycle_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_integration_test_server_lifecycle_LDADD = src/proto/libproto.la $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

# Load generator used by scripts/bench-core (built by `make check`, never run as a test).
check_PROGRAMS += tests/integration/bench_core
tests_integration_bench_core_SOURCES = tests/integration/bench_core.c \
	tests/integration/tclient.c tests/integration/tclient.h
tests_integration_bench_core_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE
tests_integration_bench_core_LDADD = src/proto/libproto.la $(PTHREAD_LIBS)

# libshuffle tests (issue 5)
include tests/integration/client.mk
include tests/integration/window.mk

# listen_backlog and systemd's Backlog= reach the kernel (issue 18)
check_PROGRAMS += tests/integration/test_listen_backlog
TESTS += tests/integration/test_listen_backlog
tests_integration_test_listen_backlog_SOURCES = tests/integration/test_listen_backlog.c \
	$(TCLIENT_SOURCES)
tests_integration_test_listen_backlog_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_integration_test_listen_backlog_LDADD = src/proto/libproto.la $(CHECK_LIBS) $(PTHREAD_LIBS)
