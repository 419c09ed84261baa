/* SPDX-License-Identifier: Apache-2.0 */
/* AES-CTR stream over EVP (AES-NI where the CPU has it); see ctr_stream.h. */
#include <config.h>

#include "crypto/ctr_stream.h"

#include <limits.h>
#include <openssl/evp.h>

#include "crypto/primitives.h"

int ctr_stream_init(struct ctr_stream *s, const uint8_t *key, size_t key_len,
                    const uint8_t iv[CTR_IV_LEN])
{
    s->ctx = NULL;
    s->bytes = 0;
    const EVP_CIPHER *cipher = crypto_aes_cipher(key_len, 0);
    if (!cipher)
        return -1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_EncryptInit_ex(ctx, cipher, NULL, key, iv) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return -1;
    }
    s->ctx = ctx;
    return 0;
}

int ctr_stream_apply(struct ctr_stream *s, const uint8_t *in, uint8_t *out, size_t len)
{
    if (!s->ctx)
        return -1;
    while (len > 0) {
        int step = len > (size_t)(INT_MAX & ~15) ? (INT_MAX & ~15) : (int)len, n = 0;
        if (EVP_EncryptUpdate(s->ctx, out, &n, in, step) != 1 || n != step)
            return -1;
        in += step;
        out += step;
        len -= (size_t)step;
        s->bytes += (uint64_t)step;
    }
    return 0;
}

void ctr_stream_free(struct ctr_stream *s)
{
    EVP_CIPHER_CTX_free(s->ctx);
    s->ctx = NULL;
}
