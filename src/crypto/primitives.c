/* SPDX-License-Identifier: Apache-2.0 */
/* libcrypto calls behind primitives.h. */
#include <config.h>

#include "crypto/primitives.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <string.h>

int crypto_random(const struct crypto_rng *rng, uint8_t *out, size_t n)
{
    if (rng && rng->fn)
        return rng->fn(rng->ctx, out, n);
    return n <= INT_MAX && RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int crypto_pbkdf2_sha1(const void *password, size_t password_len, const uint8_t *salt,
                       size_t salt_len, int iterations, uint8_t *out, size_t out_len)
{
    if (iterations < 1 || password_len > INT_MAX || salt_len > INT_MAX || out_len > INT_MAX)
        return -1;
    return PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations,
                             EVP_sha1(), (int)out_len, out) == 1
               ? 0
               : -1;
}

/* OpenSSL's HKDF, fetched once and shared (fetching costs about a microsecond); a lost race
 * frees its own copy */
static EVP_KDF *hkdf_method(void)
{
    static EVP_KDF *_Atomic hkdf;
    EVP_KDF *kdf = atomic_load(&hkdf), *none = NULL;
    if (!kdf && (kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) &&
        !atomic_compare_exchange_strong(&hkdf, &none, kdf)) {
        EVP_KDF_free(kdf);
        kdf = none;
    }
    return kdf;
}

/* OpenSSL treats an absent salt as HashLen zero bytes, which is RFC 5869's default too */
static uint8_t empty_octets[1];
static OSSL_PARAM octets(const char *name, const uint8_t *p, size_t n)
{
    return OSSL_PARAM_construct_octet_string(name, (void *)(n ? p : empty_octets), n);
}

struct crypto_hkdf *crypto_hkdf_new(const uint8_t *ikm, size_t ikm_len)
{
    EVP_KDF *kdf = hkdf_method();
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        octets(OSSL_KDF_PARAM_KEY, ikm, ikm_len),
        OSSL_PARAM_construct_end(),
    };
    if (kctx && EVP_KDF_CTX_set_params(kctx, params) != 1) {
        EVP_KDF_CTX_free(kctx);
        kctx = NULL;
    }
    return (struct crypto_hkdf *)kctx;
}

int crypto_hkdf_derive(struct crypto_hkdf *h, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    OSSL_PARAM params[] = {
        octets(OSSL_KDF_PARAM_SALT, salt, salt_len),
        octets(OSSL_KDF_PARAM_INFO, info, info_len),
        OSSL_PARAM_construct_end(),
    };
    return h && EVP_KDF_derive((EVP_KDF_CTX *)h, out, out_len, params) == 1 ? 0 : -1;
}

void crypto_hkdf_free(struct crypto_hkdf *h)
{
    EVP_KDF_CTX_free((EVP_KDF_CTX *)h); /* OpenSSL wipes the key it holds */
}

int crypto_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    struct crypto_hkdf *h = crypto_hkdf_new(ikm, ikm_len);
    int rc = crypto_hkdf_derive(h, salt, salt_len, info, info_len, out, out_len);
    crypto_hkdf_free(h);
    return rc;
}

int crypto_x25519_public(const uint8_t priv[CRYPTO_X25519_LEN], uint8_t pub[CRYPTO_X25519_LEN])
{
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, CRYPTO_X25519_LEN);
    size_t len = CRYPTO_X25519_LEN;
    int ok = key && EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == CRYPTO_X25519_LEN;
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

int crypto_x25519_shared(const uint8_t priv[CRYPTO_X25519_LEN],
                         const uint8_t peer_pub[CRYPTO_X25519_LEN],
                         uint8_t shared[CRYPTO_X25519_LEN])
{
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, CRYPTO_X25519_LEN);
    EVP_PKEY *peer =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, CRYPTO_X25519_LEN);
    EVP_PKEY_CTX *ctx = key && peer ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    size_t len = CRYPTO_X25519_LEN;
    int ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
             EVP_PKEY_derive(ctx, shared, &len) == 1 && len == CRYPTO_X25519_LEN;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(key);
    if (ok) { /* a low-order peer key gives all zeros: refuse it, as Tink does */
        uint8_t any = 0;
        for (size_t i = 0; i < CRYPTO_X25519_LEN; i++)
            any |= shared[i];
        ok = any != 0;
    }
    return ok ? 0 : -1;
}

const void *crypto_aes_cipher(size_t key_len, int gcm)
{
    switch (key_len) {
    case 16:
        return gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr();
    case 24:
        return gcm ? EVP_aes_192_gcm() : EVP_aes_192_ctr();
    case 32:
        return gcm ? EVP_aes_256_gcm() : EVP_aes_256_ctr();
    default:
        return NULL;
    }
}

/* One AES-GCM pass; encrypting writes the tag to tag, decrypting checks it. */
static int gcm_run(int enc, const uint8_t *key, size_t key_len, const uint8_t *iv,
                   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                   uint8_t *tag)
{
    const EVP_CIPHER *cipher = crypto_aes_cipher(key_len, 1);
    if (!cipher || aad_len > INT_MAX || len > INT_MAX)
        return -1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok = ctx && EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, enc) == 1 &&
                    (aad_len == 0 || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1) &&
                    (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + (len ? (size_t)n : 0), &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int crypto_gcm_seal(const uint8_t *key, size_t key_len, const struct crypto_rng *rng,
                    const uint8_t *aad, size_t aad_len, const uint8_t *plain, size_t plain_len,
                    uint8_t *out)
{
    if (crypto_random(rng, out, CRYPTO_GCM_IV_LEN) != 0)
        return -1;
    return gcm_run(1, key, key_len, out, aad, aad_len, plain, plain_len, out + CRYPTO_GCM_IV_LEN,
                   out + CRYPTO_GCM_IV_LEN + plain_len);
}

int crypto_gcm_open(const uint8_t *key, size_t key_len, const uint8_t *aad, size_t aad_len,
                    const uint8_t *in, size_t in_len, uint8_t *plain)
{
    if (in_len < CRYPTO_GCM_IV_LEN + CRYPTO_GCM_TAG_LEN)
        return -1;
    size_t len = in_len - CRYPTO_GCM_IV_LEN - CRYPTO_GCM_TAG_LEN;
    uint8_t tag[CRYPTO_GCM_TAG_LEN];
    memcpy(tag, in + CRYPTO_GCM_IV_LEN + len, sizeof tag);
    int rc = gcm_run(0, key, key_len, in, aad, aad_len, in + CRYPTO_GCM_IV_LEN, len, plain, tag);
    if (rc != 0 && len)
        memset(plain, 0, len); /* no unauthenticated plaintext leaves */
    return rc;
}
