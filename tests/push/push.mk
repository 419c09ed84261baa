# SPDX-License-Identifier: Apache-2.0
# Push-based shuffle tests (issue 17): the merged layout against Spark 3.5's recorded files;
# the read side (merged meta and chunks) and DiagnoseCorruption replayed against the daemon.
PUSH_TESTS = tests/push/test_merged_layout tests/push/test_push_read_vectors
check_PROGRAMS += $(PUSH_TESTS)
TESTS += $(PUSH_TESTS)
tests_push_test_merged_layout_LDADD = src/server/libpush.la $(LDADD)
# DiagnoseCorruption's checksum logic on the files Spark 3.5 wrote.
check_PROGRAMS += tests/push/test_diagnose
TESTS += tests/push/test_diagnose
tests_push_test_diagnose_SOURCES = tests/push/test_diagnose.c src/server/block/diagnose.c \
	src/server/block/block_reply.c src/common/spark_checksum.c
tests_push_test_diagnose_LDADD = $(LDADD) $(ZLIB_LIBS) $(ISAL_LIBS)
# The write side against Spark 3.5's recordings (the real daemon; push-write).
PUSH_WRITE_TESTS = tests/push/test_push_vectors tests/push/test_push_limits
check_PROGRAMS += $(PUSH_WRITE_TESTS)
tests_push_test_push_vectors_SOURCES = tests/push/test_push_vectors.c tests/push/push_replay.h
tests_push_test_push_limits_SOURCES = tests/push/test_push_limits.c tests/push/push_replay.h
TESTS += $(PUSH_WRITE_TESTS)
# libFuzzer target for the upload path (scripts/fuzz runs every tests/fuzz/fuzz_*.c).
FUZZ_TARGETS += tests/fuzz/fuzz_push_upload
tests_fuzz_fuzz_push_upload_SOURCES = tests/fuzz/fuzz_push_upload.c tests/block/core_stubs.c \
	src/server/stream/file_open.c
tests_fuzz_fuzz_push_upload_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_push_upload_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_push_upload_LDADD = $(HARNESS_LIBS) src/server/libpush.la src/server/libblock.la \
	src/proto/libproto.la $(PTHREAD_LIBS)
# Removals delete merged files outside the merge manager's lock (a hook between deletions).
check_PROGRAMS += tests/push/test_merge_removal
TESTS += tests/push/test_merge_removal
tests_push_test_merge_removal_LDADD = src/server/libpush.la $(LDADD)
# Finalize and removal decided as Spark's RemoteBlockPushResolver does (refusals, unpushed merges).
check_PROGRAMS += tests/push/test_merge_spark_rules
TESTS += tests/push/test_merge_spark_rules
tests_push_test_merge_spark_rules_LDADD = src/server/libpush.la $(LDADD)
# The merge journal compacted while the daemon runs, and a restart after it.
check_PROGRAMS += tests/push/test_push_journal
TESTS += tests/push/test_push_journal
tests_push_test_push_journal_SOURCES = tests/push/test_push_journal.c tests/push/push_replay.h
# A newer attempt's registration deletes the older attempt's merged files (and across restarts).
check_PROGRAMS += tests/push/test_push_new_attempt
TESTS += tests/push/test_push_new_attempt
tests_push_test_push_new_attempt_SOURCES = tests/push/test_push_new_attempt.c \
	tests/push/push_replay.h
tests_push_test_push_new_attempt_LDADD = $(LDADD) $(ZLIB_LIBS)
# The merge journal's group commit and compaction under concurrent appends.
check_PROGRAMS += tests/push/test_merge_journal
TESTS += tests/push/test_merge_journal
tests_push_test_merge_journal_LDADD = src/server/libpush.la $(LDADD)
# The loop-write guard's decision with the test's clock (push_upload.c's write_on_loop).
check_PROGRAMS += tests/push/test_loop_write_guard
TESTS += tests/push/test_loop_write_guard
tests_push_test_loop_write_guard_LDADD = src/server/libpush.la $(LDADD)
# Removals (application, executor, RemoveShuffleMerge, a newer shuffleMergeId) after a restart
# delete what they delete without one.
check_PROGRAMS += tests/push/test_push_restart_removals
TESTS += tests/push/test_push_restart_removals
tests_push_test_push_restart_removals_SOURCES = tests/push/test_push_restart_removals.c \
	tests/push/push_replay.h
tests_push_test_push_restart_removals_LDADD = $(LDADD) $(ZLIB_LIBS)
# libFuzzer target for the merge journal's replay (merges.wal, attempt records included).
FUZZ_TARGETS += tests/fuzz/fuzz_merge_journal
tests_fuzz_fuzz_merge_journal_SOURCES = tests/fuzz/fuzz_merge_journal.c tests/block/core_stubs.c \
	src/server/stream/file_open.c
tests_fuzz_fuzz_merge_journal_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_merge_journal_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_merge_journal_LDADD = $(HARNESS_LIBS) src/server/libpush.la \
	src/server/libblock.la src/proto/libproto.la $(PTHREAD_LIBS)
# A push answered SUCCESS is in MergeStatuses after kill -9 and a restart (journal batching).
check_PROGRAMS += tests/push/test_push_crash
TESTS += tests/push/test_push_crash
tests_push_test_push_crash_SOURCES = tests/push/test_push_crash.c tests/push/push_replay.h
tests_push_test_push_crash_CPPFLAGS = $(AM_CPPFLAGS) $(ROARING_CFLAGS)
tests_push_test_push_crash_LDADD = $(LDADD) $(ROARING_LIBS)
# The bound on open merged partitions: least recently used idle one closed first.
check_PROGRAMS += tests/push/test_merge_open_files
TESTS += tests/push/test_merge_open_files
tests_push_test_merge_open_files_LDADD = src/server/libpush.la $(LDADD)
# The merge manager's partitions under push_max_open_files: closed, reopened, over the bound
# only while all are written; push_max_partitions.
check_PROGRAMS += tests/push/test_merge_open_parts
TESTS += tests/push/test_merge_open_parts
tests_push_test_merge_open_parts_LDADD = src/server/libpush.la $(LDADD)
# What a Spark 3.5 client meets beyond the recordings: no attempt id (-1, merge_manager),
# zero-length blocks, a merge dir created after the registration, finalize refusals.
check_PROGRAMS += tests/push/test_push_client35
TESTS += tests/push/test_push_client35
tests_push_test_push_client35_SOURCES = tests/push/test_push_client35.c tests/push/push_replay.h
# The journal's partition record (op 6): its layout by hand, replayed, inconsistent ones refused.
check_PROGRAMS += tests/push/test_merge_journal_part
TESTS += tests/push/test_merge_journal_part
tests_push_test_merge_journal_part_CPPFLAGS = $(AM_CPPFLAGS) $(ROARING_CFLAGS)
tests_push_test_merge_journal_part_LDADD = src/server/libpush.la $(LDADD) $(ROARING_LIBS) \
	$(ZLIB_LIBS)
