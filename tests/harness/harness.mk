# SPDX-License-Identifier: Apache-2.0
# The one test harness every test links (tests/harness): daemons started and stopped for a
# test, temp dirs, the shared vectors, bounded waiting (libharness); libshuffle clients set up
# against a started daemon (libharness_client, for the tests that link libshuffle).
noinst_LTLIBRARIES += tests/harness/libharness.la tests/harness/libharness_client.la
tests_harness_libharness_la_SOURCES = tests/harness/daemon.c tests/harness/daemon.h \
	tests/harness/fs.c tests/harness/fs.h tests/harness/locate.c tests/harness/locate.h \
	tests/harness/port.c tests/harness/port.h tests/harness/process.c tests/harness/process.h \
	tests/harness/wait.c tests/harness/wait.h
tests_harness_libharness_la_CFLAGS = $(AM_CFLAGS)
tests_harness_libharness_client_la_SOURCES = tests/harness/client.c tests/harness/client.h
tests_harness_libharness_client_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
HARNESS_LIBS = tests/harness/libharness.la
HARNESS_CLIENT_LIBS = tests/harness/libharness_client.la src/client/libshuffle.la \
	$(HARNESS_LIBS)
