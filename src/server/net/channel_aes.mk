# SPDX-License-Identifier: Apache-2.0
# The AES channels: CTR (src/server/net/channel_aes.c) and GCM (channel_gcm.c) over one window
# (channel_cipher.c, send_window.c). Its own convenience library until the
# daemon's connection phases use it (docs/crypto.md); then it joins libshuffled_core.
noinst_LTLIBRARIES += src/server/net/libchannel_aes.la
src_server_net_libchannel_aes_la_SOURCES = \
	src/server/net/channel_aes.c src/server/net/channel_aes.h \
	src/server/net/channel_cipher.c src/server/net/channel_cipher.h \
	src/server/net/channel_gcm.c src/server/net/channel_gcm.h
# the bounded write window, shared with the TLS channel (which gets it through this library)
src_server_net_libchannel_aes_la_SOURCES += src/server/net/send_window.c src/server/net/send_window.h
src_server_net_libchannel_aes_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
src_server_net_libchannel_aes_la_LIBADD = src/crypto/libsparkcrypto.la $(CRYPTO_LIBS)
