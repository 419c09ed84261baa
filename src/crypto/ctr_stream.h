/* SPDX-License-Identifier: Apache-2.0 */
/* One direction of Spark's AES-CTR channel cipher (protocol.md 12.4 step 4, 12.5): an endless
 * keystream from a key and a 16-byte initial counter block, the whole block incremented as one
 * big-endian 128-bit number, applied to a byte stream in any split. Encrypting and decrypting
 * are the same operation. Also the v1 handshake's auth-key streams. */
#ifndef SHUFFLED_CRYPTO_CTR_STREAM_H
#define SHUFFLED_CRYPTO_CTR_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define CTR_IV_LEN 16

struct ctr_stream {
    void *ctx;      /* EVP_CIPHER_CTX */
    uint64_t bytes; /* how many bytes have gone through, for metrics and tests */
};

/* key_len 16, 24 or 32 (AES-128/192/256). 0, or -1 (bad length, no memory). */
int ctr_stream_init(struct ctr_stream *s, const uint8_t *key, size_t key_len,
                    const uint8_t iv[CTR_IV_LEN]);
/* out = in XOR the next len keystream bytes; in == out is allowed. 0, or -1. */
int ctr_stream_apply(struct ctr_stream *s, const uint8_t *in, uint8_t *out, size_t len);
/* Safe on a zeroed or already freed stream. */
void ctr_stream_free(struct ctr_stream *s);

#endif
