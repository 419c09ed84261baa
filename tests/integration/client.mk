# SPDX-License-Identifier: Apache-2.0
# libshuffle against a scripted fake shuffle service (tests/integration/fake_ess.c): the
# recorded vectors, fetching, the tools (shuffle-fetch, shuffle-bench, built first); connecting
# (fast fail inside the retry window, host names resolved asynchronously); against the real
# daemon (skips until shuffled and gen-shuffle-data build); the public API contract
# (size-versioned structs, the error convention); the receive path end to end (dribbled
# replies, large bodies, splice and its fallback, a connection dropped mid-body).
CLIENT_TESTS = tests/integration/test_client_vectors tests/integration/test_client_fetch \
	tests/integration/test_client_tools tests/integration/test_client_connect \
	tests/integration/test_client_daemon tests/integration/test_client_api \
	tests/integration/test_client_rx
check_PROGRAMS += $(CLIENT_TESTS)
TESTS += $(CLIENT_TESTS)
tests_integration_test_client_vectors_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_client_fetch_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_client_tools_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_client_connect_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_client_daemon_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_client_api_LDADD = $(INTEGRATION_LIBS)
tests_integration_test_client_rx_LDADD = $(INTEGRATION_LIBS)

# Push-based shuffle (issue 17): libshuffle against the replayed Spark 3.5 recordings
# (tests/integration/replay_ess.c).
check_PROGRAMS += tests/integration/test_client_push_vectors
TESTS += tests/integration/test_client_push_vectors
tests_integration_test_client_push_vectors_SOURCES = \
	tests/integration/test_client_push_vectors.c tests/integration/replay_ess.c \
	tests/integration/replay_ess.h
tests_integration_test_client_push_vectors_LDADD = $(INTEGRATION_LIBS) $(ZLIB_LIBS)
check_PROGRAMS += tests/integration/test_client_push
TESTS += tests/integration/test_client_push
tests_integration_test_client_push_SOURCES = tests/integration/test_client_push.c \
	tests/integration/replay_ess.c tests/integration/replay_ess.h
tests_integration_test_client_push_LDADD = $(INTEGRATION_LIBS)
# shuffle-push and shuffle-fetch's merged partitions (built first, as for test_client_tools).
check_PROGRAMS += tests/integration/test_push_tools
TESTS += tests/integration/test_push_tools
tests_integration_test_push_tools_SOURCES = tests/integration/test_push_tools.c \
	tests/integration/replay_ess.c tests/integration/replay_ess.h
tests_integration_test_push_tools_LDADD = $(INTEGRATION_LIBS)
# libshuffle's push-based shuffle against the real daemon (push_enabled; gen-shuffle-data).
check_PROGRAMS += tests/integration/test_client_push_daemon
TESTS += tests/integration/test_client_push_daemon
tests_integration_test_client_push_daemon_SOURCES = tests/integration/test_client_push_daemon.c \
	src/common/spark_checksum.c
tests_integration_test_client_push_daemon_LDADD = $(INTEGRATION_LIBS) $(ZLIB_LIBS) $(ISAL_LIBS)
# libshuffle's push bodies kept by reference until the transport released them (on_done waits).
check_PROGRAMS += tests/integration/test_client_push_lifetime
TESTS += tests/integration/test_client_push_lifetime
tests_integration_test_client_push_lifetime_LDADD = $(INTEGRATION_LIBS)
# A pushed body over 16 MiB is streamed and merged exactly; a deferred one over push_max_deferred_bytes refused.
check_PROGRAMS += tests/integration/test_push_body_bound
TESTS += tests/integration/test_push_body_bound
tests_integration_test_push_body_bound_LDADD = $(INTEGRATION_LIBS)
# A pushed body streamed in pieces keeps no input aside per piece (metric, peak RSS under ASan).
check_PROGRAMS += tests/integration/test_push_piece_input
TESTS += tests/integration/test_push_piece_input
tests_integration_test_push_piece_input_LDADD = $(INTEGRATION_LIBS)
# Push-based shuffle's metrics (Spark's names, per-message labels) against the real daemon.
check_PROGRAMS += tests/integration/test_push_metrics
TESTS += tests/integration/test_push_metrics
tests_integration_test_push_metrics_LDADD = $(INTEGRATION_LIBS)
# push_max_open_files bounds open files, not partitions: closed and reopened on demand (LRU).
check_PROGRAMS += tests/integration/test_push_open_files
TESTS += tests/integration/test_push_open_files
tests_integration_test_push_open_files_LDADD = $(INTEGRATION_LIBS) $(PTHREAD_LIBS)
# The push workload of scripts/bench-push-libshuffle (built by `make check`, never run as a test).
check_PROGRAMS += tests/integration/bench_push
tests_integration_bench_push_LDADD = $(INTEGRATION_LIBS)
