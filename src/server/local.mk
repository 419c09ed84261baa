# src/server: the daemon, in the order a request travels (see README "Layout").
# Everything but main.c and the installed service goes into a convenience library, so the
# test build of the daemon (tests/integration/shuffled-test) uses the very same core.
noinst_LTLIBRARIES += src/server/libshuffled_core.la
src_server_libshuffled_core_la_SOURCES = \
	src/server/server.h \
	src/server/listener.c src/server/listener.h \
	src/server/worker.c src/server/worker.h \
	src/server/conn.c src/server/conn.h \
	src/server/dispatch.c src/server/dispatch.h src/server/handler.h \
	src/server/stream_table.c src/server/stream_table.h \
	src/server/stream_manager.c src/server/stream_manager.h \
	src/server/stream_manager_internal.h \
	src/server/blocking_pool.c src/server/blocking_pool.h \
	src/server/page_cache.c src/server/page_cache.h \
	src/server/chunk_window.c src/server/chunk_window.h \
	src/server/config.c src/server/config.h \
	src/server/config_files.c src/server/config_files.h \
	src/server/log.c src/server/log.h \
	src/server/service.h
src_server_libshuffled_core_la_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
src_server_libshuffled_core_la_LIBADD = src/proto/libproto.la $(LIBEVENT_LIBS) $(JANSSON_LIBS) \
	$(PTHREAD_LIBS)

SHUFFLED_CORE_LIBS = src/server/libshuffled_core.la

sbin_PROGRAMS += shuffled
shuffled_SOURCES = src/server/main.c
# the service: src/server/block.mk adds block_handler.c (service_none.c stays for tests)
shuffled_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(LIBEVENT_CFLAGS)
shuffled_LDADD = $(SHUFFLED_CORE_LIBS)
