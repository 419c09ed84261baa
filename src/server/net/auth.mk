# SPDX-License-Identifier: Apache-2.0
# src/server: spark.authenticate (SASL DIGEST-MD5 via Cyrus libsasl2), in the daemon core.
src_server_libshuffled_core_la_SOURCES += src/server/net/auth.c src/server/net/auth.h \
	src/server/net/auth_secret.c src/server/net/auth_secret.h \
	src/server/net/channel_sasl.c src/server/net/channel_sasl.h \
	src/server/net/sasl_offer.c src/server/net/sasl_offer.h \
	src/server/net/auth_aes.c src/server/net/auth_aes.h
src_server_libshuffled_core_la_CFLAGS += $(SASL_CFLAGS) $(CRYPTO_CFLAGS)
# spark.network.crypto: the AES handshakes (src/crypto) and the AES-CTR channel
src_server_libshuffled_core_la_LIBADD += $(SASL_LIBS) src/server/net/libchannel_aes.la \
	src/crypto/libsparkcrypto.la $(CRYPTO_LIBS)
