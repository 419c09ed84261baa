# SPDX-License-Identifier: Apache-2.0
# src/proto: the messages of Spark's AES auth protocols (protocol.md 12.4, 12.5); no crypto here.
src_proto_libproto_la_SOURCES += \
	src/proto/aes_challenge.c src/proto/aes_challenge.h \
	src/proto/aes_authmsg.c src/proto/aes_authmsg.h
