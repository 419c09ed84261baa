/* SPDX-License-Identifier: Apache-2.0 */
/* An ask's reply context: answered exactly once, from any thread. It holds two references,
 * the answer's and the dispatcher's (released when the callback that got it returns), so a
 * second answer from inside or after the callback is refused instead of touching freed
 * memory while the callback still runs. The answer goes to a sink the env chose (the loop's
 * hand-off for a remote ask, the local ask's record otherwise). */
#ifndef SHUFFLE_CLIENT_RPCENV_REPLY_H
#define SHUFFLE_CLIENT_RPCENV_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "shuffle/rpc.h"

/* status SHUFFLE_OK with (data, len), or an error status with its text. a and b are the
 * sink's own (e.g. connection id and request id). */
typedef void (*rpcenv_reply_sink_fn)(void *sink, uint64_t a, uint64_t b, int status,
                                     const char *error, const uint8_t *data, size_t len);

shuffle_rpc_reply *rpcenv_reply_new(rpcenv_reply_sink_fn fn, void *sink, uint64_t a, uint64_t b);
/* The answer with an env status (not the endpoint's): used when an ask cannot be delivered. */
int rpcenv_reply_fail(shuffle_rpc_reply *r, int status, const char *error);
/* Frees r unanswered: only when it never reached an endpoint. */
void rpcenv_reply_drop(shuffle_rpc_reply *r);
/* Drops the dispatcher's reference. */
void rpcenv_reply_release(shuffle_rpc_reply *r);

#endif
