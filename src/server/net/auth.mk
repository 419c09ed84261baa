# src/server: spark.authenticate (SASL DIGEST-MD5 via Cyrus libsasl2), in the daemon core.
src_server_libshuffled_core_la_SOURCES += src/server/net/auth.c src/server/net/auth.h \
	src/server/net/auth_secret.c src/server/net/auth_secret.h \
	src/server/net/channel_sasl.c src/server/net/channel_sasl.h
src_server_libshuffled_core_la_CFLAGS += $(SASL_CFLAGS)
src_server_libshuffled_core_la_LIBADD += $(SASL_LIBS)
