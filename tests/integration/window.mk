# File bodies sent window by window (src/server/stream/chunk_window.c), with the real test daemon.
check_PROGRAMS += tests/integration/test_server_windows
TESTS += tests/integration/test_server_windows
tests_integration_test_server_windows_SOURCES = tests/integration/test_server_windows.c \
	$(TCLIENT_SOURCES)
tests_integration_test_server_windows_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_integration_test_server_windows_LDADD = $(HARNESS_LIBS) src/proto/libproto.la $(CHECK_LIBS) \
	$(PTHREAD_LIBS)
