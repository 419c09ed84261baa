# SPDX-License-Identifier: Apache-2.0
# src/client: libshuffle, the client library (public headers in include/shuffle/).
lib_LTLIBRARIES += src/client/libshuffle.la
src_client_libshuffle_la_SOURCES = \
	src/client/internal.h src/client/context.c \
	src/client/util.h src/client/util.c src/client/request_cb.h \
	src/client/errors.h src/client/errors.c \
	src/client/transport.h src/client/transport.c \
	src/client/transport_conn.h src/client/transport_connect.c \
	src/client/transport_handshake.c src/client/transport_read.c src/client/transport_send.c \
	src/client/rx.h src/client/rx.c src/common/write_all.h \
	src/client/replies.h src/client/replies.c \
	src/client/pending.h src/client/pending.c \
	src/client/pool.h src/client/pool.c \
	src/client/resolve.h src/client/resolve.c \
	src/client/dial.h src/client/dial.c \
	src/client/blockids.h src/client/blockids.c \
	src/client/fetcher.h src/client/fetcher.c \
	src/client/retry.c \
	src/client/ops.c \
	src/client/sync.c \
	src/client/ops.h src/client/mapsets.h src/client/mapsets.c \
	src/client/merge_ops.h src/client/merge_ops.c src/client/push.c
src_client_libshuffle_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(ROARING_CFLAGS)
src_client_libshuffle_la_LIBADD = src/proto/libproto.la $(LIBEVENT_LIBS) $(PTHREAD_LIBS) \
	$(ROARING_LIBS)
src_client_libshuffle_la_LDFLAGS = $(AM_LDFLAGS) -version-info 2:0:1 \
	-export-symbols-regex '^shuffle_'

shuffleincludedir = $(includedir)/shuffle
shuffleinclude_HEADERS = include/shuffle/client.h include/shuffle/sync.h \
	include/shuffle/push.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = src/client/libshuffle.pc
EXTRA_DIST += src/client/libshuffle.pc.in
dist_man_MANS += man/libshuffle.3
