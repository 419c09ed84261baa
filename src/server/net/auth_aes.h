/* SPDX-License-Identifier: Apache-2.0 */
/* spark.network.crypto.enabled on the daemon (crypto_enabled): the AES auth handshake of Spark
 * 2.2-3.1 (ClientChallenge, tag 0xFA) or 3.2+ (AuthMessage, 0xFB) answered in the auth phase,
 * then every byte both ways through the AES-CTR channel (channel_aes.c). */
#ifndef SHUFFLED_SERVER_NET_AUTH_AES_H
#define SHUFFLED_SERVER_NET_AUTH_AES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;

/* True when an unauthenticated connection's RpcRequest body is an AES auth message. */
bool auth_aes_is_handshake(const uint8_t *body, size_t len);
/* Runs the handshake for that body: answers it (from the shared secret, or the app's file in
 * secrets_dir read off the loop), switches the connection to AES and ends the auth phase, or
 * refuses ("Authentication failed.") and closes. False only for a malformed message with
 * sasl_fallback: the caller then treats the body as SASL (which refuses it, as Spark does). */
bool auth_aes_on_rpc(struct conn *c, int64_t request_id, const uint8_t *body, size_t len,
                     const char *shared_secret, const char *secrets_dir, bool sasl_fallback);

#endif
