/* SPDX-License-Identifier: Apache-2.0 */
/* Checksums of dataset manifests (gen-shuffle-data writes them, shuffle-fetch and
 * shuffle-bench verify them): CRC-32 from zlib (the Java/zlib polynomial) and SHA-256 from
 * OpenSSL's libcrypto (EVP, with the CPU's SHA extensions where there are some). */
#ifndef SHUFFLED_TOOLS_CHECKSUM_H
#define SHUFFLED_TOOLS_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    struct evp_md_ctx_st *ctx; /* EVP_MD_CTX */
};

/* Out of memory aborts: the tools have nothing better to do. */
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* Writes the digest and releases s (init again to reuse it). */
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* Releases s without a digest; nothing if it is released already (or zeroed). */
void sha256_discard(struct sha256 *s);

/* CRC-32 of data continued from crc (start with 0). Thread-safe. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
