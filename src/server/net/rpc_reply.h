/* The pending answer to one RpcRequest: a reply slot reserved on arrival, filled by
 * rpc_reply_ok/rpc_reply_fail (handler.h) from any thread, back on the connection's loop. */
#ifndef SHUFFLED_SERVER_NET_RPC_REPLY_H
#define SHUFFLED_SERVER_NET_RPC_REPLY_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct rpc_reply;

/* Reserves the answer's slot (counting the request against the read limits) and starts
 * timing it. NULL when out of memory (c is then closed). */
struct rpc_reply *rpc_reply_start(struct conn *c, int64_t request_id, const uint8_t *body,
                                  size_t len);

#endif
