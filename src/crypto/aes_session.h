/* SPDX-License-Identifier: Apache-2.0 */
/* What a finished AES handshake leaves behind: the channel cipher's key and one IV per
 * direction, seen from the side that holds it. The 3.2+ server cannot tell the client's
 * authEngineVersion from the handshake (protocol.md 12.5): it derives one session per version and
 * keeps the one under which the client's first bytes decrypt to a sane frame header. */
#ifndef SHUFFLED_CRYPTO_AES_SESSION_H
#define SHUFFLED_CRYPTO_AES_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ctr_stream.h"

enum aes_protocol {
    AES_PROTO_PBKDF2 = 0, /* protocol.md 12.4: ClientChallenge/ServerResponse, Spark 2.2-3.1 */
    AES_PROTO_X25519_V1 =
        1, /* protocol.md 12.5, authEngineVersion 1: the shared secret is the key */
    AES_PROTO_X25519_V2 = 2, /* protocol.md 12.5, authEngineVersion 2: HKDF(shared, "derivedKey") */
};

struct aes_session {
    enum aes_protocol protocol;
    uint8_t key[32];
    size_t key_len;               /* 16, 24 or 32 */
    uint8_t read_iv[CTR_IV_LEN];  /* the counter block of the stream this side decrypts */
    uint8_t write_iv[CTR_IV_LEN]; /* ... and of the one it encrypts */
};

/* The two streams of a session: 0, or -1 (both left freed). */
int aes_session_streams(const struct aes_session *s, struct ctr_stream *read,
                        struct ctr_stream *write);

/* Bytes of the client's first frame needed to pick a session: its length and type. */
#define AES_PICK_BYTES 9

/* True when hdr (plaintext, AES_PICK_BYTES long) can start a frame a client sends: a length
 * Java would accept, longer than the header, and the type of a request (0, 3, 6, 9, 10, 11). */
bool aes_frame_header_sane(const uint8_t hdr[AES_PICK_BYTES]);

/* Index of the first of n candidate sessions under whose read stream the first AES_PICK_BYTES
 * ciphertext bytes the client sent decrypt to a sane header; -1 if none does. */
int aes_session_pick(const struct aes_session *cand, int n, const uint8_t first[AES_PICK_BYTES]);

/* True when hdr (plaintext) can start the TLS record a client sends after the handshake, which
 * is what the cipher carries when Spark puts it under TLS: content type 21-23, version 0x0303,
 * a length of 1 to 2^14 + 2048. A wrong key passes with probability about 2^-24. */
bool aes_tls_record_header_sane(const uint8_t hdr[AES_PICK_BYTES]);
/* aes_session_pick with another notion of a sane start. */
int aes_session_pick_with(const struct aes_session *cand, int n,
                          const uint8_t first[AES_PICK_BYTES],
                          bool (*sane)(const uint8_t hdr[AES_PICK_BYTES]));

#endif
