/* SPDX-License-Identifier: Apache-2.0 */
/* The primitives of Spark's AES auth protocols, each one call into OpenSSL's libcrypto (no
 * hand-written crypto): randomness, PBKDF2-HMAC-SHA1 (protocol.md 12.4), HKDF-SHA256 (RFC 5869),
 * X25519 (RFC 7748) and AES-GCM in Tink's AesGcmJce layout (protocol.md 12.5).
 * Every function returns 0 on success and -1 on failure. */
#ifndef SHUFFLED_CRYPTO_PRIMITIVES_H
#define SHUFFLED_CRYPTO_PRIMITIVES_H

#include <stddef.h>
#include <stdint.h>

/* Where a handshake draws its random bytes: OpenSSL's RAND_bytes when fn is NULL; tests pass
 * the bytes a recording drew, in the order the protocol draws them. */
struct crypto_rng {
    int (*fn)(void *ctx, uint8_t *out, size_t n); /* 0 or -1 */
    void *ctx;
};
int crypto_random(const struct crypto_rng *rng, uint8_t *out, size_t n);

/* PBKDF2-HMAC-SHA1 of the password bytes, as Java's PBKDF2WithHmacSHA1 with a char[] of
 * ASCII/UTF-8 text. */
int crypto_pbkdf2_sha1(const void *password, size_t password_len, const uint8_t *salt,
                       size_t salt_len, int iterations, uint8_t *out, size_t out_len);

/* HKDF-SHA256 extract-then-expand (Tink's Hkdf.computeHkdf). */
int crypto_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);
/* The same, many times under one ikm: the OpenSSL context is made once (the GCM channel derives
 * a key per message). NULL when out of memory; derive with a NULL h fails. Give a reused h a
 * salt each time (OpenSSL 3.0 may keep the previous one when the new one is empty). */
struct crypto_hkdf;
struct crypto_hkdf *crypto_hkdf_new(const uint8_t *ikm, size_t ikm_len);
int crypto_hkdf_derive(struct crypto_hkdf *h, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);
void crypto_hkdf_free(struct crypto_hkdf *h);

#define CRYPTO_X25519_LEN 32
/* The public key of a 32-byte private key (clamped by X25519 itself, as Tink's is). */
int crypto_x25519_public(const uint8_t priv[CRYPTO_X25519_LEN], uint8_t pub[CRYPTO_X25519_LEN]);
/* The shared secret; fails for a peer key that yields the all-zero secret. */
int crypto_x25519_shared(const uint8_t priv[CRYPTO_X25519_LEN],
                         const uint8_t peer_pub[CRYPTO_X25519_LEN],
                         uint8_t shared[CRYPTO_X25519_LEN]);

#define CRYPTO_GCM_IV_LEN 12
#define CRYPTO_GCM_TAG_LEN 16
/* AES-GCM with a 16/24/32-byte key: out = iv (12) || ciphertext || tag (16), so out needs
 * plain_len + 28 bytes. The IV is drawn from rng. */
int crypto_gcm_seal(const uint8_t *key, size_t key_len, const struct crypto_rng *rng,
                    const uint8_t *aad, size_t aad_len, const uint8_t *plain, size_t plain_len,
                    uint8_t *out);
/* The reverse: in as crypto_gcm_seal writes it; plain gets in_len - 28 bytes. Fails on any
 * change to the key, IV, ciphertext, tag or aad. */
int crypto_gcm_open(const uint8_t *key, size_t key_len, const uint8_t *aad, size_t aad_len,
                    const uint8_t *in, size_t in_len, uint8_t *plain);

/* OpenSSL's AES-CTR/GCM cipher for a key length, NULL for a length AES does not have. */
const void *crypto_aes_cipher(size_t key_len, int gcm);

#endif
