/* SPDX-License-Identifier: Apache-2.0 */
/* Spark 3.2+'s forward-secure auth protocol (protocol.md 12.5): each side sends an AuthMessage holding
 * an ephemeral X25519 public key sealed with AES-GCM under a key HKDF derives from the shared
 * secret; the session comes from the X25519 secret and the transcript (both messages as
 * encoded). Both sides as pure steps over message bodies: no I/O, randomness from a
 * crypto_rng. */
#ifndef SHUFFLED_CRYPTO_AES_AUTH_X25519_H
#define SHUFFLED_CRYPTO_AES_AUTH_X25519_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/aes_session.h"
#include "crypto/primitives.h"
#include "proto/aes_authmsg.h"

#define AES_X25519_SALT_LEN 16
#define AES_X25519_KEK_LEN 16
/* A sealed public key: GCM IV || encrypted key || tag. */
#define AES_X25519_SEALED_LEN (CRYPTO_GCM_IV_LEN + CRYPTO_X25519_LEN + CRYPTO_GCM_TAG_LEN)

/* The client between its AuthMessage and the server's. */
struct aes_x25519_client {
    const char *app_id; /* borrowed for the handshake's life */
    const char *secret;
    enum aes_protocol protocol; /* AES_PROTO_X25519_V1 or _V2 */
    uint8_t priv[CRYPTO_X25519_LEN];
    uint8_t *sent; /* the encoded AuthMessage sent: the transcript's first half */
    size_t sent_len;
};

/* Draws the private key, the salt and the GCM IV (Spark's order) and writes the AuthMessage
 * body (malloc'd, also kept for the transcript). 0, or -1. */
int aes_x25519_client_start(struct aes_x25519_client *c, enum aes_protocol protocol,
                            const char *app_id, const char *secret, const struct crypto_rng *rng,
                            uint8_t **body, size_t *len);
/* Opens the server's AuthMessage and derives the session. 0, or -1 with err filled (another
 * appId, a tag that does not verify: wrong secret or a changed message). */
int aes_x25519_client_finish(struct aes_x25519_client *c, const uint8_t *reply, size_t len,
                             struct aes_session *out, char *err, size_t errlen);
void aes_x25519_client_wipe(struct aes_x25519_client *c);

/* The server's one step: opens the client's decoded AuthMessage with the app's secret, draws
 * its private key, salt and GCM IV, writes its AuthMessage body (malloc'd) and derives both
 * possible sessions: out[0] for authEngineVersion 1, out[1] for version 2 (see
 * aes_session_pick). 0, or -1 with err filled. */
int aes_x25519_server_respond(const struct aes_authmsg *m, const char *secret,
                              const struct crypto_rng *rng, uint8_t **reply, size_t *reply_len,
                              struct aes_session out[2], char *err, size_t errlen);

#endif
