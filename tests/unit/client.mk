# SPDX-License-Identifier: Apache-2.0
# libshuffle unit tests (internal pieces compiled in directly): block ids; the receive path
# (rx.c) over loopback TCP: splits, direct bodies, splice, limits.
LIBSHUFFLE_UNIT_TESTS = tests/unit/test_blockids tests/unit/test_rx
check_PROGRAMS += $(LIBSHUFFLE_UNIT_TESTS)
TESTS += $(LIBSHUFFLE_UNIT_TESTS)
tests_unit_test_blockids_SOURCES = tests/unit/test_blockids.c src/client/blockids.c \
	src/client/blockids.h
tests_unit_test_rx_SOURCES = tests/unit/test_rx.c src/client/rx.c src/client/rx.h \
	src/client/link.c src/client/link.h
