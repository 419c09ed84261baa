# SPDX-License-Identifier: Apache-2.0
# src/client: the cipher seam under a connection (link.h) and the links plugged into it.
src_client_libshuffle_la_SOURCES += src/client/link.c src/client/link.h
# spark.network.crypto: the AES handshakes (src/crypto) as a phase, AES-CTR as a link.
src_client_libshuffle_la_SOURCES += src/client/link_aes.c src/client/link_aes.h \
	src/client/auth_aes.c src/client/auth_aes.h \
	src/client/link_gcm.c src/client/link_gcm.h
src_client_libshuffle_la_CFLAGS += $(CRYPTO_CFLAGS)
src_client_libshuffle_la_LIBADD += src/crypto/libsparkcrypto.la $(CRYPTO_LIBS)
