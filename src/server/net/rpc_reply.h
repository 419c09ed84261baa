/* SPDX-License-Identifier: Apache-2.0 */
/* The pending answer to one RpcRequest: a reply slot reserved on arrival, filled by
 * rpc_reply_ok/rpc_reply_fail (handler.h) from any thread, back on the connection's loop. */
#ifndef SHUFFLED_SERVER_NET_RPC_REPLY_H
#define SHUFFLED_SERVER_NET_RPC_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct reply_slot;
struct rpc_reply;

/* Reserves the answer's slot (counting the request against the read limits) and starts
 * timing it. NULL when out of memory (c is then closed). */
struct rpc_reply *rpc_reply_start(struct conn *c, int64_t request_id, const uint8_t *body,
                                  size_t len);

/* An answer decided at once (a handshake step, a refusal): RpcResponse with data (ok) or
 * RpcFailure with data as its text, into slot (reserved earlier) or the next slot (NULL);
 * close_after: stop reading and close once it is written. */
void rpc_answer_now(struct conn *c, struct reply_slot *slot, int64_t request_id, bool ok,
                    const void *data, size_t len, bool close_after);

#endif
