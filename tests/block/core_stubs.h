/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon core's side of the service interface as stubs, for running the block service
 * without a daemon (test_block_service, fuzz_blockrpc): blocking work runs inline on the
 * caller's thread, logging is off, and the connection's peer and authenticated client id are
 * what these hold; a connection keeps no attachment and pool jobs run inline. Replies and stream
 * registration stay each program's own. */
#ifndef SHUFFLED_TESTS_BLOCK_CORE_STUBS_H
#define SHUFFLED_TESTS_BLOCK_CORE_STUBS_H

extern const char *stub_peer;      /* conn_peer() of every connection */
extern const char *stub_client_id; /* conn_client_id(): NULL unauthenticated */

#endif
