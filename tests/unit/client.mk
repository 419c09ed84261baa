# libshuffle unit tests (internal pieces compiled in directly).
check_PROGRAMS += tests/unit/test_blockids
TESTS += tests/unit/test_blockids
tests_unit_test_blockids_SOURCES = tests/unit/test_blockids.c src/client/blockids.c \
	src/client/blockids.h
