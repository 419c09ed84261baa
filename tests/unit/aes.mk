# Spark's AES auth protocols: message codecs, both handshakes against the spec and every
# recorded session, and the AES-CTR channel over a socketpair.
EXTRA_DIST += tests/unit/aes_vectors.h tests/unit/aes_handshake.h
AES_TEST_LIBS = src/crypto/libsparkcrypto.la $(UNIT_LIBS) $(CRYPTO_LIBS)

check_PROGRAMS += tests/unit/test_aes_msg tests/unit/test_aes_auth tests/unit/test_channel_aes
TESTS += tests/unit/test_aes_msg tests/unit/test_aes_auth tests/unit/test_channel_aes
tests_unit_test_aes_msg_SOURCES = tests/unit/test_aes_msg.c
tests_unit_test_aes_msg_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_aes_msg_LDADD = $(UNIT_LIBS)
tests_unit_test_aes_auth_SOURCES = tests/unit/test_aes_auth.c
tests_unit_test_aes_auth_CFLAGS = $(UNIT_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_aes_auth_LDADD = $(AES_TEST_LIBS)
tests_unit_test_channel_aes_SOURCES = tests/unit/test_channel_aes.c
tests_unit_test_channel_aes_CFLAGS = $(UNIT_CFLAGS) -D_GNU_SOURCE $(CRYPTO_CFLAGS)
tests_unit_test_channel_aes_LDADD = src/server/net/libchannel_aes.la src/server/libshuffled_core.la \
	$(AES_TEST_LIBS)
