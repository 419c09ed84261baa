# SPDX-License-Identifier: Apache-2.0
# Block-service tests (issue 4): unit tests (check) of the pure parts, and integration tests
# with the real daemon (build/shuffled) on 127.0.0.1, ephemeral port. Sources and libraries:
# the defaults of tests/local.mk.
EXTRA_DIST += tests/block/test_util_block.h tests/block/daemon_client.h \
	tests/block/vector_replay.h
BLOCK_TESTS = tests/block/test_blockid tests/block/test_placement \
	tests/block/test_index_cache tests/block/test_resolver \
	tests/block/test_registry_store tests/block/test_cleanup tests/block/test_gen_shuffle_data \
	tests/block/test_block_vectors tests/block/test_block_daemon tests/block/test_fast_path \
	tests/block/test_budgets
check_PROGRAMS += $(BLOCK_TESTS)
TESTS += $(BLOCK_TESTS)

# The block service's handler with the daemon core replaced by the test's stubs.
check_PROGRAMS += tests/block/test_block_service
TESTS += tests/block/test_block_service
tests_block_test_block_service_SOURCES = tests/block/test_block_service.c \
	tests/block/core_stubs.c tests/block/core_stubs.h $(BLOCK_SERVICE_SOURCES)

# Load generator for scripts/bench-block (built by `make check`, never run as a test).
check_PROGRAMS += tests/block/bench_block
tests_block_bench_block_LDADD = src/proto/libproto.la $(PTHREAD_LIBS)
