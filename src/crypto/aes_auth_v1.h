/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's AES auth protocol "v1" (protocol.md 12.4, Spark 2.2-3.1): PBKDF2 keys, an encrypted
 * challenge answered with challenge + 1, and a session key plus two IVs the server picks.
 * Both sides as pure steps over message bodies: no I/O, randomness from a crypto_rng. */
#ifndef SHUFFLED_CRYPTO_AES_AUTH_V1_H
#define SHUFFLED_CRYPTO_AES_AUTH_V1_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/aes_session.h"
#include "crypto/primitives.h"
#include "proto/aes_challenge.h"

/* Spark's defaults (spark.network.crypto.keyFactoryAlgorithm, ...Iterations, .cipher,
 * .keyLength), which is what the client sends and what the server accepts. */
#define AES_V1_KDF "PBKDF2WithHmacSHA1"
#define AES_V1_CIPHER "AES/CTR/NoPadding"
#define AES_V1_ITERATIONS 1024
#define AES_V1_KEY_BYTES 16
/* The server refuses more PBKDF2 iterations than this: a client must not buy seconds of
 * event-loop CPU with one message. */
#define AES_V1_MAX_ITERATIONS (1 << 16)

/* The client between its ClientChallenge and the server's answer. */
struct aes_v1_client {
    const char *app_id; /* borrowed for the handshake's life */
    const char *secret;
    uint8_t nonce[AES_V1_KEY_BYTES];
    uint8_t challenge[AES_V1_KEY_BYTES];
    uint8_t auth_key[AES_V1_KEY_BYTES];
};

/* Draws the nonce and the challenge (in that order, as Spark does) and writes the
 * ClientChallenge body (malloc'd). 0, or -1 (randomness, memory, libcrypto). */
int aes_v1_client_start(struct aes_v1_client *c, const char *app_id, const char *secret,
                        const struct crypto_rng *rng, uint8_t **body, size_t *len);
/* Checks the ServerResponse body and derives the session. 0, or -1 with err filled (wrong
 * secret: the response does not decrypt to appId || nonce || challenge + 1). */
int aes_v1_client_finish(struct aes_v1_client *c, const uint8_t *reply, size_t len,
                         struct aes_session *out, char *err, size_t errlen);
void aes_v1_client_wipe(struct aes_v1_client *c);

/* The server's one step: checks the decoded ClientChallenge against the app's secret, draws the
 * session nonce, its input IV and its output IV (Spark's order), and writes the ServerResponse
 * body (malloc'd) and the server's session. 0, or -1 with err filled. */
int aes_v1_server_respond(const struct aes_client_challenge *cc, const char *secret,
                          const struct crypto_rng *rng, uint8_t **reply, size_t *reply_len,
                          struct aes_session *out, char *err, size_t errlen);

#endif
