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

# Push-based shuffle (issue 17): Spark's RoaringBitmaps of map indices read through CRoaring.
check_PROGRAMS += tests/unit/test_mapsets
TESTS += tests/unit/test_mapsets
tests_unit_test_mapsets_SOURCES = tests/unit/test_mapsets.c src/client/mapsets.c \
	src/client/mapsets.h
tests_unit_test_mapsets_LDADD = $(LDADD) $(ROARING_LIBS)

# Connection setup (dial.c): one writable turn sends a whole 64 KiB block (issue 17).
check_PROGRAMS += tests/unit/test_dial
TESTS += tests/unit/test_dial
tests_unit_test_dial_SOURCES = tests/unit/test_dial.c src/client/dial.c src/client/dial.h \
	src/client/resolve.c src/client/resolve.h src/client/util.c src/client/util.h
