# Hostile-client integration test of the block service (review branch).
check_PROGRAMS += tests/block/test_hostile
TESTS += tests/block/test_hostile
tests_block_test_hostile_SOURCES = tests/block/test_hostile.c
tests_block_test_hostile_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_hostile_LDADD = src/server/libblock.la $(BLOCK_IT_LIBS)

# registry_store with read() failing part-way (read is wrapped in this test only).
check_PROGRAMS += tests/block/test_registry_read_error
TESTS += tests/block/test_registry_read_error
tests_block_test_registry_read_error_SOURCES = tests/block/test_registry_read_error.c
tests_block_test_registry_read_error_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_registry_read_error_LDFLAGS = -Wl,--wrap=read
tests_block_test_registry_read_error_LDADD = $(BLOCK_TEST_LIBS)

# applicationRemoved racing RegisterExecutor: memory and the log stay the same set.
check_PROGRAMS += tests/block/test_registry_race
TESTS += tests/block/test_registry_race
tests_block_test_registry_race_SOURCES = tests/block/test_registry_race.c
tests_block_test_registry_race_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_registry_race_LDADD = $(BLOCK_TEST_LIBS)

# Opening files checked against allowed_local_dir_roots without following symlinks.
check_PROGRAMS += tests/block/test_confined_open
TESTS += tests/block/test_confined_open
tests_block_test_confined_open_SOURCES = tests/block/test_confined_open.c
tests_block_test_confined_open_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_confined_open_LDADD = $(BLOCK_TEST_LIBS)
