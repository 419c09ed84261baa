# SPDX-License-Identifier: Apache-2.0
# crypto-floor (issue 20): the least CPU per GB of plain, AES-CTR, AES-GCM and TLS on this
# machine, for comparing the daemon with (scripts/crypto-floor). Not installed.
noinst_PROGRAMS += src/tools/crypto-floor
src_tools_crypto_floor_SOURCES = src/tools/crypto_floor.c src/tools/crypto_floor_setup.c \
	src/tools/crypto_floor_main.c src/tools/crypto_floor.h
src_tools_crypto_floor_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS) $(CRYPTO_CFLAGS)
src_tools_crypto_floor_LDADD = $(SSL_LIBS) $(CRYPTO_LIBS)
# every mode's bytes checked end to end (--verify)
dist_check_SCRIPTS += tests/integration/test_crypto_floor.sh
TESTS += tests/integration/test_crypto_floor.sh
