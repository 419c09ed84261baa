# libshuffle unit tests (internal pieces compiled in directly).
check_PROGRAMS += tests/unit/test_blockids
TESTS += tests/unit/test_blockids
tests_unit_test_blockids_SOURCES = tests/unit/test_blockids.c src/client/blockids.c \
	src/client/blockids.h
tests_unit_test_blockids_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_blockids_LDADD = $(UNIT_LIBS)

# The receive path (rx.c) over loopback TCP: splits, direct bodies, splice, limits.
check_PROGRAMS += tests/unit/test_rx
TESTS += tests/unit/test_rx
tests_unit_test_rx_SOURCES = tests/unit/test_rx.c src/client/rx.c src/client/rx.h
tests_unit_test_rx_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rx_LDADD = $(UNIT_LIBS) $(PTHREAD_LIBS)
