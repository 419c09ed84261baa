# SPDX-License-Identifier: Apache-2.0
# src/crypto: Spark's AES auth handshakes and AES-CTR channel streams, over OpenSSL's
# libcrypto (protocol.md 12.4, 12.5). Shared by the daemon and libshuffle; no I/O. Users link
# src/proto/libproto.la themselves (libshuffle would otherwise get its objects twice).
noinst_LTLIBRARIES += src/crypto/libsparkcrypto.la
src_crypto_libsparkcrypto_la_SOURCES = \
	src/crypto/primitives.c src/crypto/primitives.h \
	src/crypto/ctr_stream.c src/crypto/ctr_stream.h \
	src/crypto/aes_session.c src/crypto/aes_session.h \
	src/crypto/aes_auth_v1.c src/crypto/aes_auth_v1.h \
	src/crypto/aes_auth_x25519.c src/crypto/aes_auth_x25519.h \
	src/crypto/aes_auth.c src/crypto/aes_auth.h \
	src/crypto/gcm_message.c src/crypto/gcm_message.h \
	src/crypto/gcm_inbox.c src/crypto/gcm_inbox.h
src_crypto_libsparkcrypto_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
src_crypto_libsparkcrypto_la_LIBADD = $(CRYPTO_LIBS)
