/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC environment's request envelope: the body of an RpcRequest or OneWayMessage sent to a
 * named endpoint (docs/rpc.md). Laid out like the header of Spark's NettyRpcEnv request
 * message (big-endian, lengths before bytes):
 *   sender address   u8 present (0|1); if 1: u16 hostLen | host | i32 port
 *   receiver address the same
 *   receiver name    u16 nameLen | name
 *   payload          the rest of the body, opaque bytes
 * Hosts and names are byte strings without NUL bytes (UTF-8 in practice), at most
 * RPC_ENVELOPE_MAX_STRING bytes. Spark's payload is Java-serialized; ours is opaque. */
#ifndef SHUFFLED_PROTO_RPC_ENVELOPE_H
#define SHUFFLED_PROTO_RPC_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

#define RPC_ENVELOPE_MAX_STRING 65535

/* The name every env answers itself (the endpoint verifier): an ask's payload is an endpoint
 * name, the answer "1" (registered there) or "0". */
#define RPC_VERIFIER_NAME "endpoint-verifier"

/* An address as it travels: absent (a client-only env has none), or host and port. */
struct rpc_envelope_addr {
    bool present;
    struct proto_view host; /* borrowed; no NUL inside */
    int32_t port;           /* 0..65535 */
};

struct rpc_envelope {
    struct rpc_envelope_addr sender, receiver;
    struct proto_view name; /* the receiving endpoint's name; borrowed */
    struct proto_view payload;
};

/* Decodes body into e (views borrowed from body). Returns 0, or -1 with err filled (a
 * truncated field, a presence byte other than 0/1, a port outside 0..65535, a NUL byte in a
 * host or name, an empty name). */
int rpc_envelope_decode(const uint8_t *body, size_t len, struct rpc_envelope *e, char *err,
                        size_t errlen);

/* Size of the encoded header (everything but the payload) of e. */
size_t rpc_envelope_header_len(const struct rpc_envelope *e);

/* Appends e's header and then its payload to w. Returns false (w->failed set) when a host or
 * name is longer than RPC_ENVELOPE_MAX_STRING or memory ran out. */
bool rpc_envelope_encode(struct proto_writer *w, const struct rpc_envelope *e);

/* Largest frame head rpc_frame_head writes: frame header, request id, body length and an
 * envelope whose hosts and name are at most 255 bytes each. */
#define RPC_FRAME_HEAD_MAX (9 + 8 + 4 + 2 * (1 + 2 + 255 + 4) + 2 + 255)

/* Writes into out (RPC_FRAME_HEAD_MAX bytes) the start of a whole RpcRequest (request_id >= 0)
 * or OneWayMessage (request_id < 0) frame whose body is e: the frame header, then e's header;
 * e's payload is what follows it on the wire. Returns the bytes written, or 0 when a host or
 * name is longer than 255 bytes. */
size_t rpc_frame_head(uint8_t *out, int64_t request_id, const struct rpc_envelope *e);

#endif
