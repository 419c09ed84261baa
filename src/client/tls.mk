# SPDX-License-Identifier: Apache-2.0
# src/client: TLS (spark.ssl.rpc) on the cipher seam, with OpenSSL's libssl.
src_client_libshuffle_la_SOURCES += src/client/tls_link.c src/client/tls_link.h
# AES (spark.network.crypto) under TLS: SSL reads the cipher link through a callback BIO
src_client_libshuffle_la_SOURCES += src/common/callback_bio.c src/common/callback_bio.h
src_client_libshuffle_la_CFLAGS += $(SSL_CFLAGS)
src_client_libshuffle_la_LIBADD += $(SSL_LIBS) $(CRYPTO_LIBS)
