/* SPDX-License-Identifier: Apache-2.0 */
/* Checksums of dataset manifests (gen-shuffle-data writes them, shuffle-fetch and
 * shuffle-bench verify them): CRC-32 (zlib/Java polynomial) and SHA-256 (FIPS 180-4). */
#ifndef SHUFFLED_TOOLS_CHECKSUM_H
#define SHUFFLED_TOOLS_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t total;
    uint8_t buf[64];
    size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[32]);

/* CRC-32 of data continued from crc (start with 0). Thread-safe. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
