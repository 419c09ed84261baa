# SPDX-License-Identifier: Apache-2.0
# src/client: TLS (spark.ssl.rpc) on the cipher seam, with OpenSSL's libssl.
src_client_libshuffle_la_SOURCES += src/client/tls_link.c src/client/tls_link.h
src_client_libshuffle_la_CFLAGS += $(SSL_CFLAGS)
src_client_libshuffle_la_LIBADD += $(SSL_LIBS) $(CRYPTO_LIBS)
