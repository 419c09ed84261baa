/* SPDX-License-Identifier: Apache-2.0 */
/* The messages of Spark's AES auth protocol "v1" (protocol.md 12.4, Spark 2.2-3.1), carried as
 * RpcRequest / RpcResponse bodies:
 *   ClientChallenge: u8 0xFA | str appId | str kdf | i32 iterations | str cipher |
 *                    i32 keyLengthBits | byte[] nonce | byte[] encryptedChallenge
 *   ServerResponse:  u8 0xFB | byte[] response | byte[] nonce | byte[] inputIv | byte[] outputIv
 * Decoders borrow from the body (no copies) and, like Spark's, ignore bytes after the last
 * field. Also here: the challenge + 1 rule (Java BigInteger arithmetic on the raw bytes). */
#ifndef SHUFFLED_PROTO_AES_CHALLENGE_H
#define SHUFFLED_PROTO_AES_CHALLENGE_H

#include <stddef.h>
#include <stdint.h>

#define AES_CLIENT_CHALLENGE_TAG 0xFA
#define AES_SERVER_RESPONSE_TAG 0xFB

/* A str or byte[] field borrowed from a body: len bytes at data, not NUL-terminated. */
struct aes_field {
    const uint8_t *data;
    uint32_t len;
};

struct aes_client_challenge {
    struct aes_field app_id; /* never holds a NUL byte once decoded */
    struct aes_field kdf;    /* "PBKDF2WithHmacSHA1" by default */
    int32_t iterations;
    struct aes_field cipher; /* "AES/CTR/NoPadding" by default */
    int32_t key_length_bits;
    struct aes_field nonce;
    struct aes_field encrypted_challenge;
};

struct aes_server_response {
    struct aes_field response; /* the four fields are encrypted under the auth key */
    struct aes_field nonce;
    struct aes_field input_iv;
    struct aes_field output_iv;
};

/* 0, or -1 with err filled (wrong tag, truncated, appId holding a NUL). */
int aes_client_challenge_decode(const uint8_t *body, size_t len, struct aes_client_challenge *m,
                                char *err, size_t errlen);
int aes_server_response_decode(const uint8_t *body, size_t len, struct aes_server_response *m,
                               char *err, size_t errlen);
/* malloc'd encodings (*out, *out_len); 0, or -1 (no memory, a field beyond an i32). */
int aes_client_challenge_encode(const struct aes_client_challenge *m, uint8_t **out,
                                size_t *out_len);
int aes_server_response_encode(const struct aes_server_response *m, uint8_t **out, size_t *out_len);

/* out = the minimal two's-complement big-endian encoding of (in + 1), in read as a signed
 * big-endian two's-complement integer (Java's new BigInteger(in).add(ONE).toByteArray()).
 * out needs len + 1 bytes. Returns the length written, or 0 when len is 0 (Java refuses an
 * empty magnitude). */
size_t aes_challenge_plus_one(const uint8_t *in, size_t len, uint8_t *out);

#endif
