# SPDX-License-Identifier: Apache-2.0
# src/proto: the bytes of the protocol, shared by the daemon and libshuffle.
noinst_LTLIBRARIES += src/proto/libproto.la
src_proto_libproto_la_SOURCES = \
	src/proto/codec.c src/proto/codec.h \
	src/proto/frame.c src/proto/frame.h \
	src/proto/msgdesc.h \
	src/proto/msgdesc_codec.c src/proto/msgdesc_codec.h \
	src/proto/msgdesc_describe.c src/proto/msgdesc_describe.h \
	src/proto/message.c src/proto/message.h \
	src/proto/blockmsg.c src/proto/blockmsg.h \
	src/proto/push_block_view.c src/proto/push_block_view.h
# CRoaring finds where a portable RoaringBitmap ends (codec.c).
src_proto_libproto_la_LIBADD = $(ROARING_LIBS)
