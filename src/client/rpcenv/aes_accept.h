/* SPDX-License-Identifier: Apache-2.0 */
/* The accepting side of spark.network.crypto for the RPC env's connections: a connecting
 * env's AES handshake message (src/crypto/aes_auth.h's server machine) answered, then the
 * connection's cipher (client/link_aes.h or link_gcm.h) installed under every later byte.
 * Both ends are libshuffle envs configured alike, so the session is picked by this env's own
 * crypto mode, not guessed from the peer's first bytes as the daemon must (docs/rpc.md). */
#ifndef SHUFFLE_CLIENT_RPCENV_AES_ACCEPT_H
#define SHUFFLE_CLIENT_RPCENV_AES_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auth_creds;
struct rpc_conn;

/* True when an RpcRequest body is an authentication message (AES, or a SASL one, which an
 * env with crypto refuses). */
bool rpc_aes_is_auth_message(const uint8_t *body, size_t len);
/* Answers request_id: the handshake's reply, after which c is authenticated and encrypted,
 * or an RpcFailure saying why not (c stays unauthenticated and plain). cr holds the env's
 * secret, crypto mode and cipher. */
void rpc_aes_accept(struct rpc_conn *c, const struct auth_creds *cr, int64_t request_id,
                    const uint8_t *body, size_t len);

#endif
