# SPDX-License-Identifier: Apache-2.0
# Spark's AES auth protocols: message codecs, both handshakes against the spec and every
# recorded session, and the AES-CTR channel over a socketpair. Sources: the defaults of
# tests/local.mk; the handshakes and the channel link libcrypto's wrappers before the defaults.
EXTRA_DIST += tests/unit/aes_vectors.h tests/unit/aes_handshake.h tests/unit/channel_pair.h \
	tests/unit/gcm_vectors.h
AES_TESTS = tests/unit/test_aes_msg tests/unit/test_aes_auth tests/unit/test_channel_aes
check_PROGRAMS += $(AES_TESTS)
TESTS += $(AES_TESTS)
tests_unit_test_aes_auth_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_aes_auth_LDADD = src/crypto/libsparkcrypto.la $(LDADD) $(CRYPTO_LIBS)
tests_unit_test_channel_aes_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_channel_aes_LDADD = src/server/net/libchannel_aes.la $(LDADD) $(CRYPTO_LIBS)
# Spark 4.0's AES-GCM channel messages against ../shared/vectors-40/gcm-*.
check_PROGRAMS += tests/unit/test_gcm_message
TESTS += tests/unit/test_gcm_message
tests_unit_test_gcm_message_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_gcm_message_LDADD = src/crypto/libsparkcrypto.la $(LDADD) $(CRYPTO_LIBS)
# The AES channel with the AES-GCM cipher over a socketpair.
check_PROGRAMS += tests/unit/test_channel_gcm
TESTS += tests/unit/test_channel_gcm
tests_unit_test_channel_gcm_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_channel_gcm_LDADD = src/server/net/libchannel_aes.la $(LDADD) $(CRYPTO_LIBS)
# Spark 4.0's TLS + AES (../shared/vectors-40/tls-plus-aes): the CTR stream under TLS.
check_PROGRAMS += tests/unit/test_tls_aes_vectors
TESTS += tests/unit/test_tls_aes_vectors
tests_unit_test_tls_aes_vectors_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_tls_aes_vectors_LDADD = src/server/net/libchannel_aes.la $(LDADD) $(CRYPTO_LIBS)
# The daemon's TLS channel with AES-CTR put under it, watched on the wire.
check_PROGRAMS += tests/unit/test_tls_under
TESTS += tests/unit/test_tls_under
tests_unit_test_tls_under_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_tls_under_LDADD = src/server/net/libchannel_aes.la $(LDADD) $(SSL_LIBS) $(CRYPTO_LIBS)
