# src/server, block service part (issue 4): block ids, placement, resolver,
# index cache, durable registry, cleanup. A library so unit tests link the
# same objects the daemon does.
noinst_LTLIBRARIES += src/server/libblock.la
src_server_libblock_la_SOURCES = \
	src/server/blockid.c src/server/blockid.h \
	src/server/placement.c src/server/placement.h \
	src/server/index_cache.c src/server/index_cache.h \
	src/server/resolver.c src/server/resolver.h \
	src/server/registry_store.c src/server/registry_store.h \
	src/server/cleanup.c src/server/cleanup.h
src_server_libblock_la_LIBADD = $(PTHREAD_LIBS)
