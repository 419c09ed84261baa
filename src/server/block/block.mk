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

# The installed service: the block handler replaces service_none.c in shuffled.
BLOCK_SERVICE_SOURCES = src/server/block_handler.c src/server/block_streams.c \
	src/server/block_service.h
shuffled_SOURCES += $(BLOCK_SERVICE_SOURCES)
shuffled_LDADD += src/server/libblock.la
