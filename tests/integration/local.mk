# SPDX-License-Identifier: Apache-2.0
# Integration tests: the real daemon (test build) on an ephemeral loopback port.
# tests/integration/shuffled-test = the daemon core + the test-only service.
check_PROGRAMS += tests/integration/shuffled-test
tests_integration_shuffled_test_SOURCES = src/server/main.c tests/integration/service_test.c
tests_integration_shuffled_test_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_integration_shuffled_test_LDADD = $(SHUFFLED_CORE_LIBS)

# The fixtures of the integration tests, built once: a raw protocol client (tclient, texpect),
# a scripted fake shuffle service, the vectors' manifest, the block collector of the libshuffle
# tests, the auth tests' daemons and SASL client. Each test takes only the objects it needs.
noinst_LTLIBRARIES += tests/integration/libfixtures.la
tests_integration_libfixtures_la_SOURCES = tests/integration/tclient.c \
	tests/integration/texpect.c tests/integration/fake_ess.c tests/integration/manifest.c \
	tests/integration/client_util.c tests/integration/auth_fixture.c \
	tests/integration/push_fixture.c
EXTRA_DIST += tests/integration/tclient.h tests/integration/texpect.h \
	tests/integration/fake_ess.h tests/integration/manifest.h tests/integration/client_util.h \
	tests/integration/auth_fixture.h tests/integration/push_fixture.h
tests_integration_libfixtures_la_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
INTEGRATION_LIBS = tests/integration/libfixtures.la $(HARNESS_CLIENT_LIBS) \
	src/proto/libproto.la $(SASL_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)

# The daemon core through the test service: requests, limits and lifecycle, windowed bodies
# (the default LDADD of tests/local.mk).
SERVER_TESTS = tests/integration/test_server tests/integration/test_server_lifecycle \
	tests/integration/test_server_windows
check_PROGRAMS += $(SERVER_TESTS)
TESTS += $(SERVER_TESTS)
# The output hooks run before any answer leaves (what the merge journal's batching relies on).
check_PROGRAMS += tests/integration/test_output_hooks
TESTS += tests/integration/test_output_hooks

# Load generator used by scripts/bench-core (built by `make check`, never run as a test).
check_PROGRAMS += tests/integration/bench_core
tests_integration_bench_core_LDADD = tests/integration/libfixtures.la $(HARNESS_LIBS) \
	src/proto/libproto.la $(PTHREAD_LIBS)

# libshuffle tests (issue 5)
include tests/integration/client.mk

# listen_backlog and systemd's Backlog= reach the kernel (issue 18)
check_PROGRAMS += tests/integration/test_listen_backlog
TESTS += tests/integration/test_listen_backlog
# sourced by the shell tests that run the daemon (fail TEXT with its logs)
EXTRA_DIST += tests/integration/fail_with_logs.sh
