# SPDX-License-Identifier: Apache-2.0
# src/proto: the SaslMessage carrier and Spark's SASL password derivation (protocol.md 12.2).
src_proto_libproto_la_SOURCES += src/proto/saslmsg.c src/proto/saslmsg.h
src_proto_libproto_la_SOURCES += src/proto/sasl_mutex.h
# the security layer's pieces (protocol.md 12.3), for channel_sasl.c and link_sasl.c
src_proto_libproto_la_SOURCES += src/proto/sasl_piece.c src/proto/sasl_piece.h
