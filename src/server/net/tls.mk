# SPDX-License-Identifier: Apache-2.0
# spark.ssl.rpc in the daemon core: the TLS context (SIGHUP reload), the TLS channel (kernel
# TLS sendfile or a bounded userspace window) and the connection phase that installs it.
src_server_libshuffled_core_la_SOURCES += src/server/net/tls_context.c \
	src/server/net/tls_protocols.c src/server/net/tls_protocols.h \
	src/server/net/tls_context.h src/server/net/channel_tls.c src/server/net/channel_tls.h \
	src/server/net/tls_conn.c src/server/net/tls_conn.h src/server/net/tls_admit.c \
	src/server/net/tls_admit.h
# Spark's AES (or SASL auth-conf) under TLS: a BIO over the cipher channel, put in at first use
src_server_libshuffled_core_la_SOURCES += src/common/callback_bio.c src/common/callback_bio.h \
	src/server/net/channel_under_tls.c src/server/net/channel_under_tls.h
# userspace TLS: records into the send window, many per socket write
src_server_libshuffled_core_la_SOURCES += src/server/net/tls_window_bio.c \
	src/server/net/tls_window_bio.h
src_server_libshuffled_core_la_CFLAGS += $(SSL_CFLAGS)
src_server_libshuffled_core_la_LIBADD += $(SSL_LIBS)
