# SPDX-License-Identifier: Apache-2.0
# TLS (spark.ssl.rpc): the daemon with certificates made at test time by the openssl CLI
# (tls_certs.sh), openssl s_client, and a blocking OpenSSL client of frames (tls_fixture).
TLS_TESTS = tests/integration/test_tls
check_PROGRAMS += $(TLS_TESTS)
TESTS += $(TLS_TESTS)
EXTRA_DIST += tests/integration/tls_certs.sh tests/integration/tls_fixture.h
tests_integration_test_tls_SOURCES = tests/integration/test_tls.c tests/integration/tls_fixture.c
tests_integration_test_tls_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
tests_integration_test_tls_LDADD = $(INTEGRATION_LIBS) $(SSL_LIBS) $(CRYPTO_LIBS)
# libshuffle (shuffle-fetch) <-> shuffled over TLS, every fetch mode
dist_check_SCRIPTS += tests/integration/test_tls_fetch.sh
TESTS += tests/integration/test_tls_fetch.sh
# TLS + AES (Spark 4: the cipher under TLS): every handshake, cipher and fetch mode
dist_check_SCRIPTS += tests/integration/test_tls_aes_fetch.sh
TESTS += tests/integration/test_tls_aes_fetch.sh
# sourced by both (the daemon's start and stop, refused)
EXTRA_DIST += tests/integration/tls_fetch_common.sh
# the bounded write window of the TLS, AES-CTR and AES-GCM channels
check_PROGRAMS += tests/unit/test_send_window
TESTS += tests/unit/test_send_window
tests_unit_test_send_window_SOURCES = tests/unit/test_send_window.c src/server/net/send_window.c
# TLS handshake admission: the in-progress bound and the per-second bucket (unit), and the
# real daemon closing handshakes beyond them (integration)
check_PROGRAMS += tests/unit/test_tls_admit
TESTS += tests/unit/test_tls_admit
tests_unit_test_tls_admit_SOURCES = tests/unit/test_tls_admit.c src/server/net/tls_admit.c
check_PROGRAMS += tests/integration/test_tls_limits
TESTS += tests/integration/test_tls_limits
tests_integration_test_tls_limits_SOURCES = tests/integration/test_tls_limits.c \
	tests/integration/tls_fixture.c
tests_integration_test_tls_limits_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
tests_integration_test_tls_limits_LDADD = $(INTEGRATION_LIBS) $(SSL_LIBS) $(CRYPTO_LIBS)
# the userspace TLS channel's write path (tls_window_bio) against an OpenSSL client
check_PROGRAMS += tests/unit/test_channel_tls
TESTS += tests/unit/test_channel_tls
tests_unit_test_channel_tls_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
tests_unit_test_channel_tls_LDADD = $(LDADD) $(SSL_LIBS) $(CRYPTO_LIBS)
