# SPDX-License-Identifier: Apache-2.0
# src/server, block service part (issue 4): block ids, placement, resolver,
# index cache, durable registry, cleanup. A library so unit tests link the
# same objects the daemon does.
noinst_LTLIBRARIES += src/server/libblock.la
src_server_libblock_la_SOURCES = \
	src/server/block/blockid.c src/server/block/blockid.h \
	src/server/block/placement.c src/server/block/placement.h \
	src/server/block/index_cache.c src/server/block/index_cache.h \
	src/server/block/map_output_cache.c src/server/block/map_output_cache.h src/common/lru.h \
	src/server/block/tenants.c src/server/block/tenants.h \
	src/server/block/resolver.c src/server/block/resolver.h \
	src/server/block/resolver_locate.c \
	src/server/block/registry_store.c src/server/block/registry_store.h src/common/write_all.h \
	src/server/block/cleanup.c src/server/block/cleanup.h \
	src/server/block/app_activity.c src/server/block/app_activity.h
# It uses the core's file opening and logging: programs link the core after it.
src_server_libblock_la_LIBADD = $(PTHREAD_LIBS) $(ZLIB_LIBS)

# The installed service: the block handler and its streams.
BLOCK_SERVICE_SOURCES = src/server/block/block_handler.c src/server/block/block_streams.c \
	src/server/block/block_register.c \
	src/server/block/block_reply.c src/server/block/block_ops.c \
	src/server/block/block_service.h \
	src/server/block/app_expiry.c src/server/block/app_expiry.h \
	src/server/block/app_listing.c
shuffled_SOURCES += $(BLOCK_SERVICE_SOURCES)
shuffled_LDADD += src/server/libblock.la $(SHUFFLED_CORE_LIBS)
