# Block-service tests (issue 4): unit tests (check) of the pure parts.
EXTRA_DIST += tests/block/test_util_block.h
BLOCK_TEST_LIBS = src/server/libblock.la $(SHUFFLED_CORE_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)
BLOCK_UNIT_TESTS = tests/block/test_blockid tests/block/test_placement \
	tests/block/test_index_cache tests/block/test_resolver \
	tests/block/test_registry_store tests/block/test_cleanup
check_PROGRAMS += $(BLOCK_UNIT_TESTS)
TESTS += $(BLOCK_UNIT_TESTS)

tests_block_test_blockid_SOURCES = tests/block/test_blockid.c
tests_block_test_blockid_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_blockid_LDADD = $(BLOCK_TEST_LIBS)
tests_block_test_placement_SOURCES = tests/block/test_placement.c
tests_block_test_placement_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_placement_LDADD = $(BLOCK_TEST_LIBS)
tests_block_test_index_cache_SOURCES = tests/block/test_index_cache.c
tests_block_test_index_cache_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_index_cache_LDADD = $(BLOCK_TEST_LIBS)
tests_block_test_resolver_SOURCES = tests/block/test_resolver.c
tests_block_test_resolver_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_resolver_LDADD = $(BLOCK_TEST_LIBS)
tests_block_test_registry_store_SOURCES = tests/block/test_registry_store.c
tests_block_test_registry_store_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_registry_store_LDADD = $(BLOCK_TEST_LIBS)
tests_block_test_cleanup_SOURCES = tests/block/test_cleanup.c
tests_block_test_cleanup_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_cleanup_LDADD = $(BLOCK_TEST_LIBS)

check_PROGRAMS += tests/block/test_gen_shuffle_data
TESTS += tests/block/test_gen_shuffle_data
tests_block_test_gen_shuffle_data_SOURCES = tests/block/test_gen_shuffle_data.c
tests_block_test_gen_shuffle_data_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_gen_shuffle_data_LDADD = $(BLOCK_TEST_LIBS)

# Integration: the real daemon (build/shuffled) on 127.0.0.1, ephemeral port.
BLOCK_IT_LIBS = src/proto/libproto.la $(CHECK_LIBS) $(PTHREAD_LIBS)
EXTRA_DIST += tests/block/daemon_client.h
check_PROGRAMS += tests/block/test_block_vectors
TESTS += tests/block/test_block_vectors
tests_block_test_block_vectors_SOURCES = tests/block/test_block_vectors.c
tests_block_test_block_vectors_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_block_vectors_LDADD = $(BLOCK_IT_LIBS)
check_PROGRAMS += tests/block/test_block_daemon
TESTS += tests/block/test_block_daemon
tests_block_test_block_daemon_SOURCES = tests/block/test_block_daemon.c
tests_block_test_block_daemon_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_block_daemon_LDADD = src/server/libblock.la $(BLOCK_IT_LIBS)
check_PROGRAMS += tests/block/test_block_service
TESTS += tests/block/test_block_service
tests_block_test_block_service_SOURCES = tests/block/test_block_service.c \
	$(BLOCK_SERVICE_SOURCES)
tests_block_test_block_service_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_block_service_LDADD = src/server/libblock.la $(SHUFFLED_CORE_LIBS) $(BLOCK_IT_LIBS)

# Load generator for scripts/bench-block (built by `make check`, never run as a test).
check_PROGRAMS += tests/block/bench_block
tests_block_bench_block_SOURCES = tests/block/bench_block.c
tests_block_bench_block_LDADD = src/proto/libproto.la $(PTHREAD_LIBS)

# The event-loop fast path and what happens to its kept-open files (real daemon).
check_PROGRAMS += tests/block/test_fast_path
TESTS += tests/block/test_fast_path
tests_block_test_fast_path_SOURCES = tests/block/test_fast_path.c
tests_block_test_fast_path_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_fast_path_LDADD = src/server/libblock.la $(BLOCK_IT_LIBS)

# Budgets of client-driven memory and the frame/handshake deadlines (real daemon).
check_PROGRAMS += tests/block/test_budgets
TESTS += tests/block/test_budgets
tests_block_test_budgets_SOURCES = tests/block/test_budgets.c
tests_block_test_budgets_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_budgets_LDADD = $(BLOCK_IT_LIBS)
