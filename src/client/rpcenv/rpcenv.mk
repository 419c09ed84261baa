# SPDX-License-Identifier: Apache-2.0
# The RPC environment (issue 19, docs/rpc.md): the envelope codec in libproto, the env in
# libshuffle (src/client/rpcenv), its tests, the fuzz target, the shuffle-rpc tool and the example.
src_proto_libproto_la_SOURCES += src/proto/rpc_envelope.c src/proto/rpc_envelope.h

RPC_UNIT_TESTS = tests/unit/test_rpc_envelope
check_PROGRAMS += $(RPC_UNIT_TESTS)
TESTS += $(RPC_UNIT_TESTS)

FUZZ_TARGETS += tests/fuzz/fuzz_rpc_envelope
tests_fuzz_fuzz_rpc_envelope_SOURCES = tests/fuzz/fuzz_rpc_envelope.c
tests_fuzz_fuzz_rpc_envelope_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_rpc_envelope_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rpc_envelope_LDADD = src/proto/libproto.la
