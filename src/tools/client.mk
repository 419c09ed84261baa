# SPDX-License-Identifier: Apache-2.0
# src/tools: the libshuffle command-line tools (shuffle-fetch, shuffle-bench).
bin_PROGRAMS += src/tools/shuffle-fetch src/tools/shuffle-bench
CLIENT_TOOL_HELPERS = src/tools/manifest_check.c src/tools/manifest_check.h \
	src/tools/checksum.c src/tools/checksum.h \
	src/tools/peer_arg.c src/tools/peer_arg.h \
	src/tools/peer_probe.c src/tools/peer_probe.h \
	src/tools/error_tally.c src/tools/error_tally.h \
	src/tools/secure_opts.c src/tools/secure_opts.h
src_tools_shuffle_fetch_SOURCES = src/tools/shuffle_fetch.c src/tools/fetch_cli.c \
	src/tools/opt_table.c src/tools/opt_table.h \
	src/tools/merged_fetch.c src/tools/merged_fetch.h \
	src/common/spark_checksum.c src/common/spark_checksum.h \
	src/tools/fetch_cli.h $(CLIENT_TOOL_HELPERS)
src_tools_shuffle_fetch_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS) $(ISAL_CFLAGS)
src_tools_shuffle_fetch_LDADD = src/client/libshuffle.la $(CRYPTO_LIBS) $(ZLIB_LIBS) $(ISAL_LIBS) \
	$(PTHREAD_LIBS)
src_tools_shuffle_bench_SOURCES = src/tools/shuffle_bench.c src/tools/opt_table.c \
	src/tools/opt_table.h $(CLIENT_TOOL_HELPERS)
src_tools_shuffle_bench_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS)
src_tools_shuffle_bench_LDADD = src/client/libshuffle.la $(CRYPTO_LIBS) $(ZLIB_LIBS) $(PTHREAD_LIBS)
dist_man_MANS += man/shuffle-fetch.1 man/shuffle-bench.1

# shuffledctl: the admin endpoint from the command line (issue 18).
bin_PROGRAMS += src/tools/shuffledctl
src_tools_shuffledctl_SOURCES = src/tools/shuffledctl.c src/tools/peer_arg.c src/tools/peer_arg.h
src_tools_shuffledctl_CPPFLAGS = $(AM_CPPFLAGS) -DSBINDIR='"$(sbindir)"' \
	-DSYSCONFDIR='"$(sysconfdir)"'
dist_man_MANS += man/shuffledctl.8

# shuffle-push: a map output's blocks pushed to be merged (push-based shuffle, issue 17).
bin_PROGRAMS += src/tools/shuffle-push
src_tools_shuffle_push_SOURCES = src/tools/shuffle_push.c src/tools/opt_table.c \
	src/tools/opt_table.h src/tools/peer_arg.c src/tools/peer_arg.h \
	src/tools/peer_probe.c src/tools/peer_probe.h \
	src/tools/secure_opts.c src/tools/secure_opts.h
src_tools_shuffle_push_LDADD = src/client/libshuffle.la $(PTHREAD_LIBS)
dist_man_MANS += man/shuffle-push.1
