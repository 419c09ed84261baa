# SPDX-License-Identifier: Apache-2.0
# src/server/push: push-based shuffle (issue 17). The merged files' layout and the
# application attempts' merge dirs, a library so unit tests link the same objects.
noinst_LTLIBRARIES += src/server/libpush.la
src_server_libpush_la_SOURCES = \
	src/server/push/merged_layout.c src/server/push/merged_layout.h \
	src/server/push/merge_apps.c src/server/push/merge_apps.h \
	src/server/push/merge_registration.c src/server/push/merge_registration.h \
	src/common/array_room.h
src_server_libpush_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_server_libpush_la_LIBADD = src/server/libblock.la $(JANSSON_LIBS) $(PTHREAD_LIBS)
# Spark's shuffle checksums by name (DiagnoseCorruption): zlib, and ISA-L for CRC32C.
src_server_libpush_la_SOURCES += src/common/spark_checksum.c src/common/spark_checksum.h
src_server_libpush_la_CFLAGS += $(ZLIB_CFLAGS) $(ISAL_CFLAGS)
src_server_libpush_la_LIBADD += $(ZLIB_LIBS) $(ISAL_LIBS)

# The service's read side of push (merged meta and chunks) and DiagnoseCorruption (zlib's
# ADLER32/CRC32), linked wherever the block service is.
BLOCK_SERVICE_SOURCES += src/server/push/merged_fetch.c src/server/push/merged_fetch.h \
	src/server/block/diagnose.c src/server/block/diagnose.h
shuffled_CFLAGS += $(ZLIB_CFLAGS)
shuffled_LDADD += src/server/libpush.la $(ZLIB_LIBS)
tests_block_test_block_service_LDADD = src/server/libpush.la $(LDADD) $(ZLIB_LIBS)
tests_fuzz_fuzz_blockrpc_LDADD += src/server/libpush.la $(ZLIB_LIBS)
# The write side (merge manager): merged partitions and their bitmaps (CRoaring), the
# manager's verdicts; the connection side and RPCs go with the block service.
src_server_libpush_la_SOURCES += \
	src/server/push/merge_bitmap.c src/server/push/merge_bitmap.h \
	src/server/push/merge_partition.c src/server/push/merge_partition.h \
	src/server/push/merge_open_files.c src/server/push/merge_open_files.h \
	src/server/push/merge_manager.c src/server/push/merge_manager.h \
	src/server/push/merge_state.h src/server/push/merge_replay.c \
	src/server/push/merge_removal.c src/server/push/merge_removal.h \
	src/server/push/merge_replay_removed.c src/server/push/merge_replay_removed.h \
	src/server/push/merge_remove_request.c \
	src/server/push/merge_state.c src/server/push/merge_parts.c \
	src/server/push/merge_journal.c src/server/push/merge_journal.h \
	src/server/push/merge_journal_attempt.c src/server/push/merge_journal_attempt.h \
	src/server/push/merge_journal_part.c src/server/push/merge_journal_part.h \
	src/server/push/merge_compact.c src/server/push/merge_compact.h \
	src/server/push/loop_write_guard.c src/server/push/loop_write_guard.h
src_server_libpush_la_LIBADD += $(ROARING_LIBS)
BLOCK_SERVICE_SOURCES += src/server/block/block_push.c src/server/push/push_service.h \
	src/server/push/push_upload.c src/server/push/push_rpc.c
