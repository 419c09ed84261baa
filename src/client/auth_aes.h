/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's side of spark.network.crypto: one of Spark's AES handshakes (protocol.md 12.4
 * for pbkdf2, 12.5 for x25519 and x25519-v2) as a connection phase with auth.h's steps. The
 * first step sends the client's message; the server's reply either yields AUTH_DONE with the
 * AES-CTR link (link_aes.h) to install, or AUTH_FAILED ("AES authentication failed: ..."). An
 * RpcFailure instead of a reply (a server without crypto answers "Expected SaslMessage...")
 * never reaches this file: the transport reports its text. */
#ifndef SHUFFLE_CLIENT_AUTH_AES_H
#define SHUFFLE_CLIENT_AUTH_AES_H

#include <stddef.h>
#include <stdint.h>

#include "client/auth.h"

struct aes_phase;
/* cr->crypto says which handshake. NULL only when out of memory (then *step is AUTH_FAILED). */
struct aes_phase *aes_phase_start(const struct auth_creds *cr, struct auth_step *step);
/* The server's RpcResponse body. */
void aes_phase_step(struct aes_phase *a, const uint8_t *reply, size_t len, struct auth_step *step);
void aes_phase_free(struct aes_phase *a);

#endif
