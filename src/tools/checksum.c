/* SPDX-License-Identifier: Apache-2.0 */
/* CRC-32 (zlib) and SHA-256 (libcrypto); see checksum.h. */
#include <config.h>

#include "tools/checksum.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

static void fail(const char *what)
{
    fprintf(stderr, "sha256: %s failed (out of memory?)\n", what);
    abort();
}

void sha256_init(struct sha256 *s)
{
    s->ctx = EVP_MD_CTX_new();
    if (!s->ctx || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1)
        fail("EVP_DigestInit_ex");
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
    if (n && EVP_DigestUpdate(s->ctx, data, n) != 1)
        fail("EVP_DigestUpdate");
}

void sha256_final(struct sha256 *s, uint8_t out[32])
{
    unsigned len = 0;
    if (EVP_DigestFinal_ex(s->ctx, out, &len) != 1 || len != 32)
        fail("EVP_DigestFinal_ex");
    EVP_MD_CTX_free(s->ctx);
    s->ctx = NULL;
}

void sha256_discard(struct sha256 *s)
{
    EVP_MD_CTX_free(s->ctx); /* NULL is fine */
    s->ctx = NULL;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    uLong c = crc;
    while (len > 0) { /* zlib takes uInt lengths */
        uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
        c = crc32(c, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)c;
}
