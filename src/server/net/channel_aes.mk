# SPDX-License-Identifier: Apache-2.0
# The AES-CTR channel (src/server/net/channel_aes.c). Its own convenience library until the
# daemon's connection phases use it (docs/crypto.md); then it joins libshuffled_core.
noinst_LTLIBRARIES += src/server/net/libchannel_aes.la
src_server_net_libchannel_aes_la_SOURCES = \
	src/server/net/channel_aes.c src/server/net/channel_aes.h
# the bounded write window, shared with the TLS channel (which gets it through this library)
src_server_net_libchannel_aes_la_SOURCES += src/server/net/send_window.c src/server/net/send_window.h
src_server_net_libchannel_aes_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
src_server_net_libchannel_aes_la_LIBADD = src/crypto/libsparkcrypto.la $(CRYPTO_LIBS)
