/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon core's side of the service interface as stubs, for running the block service
 * without a daemon (test_block_service, fuzz_blockrpc): blocking work runs inline on the
 * caller's thread, logging is off, and the connection's peer and authenticated client id are
 * what these hold. Replies and stream registration stay each program's own. */
#ifndef SHUFFLED_TESTS_BLOCK_CORE_STUBS_H
#define SHUFFLED_TESTS_BLOCK_CORE_STUBS_H

extern const char *stub_peer;      /* conn_peer() of every connection */
extern const char *stub_client_id; /* conn_client_id(): NULL unauthenticated */

#include <stddef.h>
#include <stdint.h>

/* The answers a service gives through reply slots rather than rpc_reply (MergedBlockMetaRequest
 * with push_enabled): the last one, and how many so far. */
struct stub_slot_answer {
    int count;
    int type; /* proto_msg type: MergedBlockMetaSuccess or RpcFailure */
    int64_t request_id;
    int32_t num_chunks;
    uint8_t body[4096];
    size_t len;
    char err[4096];
};
extern struct stub_slot_answer stub_slot_answer;

#endif
