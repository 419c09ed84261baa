/* SPDX-License-Identifier: Apache-2.0 */
/* Spark 4.0's AES-GCM channel cipher (spark.network.crypto.cipher=AES/GCM/NoPadding,
 * GcmTransportCipher over Tink's AES-GCM-HKDF streaming; ../shared/vectors-40/README.md §2).
 * The byte stream is cut into self-contained messages, both directions under the session key:
 *
 *   u64 L (big-endian, the whole message) | u8 headerLen = 1 + keyLen + 7 | salt[keyLen] |
 *   noncePrefix[7] | segments of 32768 bytes (32752 plaintext + 16 tag), the last shorter
 *
 * segment key = HKDF-SHA256(session key, salt, info = the 8 bytes of L, keyLen); nonce(i) =
 * noncePrefix | u32be(i) | (last ? 1 : 0); no AAD. No I/O here: the sealer lays a message out
 * in a buffer, the reader is a state machine fed ciphertext in any split. */
#ifndef SHUFFLED_CRYPTO_GCM_MESSAGE_H
#define SHUFFLED_CRYPTO_GCM_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/primitives.h"

#define GCM_SEGMENT_LEN 32768
#define GCM_SEGMENT_PLAIN (GCM_SEGMENT_LEN - CRYPTO_GCM_TAG_LEN) /* 32752 */
#define GCM_NONCE_PREFIX_LEN 7
#define GCM_LENGTH_LEN 8
#define GCM_MAX_HEADER (1 + 32 + GCM_NONCE_PREFIX_LEN)
/* The largest L accepted: a frame of 2^31 bytes and some (segment numbers stay 32-bit). */
#define GCM_MAX_MESSAGE (UINT64_C(1) << 32)

/* Tink's header length for a key of key_len bytes (0x18 for v2's 16, 0x28 for v1's 32). */
static inline size_t gcm_header_len(size_t key_len)
{
    return 1 + key_len + GCM_NONCE_PREFIX_LEN;
}
/* L of a message of n plaintext bytes, as the fixed senders announce it (SPARK-56227). */
uint64_t gcm_message_len(size_t key_len, uint64_t n);
/* L as Spark 4.0.0 announces it: 16 more than gcm_message_len when n mod 32752 is 0 or at
 * least 32753 - headerLen (it then sends 16 bytes less than it announces, and stalls). */
uint64_t gcm_message_len_400(size_t key_len, uint64_t n);
/* Where segment i's ciphertext starts in a message. */
static inline size_t gcm_segment_offset(size_t key_len, size_t i)
{
    return GCM_LENGTH_LEN + gcm_header_len(key_len) + i * (size_t)GCM_SEGMENT_LEN;
}

/* Copies n bytes of plaintext to their segments' places in a message (msg as for
 * gcm_message_seal). */
void gcm_message_place(size_t key_len, uint8_t *msg, const uint8_t *plain, size_t n);

/* A session key and its reusable OpenSSL contexts: the cipher's (set up once; each message
 * only loads its segment key, each segment its nonce) and the HKDF's under the session key. */
struct gcm_key {
    uint8_t key[32];
    size_t key_len; /* 16, 24 or 32 */
    void *ctx;      /* EVP_CIPHER_CTX */
    struct crypto_hkdf *hkdf;
};
int gcm_key_init(struct gcm_key *k, const uint8_t *key, size_t key_len);
void gcm_key_free(struct gcm_key *k); /* wipes; safe on a zeroed key */

/* Seals the message in msg (gcm_message_len(n) bytes) in place: the plaintext of segment i
 * (GCM_SEGMENT_PLAIN bytes, the last one the rest) must already sit at gcm_segment_offset(i);
 * writes L, the header (salt and nonce prefix from rng) and each tag. 0 or -1. */
int gcm_message_seal(struct gcm_key *k, const struct crypto_rng *rng, uint8_t *msg, size_t n);
/* The same, announcing L = announced (tests: what Spark 4.0.0 sends, gcm_message_len_400). */
int gcm_message_seal_announcing(struct gcm_key *k, const struct crypto_rng *rng, uint8_t *msg,
                                size_t n, uint64_t announced);

/* A message sealed segment by segment, so that its segments can leave as they are sealed (the
 * daemon sends a frame of megabytes as one message through a window of two segments). */
struct gcm_sealing {
    uint8_t prefix[GCM_NONCE_PREFIX_LEN];
    uint64_t left; /* plaintext bytes not sealed yet */
    uint32_t seg;  /* the next segment's number */
};
/* Starts a message of n plaintext bytes announcing L = announced: writes L and the header
 * (GCM_LENGTH_LEN + gcm_header_len bytes) to head and loads the segment key into k. 0 or -1. */
int gcm_sealing_start(struct gcm_key *k, const struct crypto_rng *rng, struct gcm_sealing *s,
                      uint8_t *head, uint64_t n, uint64_t announced);
/* The plaintext length of the next segment (0: the message is complete). */
static inline size_t gcm_sealing_next_len(const struct gcm_sealing *s)
{
    return s->left < GCM_SEGMENT_PLAIN ? (size_t)s->left : GCM_SEGMENT_PLAIN;
}
/* Seals the next segment in place: its gcm_sealing_next_len bytes of plaintext at p, the tag
 * written after them. 0 or -1. */
int gcm_sealing_next(struct gcm_key *k, struct gcm_sealing *s, uint8_t *p);

/* The receiving side: accepts any L >= 8 + headerLen up to GCM_MAX_MESSAGE (fixed and 4.0.0
 * senders), a new message after each one, length and header split across reads. A 4.0.0
 * message that announces 16 bytes more than it sends (gcm_message_len_400) is delivered once
 * its bytes verify as the last segment. */
struct gcm_reader {
    struct gcm_key k; /* the session key; segment keys go into k.ctx */
    uint8_t head[GCM_LENGTH_LEN + GCM_MAX_HEADER];
    size_t head_got;
    uint64_t left; /* announced ciphertext bytes of segments not yet taken in */
    uint32_t seg;  /* number of the segment being collected */
    uint8_t *buf;  /* that segment, when it came in pieces (GCM_SEGMENT_LEN bytes) */
    size_t buf_got;
    bool tried_short;  /* the 4.0.0 reading of this segment failed already */
    uint64_t messages; /* messages completed (tests, metrics) */
};
int gcm_reader_init(struct gcm_reader *r, const uint8_t *key, size_t key_len);
void gcm_reader_free(struct gcm_reader *r);
/* Takes ciphertext from in (n bytes), stopping after the byte that completes a segment; then
 * *plain (inside r, valid until the next call) holds its *plain_len bytes of plaintext, else
 * *plain_len is 0. Returns the bytes taken, or -1 with errno EBADMSG (a length out of range,
 * a header of another key size, a segment that does not verify) or ENOMEM. */
ssize_t gcm_reader_feed(struct gcm_reader *r, const uint8_t *in, size_t n, uint8_t **plain,
                        size_t *plain_len);
/* The same without copying a segment that lies whole in in (and none of it was fed before):
 * it is opened where it lies, its plaintext written to out when out_room holds it (*plain ==
 * out), else in place (*plain points into in). A segment that does not verify leaves garbage
 * there (and fails as above). Segments split across calls are collected as by
 * gcm_reader_feed. */
ssize_t gcm_reader_feed_direct(struct gcm_reader *r, uint8_t *in, size_t n, uint8_t *out,
                               size_t out_room, uint8_t **plain, size_t *plain_len);
/* True between messages (nothing of a message held). */
bool gcm_reader_idle(const struct gcm_reader *r);
/* Bytes of memory r holds (its segment buffer while a message is open). */
size_t gcm_reader_memory(const struct gcm_reader *r);

/* True when 9 bytes can start a GCM message under some key of key_len bytes: a length in
 * range for the header length that byte 8 names (0x18 or 0x28: 16- or 32-byte keys). */
bool gcm_message_start_plausible(const uint8_t first[9], size_t *key_len);

#endif
