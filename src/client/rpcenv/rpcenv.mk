# SPDX-License-Identifier: Apache-2.0
# The RPC environment (issue 19, docs/rpc.md): the envelope codec in libproto, the env in
# libshuffle (src/client/rpcenv), its tests, the fuzz target, the shuffle-rpc tool and the example.
src_proto_libproto_la_SOURCES += src/proto/rpc_envelope.c src/proto/rpc_envelope.h

RPCENV_SOURCES = \
	src/client/rpcenv/env.h src/client/rpcenv/env.c src/client/rpcenv/ref.c \
	src/client/rpcenv/env_state.h src/client/rpcenv/env_loop.h src/client/rpcenv/env_loop.c src/client/rpcenv/env_requests.c \
	src/client/rpcenv/env_requests.h \
	src/client/rpcenv/endpoints.c \
	src/client/rpcenv/inbox.h src/client/rpcenv/inbox.c \
	src/client/rpcenv/backpressure.h src/client/rpcenv/backpressure.c \
	src/client/rpcenv/registry.h src/client/rpcenv/registry.c \
	src/client/rpcenv/reply.h src/client/rpcenv/reply.c \
	src/client/rpcenv/conn.h src/client/rpcenv/conn.c \
	src/client/rpcenv/asks.h src/client/rpcenv/asks.c \
	src/client/rpcenv/outbox.h src/client/rpcenv/outbox.c \
	src/client/rpcenv/status.h src/client/rpcenv/status.c \
	src/client/rpcenv/fields.c \
	src/client/rpcenv/sasl_server.h src/client/rpcenv/sasl_server.c \
	src/client/rpcenv/aes_accept.h src/client/rpcenv/aes_accept.c
src_client_libshuffle_la_SOURCES += $(RPCENV_SOURCES)
shuffleinclude_HEADERS += include/shuffle/rpc.h

RPC_UNIT_TESTS = tests/unit/test_rpc_envelope tests/unit/test_rpc_env tests/unit/test_rpc_flow
check_PROGRAMS += $(RPC_UNIT_TESTS)
TESTS += $(RPC_UNIT_TESTS)
# the env in one process: inboxes, replies, local and loopback asks, outboxes
tests_unit_test_rpc_env_LDADD = src/client/libshuffle.la $(HARNESS_LIBS) $(CHECK_LIBS) \
	$(LIBEVENT_LIBS) $(PTHREAD_LIBS)
# back-pressure (a slow, a stuck endpoint) and run_on_loop endpoints, over loopback
tests_unit_test_rpc_flow_LDADD = src/client/libshuffle.la $(HARNESS_LIBS) $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

FUZZ_TARGETS += tests/fuzz/fuzz_rpc_envelope
tests_fuzz_fuzz_rpc_envelope_SOURCES = tests/fuzz/fuzz_rpc_envelope.c
tests_fuzz_fuzz_rpc_envelope_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_rpc_envelope_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rpc_envelope_LDADD = src/proto/libproto.la

# shuffle-rpc: serve, ask, send, bench (man 1 shuffle-rpc).
bin_PROGRAMS += src/tools/shuffle-rpc
src_tools_shuffle_rpc_SOURCES = src/tools/shuffle_rpc.c src/tools/rpc_cli.h src/tools/rpc_cli.c \
	src/tools/rpc_bench.c src/tools/rpc_bench.h src/tools/rpc_demo.c src/tools/rpc_demo.h \
	src/tools/peer_arg.c src/tools/peer_arg.h src/tools/secure_opts.c src/tools/secure_opts.h
src_tools_shuffle_rpc_LDADD = src/client/libshuffle.la $(LIBEVENT_LIBS) $(PTHREAD_LIBS)
dist_man_MANS += man/shuffle-rpc.1

# Across processes: shuffle-rpc serve as the peer (needs the tool built first).
check_PROGRAMS += tests/integration/test_rpc_remote
TESTS += tests/integration/test_rpc_remote
tests_integration_test_rpc_remote_LDADD = src/client/libshuffle.la $(HARNESS_LIBS) $(CHECK_LIBS) \
	$(PTHREAD_LIBS)
tests_integration_test_rpc_remote_DEPENDENCIES = src/tools/shuffle-rpc src/client/libshuffle.la \
	$(HARNESS_LIBS)

# The example of docs/rpc.md: two nodes exchanging messages; built and run by make check.
check_PROGRAMS += examples/rpc_two_nodes
TESTS += examples/rpc_two_nodes
examples_rpc_two_nodes_LDADD = src/client/libshuffle.la $(PTHREAD_LIBS)
