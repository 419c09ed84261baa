# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets, one per decoder (frame + transport messages + RPC bodies, RPC bodies,
# SaslMessage, the block handler behind them). Built only by `./configure --enable-fuzz
# CC=clang`, which instruments the whole build for coverage (and ASan+UBSan); scripts/fuzz
# builds them with `make fuzz-targets` and runs them, seeded from ../shared/vectors.
FUZZ_TARGETS = tests/fuzz/fuzz_frame tests/fuzz/fuzz_blockmsg tests/fuzz/fuzz_saslmsg \
	tests/fuzz/fuzz_blockrpc tests/fuzz/fuzz_aes_msg tests/fuzz/fuzz_aes_handshake \
	tests/fuzz/fuzz_gcm_message tests/fuzz/fuzz_sasl_frames
if FUZZ
noinst_PROGRAMS += $(FUZZ_TARGETS)
endif
fuzz-targets: $(FUZZ_TARGETS)
.PHONY: fuzz-targets

# Sample messages from the message tables (shared with tests/unit/test_blockmsg_table).
FUZZ_SAMPLE_SOURCES = tests/unit/test_blockmsg_sample.c tests/unit/test_blockmsg_sample.h
FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_frame_SOURCES = tests/fuzz/fuzz_frame.c $(FUZZ_SAMPLE_SOURCES)
tests_fuzz_fuzz_frame_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_frame_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_frame_LDADD = src/proto/libproto.la
tests_fuzz_fuzz_blockmsg_SOURCES = tests/fuzz/fuzz_blockmsg.c $(FUZZ_SAMPLE_SOURCES)
tests_fuzz_fuzz_blockmsg_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_blockmsg_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_blockmsg_LDADD = src/proto/libproto.la
tests_fuzz_fuzz_saslmsg_SOURCES = tests/fuzz/fuzz_saslmsg.c
tests_fuzz_fuzz_saslmsg_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_saslmsg_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_saslmsg_LDADD = src/proto/libproto.la
# The real block handler with the daemon core replaced by stubs (tests/block/core_stubs.c).
tests_fuzz_fuzz_blockrpc_SOURCES = tests/fuzz/fuzz_blockrpc.c tests/block/core_stubs.c \
	$(BLOCK_SERVICE_SOURCES) src/server/stream/file_open.c src/server/ops/metrics.c \
	src/server/ops/process_metrics.c
tests_fuzz_fuzz_blockrpc_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_blockrpc_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_blockrpc_LDADD = $(HARNESS_LIBS) src/server/libblock.la src/proto/libproto.la \
	$(PTHREAD_LIBS) $(LIBEVENT_LIBS) $(JANSSON_LIBS)
# The AES auth messages (libproto) and both handshake state machines (src/crypto, libcrypto).
tests_fuzz_fuzz_aes_msg_SOURCES = tests/fuzz/fuzz_aes_msg.c
tests_fuzz_fuzz_aes_msg_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_aes_msg_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_aes_msg_LDADD = src/proto/libproto.la
tests_fuzz_fuzz_aes_handshake_SOURCES = tests/fuzz/fuzz_aes_handshake.c
tests_fuzz_fuzz_aes_handshake_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(CRYPTO_CFLAGS)
tests_fuzz_fuzz_aes_handshake_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_aes_handshake_LDADD = src/crypto/libsparkcrypto.la src/proto/libproto.la \
	$(CRYPTO_LIBS)
# Spark 4.0's AES-GCM channel messages (src/crypto, libcrypto).
tests_fuzz_fuzz_gcm_message_SOURCES = tests/fuzz/fuzz_gcm_message.c
tests_fuzz_fuzz_gcm_message_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(CRYPTO_CFLAGS)
tests_fuzz_fuzz_gcm_message_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_gcm_message_LDADD = src/crypto/libsparkcrypto.la src/proto/libproto.la \
	$(CRYPTO_LIBS)
# SASL's security-layer pieces as the daemon reads them (channel_sasl.c, libsasl2).
tests_fuzz_fuzz_sasl_frames_SOURCES = tests/fuzz/fuzz_sasl_frames.c \
	src/server/net/channel_sasl.c src/server/net/channel_plain.c
tests_fuzz_fuzz_sasl_frames_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(SASL_CFLAGS)
tests_fuzz_fuzz_sasl_frames_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_sasl_frames_LDADD = src/proto/libproto.la $(SASL_LIBS)

# libshuffle's push-based shuffle replies (MergedBlockMetaSuccess, MergeStatuses) through
# CRoaring (issue 17).
FUZZ_TARGETS += tests/fuzz/fuzz_client_replies
tests_fuzz_fuzz_client_replies_SOURCES = tests/fuzz/fuzz_client_replies.c src/client/mapsets.c \
	src/client/mapsets.h
tests_fuzz_fuzz_client_replies_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_client_replies_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_client_replies_LDADD = src/proto/libproto.la $(ROARING_LIBS)
# The push path's PushBlockStream decoder, differential against blockmsg_decode.
FUZZ_TARGETS += tests/fuzz/fuzz_push_block_view
tests_fuzz_fuzz_push_block_view_SOURCES = tests/fuzz/fuzz_push_block_view.c \
	tests/unit/push_block_view_same.h
tests_fuzz_fuzz_push_block_view_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_push_block_view_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_push_block_view_LDADD = src/proto/libproto.la
