# SPDX-License-Identifier: Apache-2.0
# src/server: the daemon, in the order a request travels (see README "Layout").
# Everything but main.c and the installed service goes into a convenience library, so the
# test build of the daemon (tests/integration/shuffled-test) uses the very same core.
noinst_LTLIBRARIES += src/server/libshuffled_core.la
src_server_libshuffled_core_la_SOURCES = \
	src/server/server.h \
	src/server/net/listener.c src/server/net/listener.h \
	src/server/net/worker.c src/server/net/worker.h \
	src/server/net/channel.h src/server/net/channel_plain.c \
	src/server/net/reply_queue.c src/server/net/reply_queue.h \
	src/server/net/conn.h src/server/net/conn_state.c \
	src/server/net/conn_state.h src/server/net/conn_clock.c src/server/net/conn_pause.c \
	src/server/net/conn_read.c src/server/net/conn_write.c src/server/net/conn_events.c \
	src/server/net/rpc_reply.c src/server/net/rpc_reply.h src/server/net/handler.h \
	src/server/net/blocking_job.c \
	src/server/net/dispatch.c src/server/net/dispatch.h \
	src/server/stream/stream_table.c src/server/stream/stream_table.h \
	src/server/stream/stream_name.c src/server/stream/stream_name.h \
	src/server/stream/stream_source.h \
	src/server/stream/stream_manager.c src/server/stream/stream_manager.h \
	src/server/stream/chunk_answer.c src/server/stream/chunk_answer.h \
	src/server/stream/blocking_pool.c src/server/stream/blocking_pool.h \
	src/server/stream/page_cache.c src/server/stream/page_cache.h \
	src/server/stream/chunk_window.c src/server/stream/chunk_window.h \
	src/server/stream/file_open.c src/server/stream/file_open.h \
	src/server/ops/config.c src/server/ops/config.h \
	src/server/ops/config_files.c src/server/ops/config_files.h \
	src/common/log.c src/common/log.h \
	src/server/service.h
src_server_libshuffled_core_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
src_server_libshuffled_core_la_LIBADD = src/proto/libproto.la $(LIBEVENT_LIBS) $(JANSSON_LIBS) \
	$(PTHREAD_LIBS)

SHUFFLED_CORE_LIBS = src/server/libshuffled_core.la

sbin_PROGRAMS += shuffled
shuffled_SOURCES = src/server/main.c
# the service: src/server/block/block.mk adds block_handler.c
shuffled_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
shuffled_LDADD = $(SHUFFLED_CORE_LIBS)
