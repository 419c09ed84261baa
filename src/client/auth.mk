# SPDX-License-Identifier: Apache-2.0
# src/client: spark.authenticate (SASL DIGEST-MD5 via Cyrus libsasl2) in libshuffle.
src_client_libshuffle_la_SOURCES += src/client/auth.c src/client/auth.h \
	src/client/link_sasl.c src/client/link_sasl.h
src_client_libshuffle_la_CFLAGS += $(SASL_CFLAGS)
src_client_libshuffle_la_LIBADD += $(SASL_LIBS)
