# Hostile-client integration test of the block service (review branch).
check_PROGRAMS += tests/block/test_hostile
TESTS += tests/block/test_hostile
tests_block_test_hostile_SOURCES = tests/block/test_hostile.c
tests_block_test_hostile_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_hostile_LDADD = src/server/libblock.la $(BLOCK_IT_LIBS)
