# SPDX-License-Identifier: Apache-2.0
# src/server operations side: systemd glue, metrics, admin HTTP endpoint.
# A convenience library the daemon links (shuffled_LDADD += $(SHUFFLED_OPS_LIBS)).
noinst_LTLIBRARIES += src/server/libshuffled_ops.la
src_server_libshuffled_ops_la_SOURCES = \
	src/server/ops/sd.c src/server/ops/sd.h \
	src/server/ops/metrics.c src/server/ops/metrics.h \
	src/server/ops/process_metrics.c src/server/ops/process_metrics.h \
	src/server/ops/spark_metrics.c src/server/ops/spark_metrics.h \
	src/server/ops/memory_trim.c src/server/ops/memory_trim.h \
	src/server/ops/admin_http.c src/server/ops/admin_http.h \
	src/server/ops/loop_watchdog.c src/server/ops/loop_watchdog.h \
	src/server/ops/ops_runtime.c src/server/ops/ops_runtime.h \
	src/server/ops/config_dump.c src/server/ops/config_dump.h \
	src/server/ops/config_reload.c src/server/ops/config_reload.h
src_server_libshuffled_ops_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(SYSTEMD_CFLAGS) \
	$(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)
src_server_libshuffled_ops_la_LIBADD = $(LIBEVENT_LIBS) $(SYSTEMD_LIBS) $(JANSSON_LIBS) -lm \
	$(CRYPTO_LIBS) $(PTHREAD_LIBS)

SHUFFLED_OPS_LIBS = src/server/libshuffled_ops.la

# The daemon core reports metrics and runs the ops runtime, so it carries these objects:
# everything linking the core (the daemon, its tests) gets them.
src_server_libshuffled_core_la_LIBADD += $(SHUFFLED_OPS_LIBS)

