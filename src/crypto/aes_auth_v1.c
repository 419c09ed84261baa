/* SPDX-License-Identifier: Apache-2.0 */
/* The v1 (PBKDF2) handshake; see aes_auth_v1.h. */
#include <config.h>

#include "crypto/aes_auth_v1.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ctr_stream.h"

/* The auth cipher's IV: the nonce's first 16 bytes, zero-padded. */
static void auth_iv(const uint8_t *nonce, size_t nonce_len, uint8_t iv[CTR_IV_LEN])
{
    memset(iv, 0, CTR_IV_LEN);
    memcpy(iv, nonce, nonce_len < CTR_IV_LEN ? nonce_len : CTR_IV_LEN);
}

static int derive(const char *secret, const uint8_t *salt, size_t salt_len, int iterations,
                  uint8_t *key, size_t key_len)
{
    return crypto_pbkdf2_sha1(secret, strlen(secret), salt, salt_len, iterations, key, key_len);
}

/* appId || nonce || tail, as one malloc'd buffer. */
static uint8_t *concat3(const void *a, size_t alen, const void *b, size_t blen, const void *c,
                        size_t clen)
{
    uint8_t *out = malloc(alen + blen + clen + 1);
    if (!out)
        return NULL;
    if (alen)
        memcpy(out, a, alen);
    if (blen)
        memcpy(out + alen, b, blen);
    if (clen)
        memcpy(out + alen + blen, c, clen);
    return out;
}

int aes_v1_client_start(struct aes_v1_client *c, const char *app_id, const char *secret,
                        const struct crypto_rng *rng, uint8_t **body, size_t *len)
{
    memset(c, 0, sizeof *c);
    c->app_id = app_id;
    c->secret = secret;
    uint8_t iv[CTR_IV_LEN];
    if (crypto_random(rng, c->nonce, sizeof c->nonce) != 0 ||
        derive(secret, c->nonce, sizeof c->nonce, AES_V1_ITERATIONS, c->auth_key,
               sizeof c->auth_key) != 0 ||
        crypto_random(rng, c->challenge, sizeof c->challenge) != 0)
        return -1;
    auth_iv(c->nonce, sizeof c->nonce, iv);
    size_t app_len = strlen(app_id), plain_len = app_len + 2 * AES_V1_KEY_BYTES;
    uint8_t *plain =
        concat3(app_id, app_len, c->nonce, sizeof c->nonce, c->challenge, sizeof c->challenge);
    struct ctr_stream enc;
    if (!plain || ctr_stream_init(&enc, c->auth_key, sizeof c->auth_key, iv) != 0) {
        free(plain);
        return -1;
    }
    int rc = ctr_stream_apply(&enc, plain, plain, plain_len);
    ctr_stream_free(&enc);
    struct aes_client_challenge cc = {
        .app_id = {(const uint8_t *)app_id, (uint32_t)app_len},
        .kdf = {(const uint8_t *)AES_V1_KDF, sizeof AES_V1_KDF - 1},
        .iterations = AES_V1_ITERATIONS,
        .cipher = {(const uint8_t *)AES_V1_CIPHER, sizeof AES_V1_CIPHER - 1},
        .key_length_bits = AES_V1_KEY_BYTES * 8,
        .nonce = {c->nonce, sizeof c->nonce},
        .encrypted_challenge = {plain, (uint32_t)plain_len},
    };
    if (rc == 0)
        rc = aes_client_challenge_encode(&cc, body, len);
    free(plain);
    return rc;
}

static bool field_is(const struct aes_field *f, const char *s)
{
    return f->len == strlen(s) && memcmp(f->data, s, f->len) == 0;
}

int aes_v1_client_finish(struct aes_v1_client *c, const uint8_t *reply, size_t len,
                         struct aes_session *out, char *err, size_t errlen)
{
    struct aes_server_response sr;
    if (aes_server_response_decode(reply, len, &sr, err, errlen) != 0)
        return -1;
    if (sr.input_iv.len != CTR_IV_LEN || sr.output_iv.len != CTR_IV_LEN || sr.nonce.len == 0) {
        snprintf(err, errlen, "ServerResponse: IVs of %u and %u bytes, nonce of %u",
                 sr.input_iv.len, sr.output_iv.len, sr.nonce.len);
        return -1;
    }
    uint8_t resp[AES_V1_KEY_BYTES + 1], iv[CTR_IV_LEN];
    size_t resp_len = aes_challenge_plus_one(c->challenge, sizeof c->challenge, resp);
    size_t app_len = strlen(c->app_id);
    uint8_t *want = concat3(c->app_id, app_len, c->nonce, sizeof c->nonce, resp, resp_len);
    size_t want_len = app_len + sizeof c->nonce + resp_len;
    uint8_t *got = malloc((size_t)sr.response.len + sr.nonce.len + 1);
    struct ctr_stream dec = {0};
    auth_iv(c->nonce, sizeof c->nonce, iv);
    int rc = -1;
    if (!want || !got || ctr_stream_init(&dec, c->auth_key, sizeof c->auth_key, iv) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* one decryption stream from counter 0 over the four fields, in order */
    uint8_t *nonce = got + sr.response.len;
    if (ctr_stream_apply(&dec, sr.response.data, got, sr.response.len) != 0 ||
        ctr_stream_apply(&dec, sr.nonce.data, nonce, sr.nonce.len) != 0 ||
        ctr_stream_apply(&dec, sr.input_iv.data, out->read_iv, CTR_IV_LEN) != 0 ||
        ctr_stream_apply(&dec, sr.output_iv.data, out->write_iv, CTR_IV_LEN) != 0) {
        snprintf(err, errlen, "libcrypto failed");
        goto done;
    }
    if (sr.response.len != want_len || CRYPTO_memcmp(got, want, want_len) != 0) {
        snprintf(err, errlen, "ServerResponse does not answer the challenge (wrong secret?)");
        goto done;
    }
    out->protocol = AES_PROTO_PBKDF2;
    out->key_len = AES_V1_KEY_BYTES;
    if (derive(c->secret, nonce, sr.nonce.len, AES_V1_ITERATIONS, out->key, out->key_len) != 0) {
        snprintf(err, errlen, "libcrypto failed");
        goto done;
    }
    rc = 0;
done:
    ctr_stream_free(&dec);
    if (got)
        OPENSSL_cleanse(got, (size_t)sr.response.len + sr.nonce.len);
    free(got);
    free(want);
    if (rc != 0)
        OPENSSL_cleanse(out, sizeof *out);
    return rc;
}

void aes_v1_client_wipe(struct aes_v1_client *c)
{
    OPENSSL_cleanse(c, sizeof *c);
}

/* Checks what a ClientChallenge asks for before any work is spent on it. */
static int check_params(const struct aes_client_challenge *cc, char *err, size_t errlen)
{
    if (!field_is(&cc->kdf, AES_V1_KDF) || !field_is(&cc->cipher, AES_V1_CIPHER)) {
        snprintf(err, errlen,
                 "ClientChallenge asks for kdf '%.*s' and cipher '%.*s' (supported: " AES_V1_KDF
                 ", " AES_V1_CIPHER ")",
                 (int)(cc->kdf.len > 64 ? 64 : cc->kdf.len), (const char *)cc->kdf.data,
                 (int)(cc->cipher.len > 64 ? 64 : cc->cipher.len), (const char *)cc->cipher.data);
        return -1;
    }
    if (cc->key_length_bits != 128 && cc->key_length_bits != 192 && cc->key_length_bits != 256) {
        snprintf(err, errlen, "ClientChallenge key length %d bits", cc->key_length_bits);
        return -1;
    }
    if (cc->iterations < 1 || cc->iterations > AES_V1_MAX_ITERATIONS) {
        snprintf(err, errlen, "ClientChallenge asks for %d PBKDF2 iterations (at most %d)",
                 cc->iterations, AES_V1_MAX_ITERATIONS);
        return -1;
    }
    /* Spark's clients send keyLength / 8 >= 16 bytes; a shorter nonce would let a client
     * without the secret guess its way past the appId || nonce check */
    if (cc->nonce.len < AES_V1_KEY_BYTES) {
        snprintf(err, errlen, "ClientChallenge nonce of %u bytes (at least %d)", cc->nonce.len,
                 AES_V1_KEY_BYTES);
        return -1;
    }
    return 0;
}

int aes_v1_server_respond(const struct aes_client_challenge *cc, const char *secret,
                          const struct crypto_rng *rng, uint8_t **reply, size_t *reply_len,
                          struct aes_session *out, char *err, size_t errlen)
{
    if (check_params(cc, err, errlen) != 0)
        return -1;
    size_t key_len = (size_t)cc->key_length_bits / 8,
           prefix = (size_t)cc->app_id.len + cc->nonce.len;
    uint8_t auth_key[32], iv[CTR_IV_LEN], session_nonce[AES_V1_KEY_BYTES];
    uint8_t in_iv[CTR_IV_LEN], out_iv[CTR_IV_LEN], enc_fields[AES_V1_KEY_BYTES + 2 * CTR_IV_LEN];
    struct ctr_stream dec = {0}, enc = {0};
    uint8_t *plain = malloc((size_t)cc->encrypted_challenge.len + 2);
    int rc = -1;
    auth_iv(cc->nonce.data, cc->nonce.len, iv);
    if (!plain ||
        derive(secret, cc->nonce.data, cc->nonce.len, cc->iterations, auth_key, key_len) != 0 ||
        ctr_stream_init(&dec, auth_key, key_len, iv) != 0 ||
        ctr_stream_init(&enc, auth_key, key_len, iv) != 0 ||
        ctr_stream_apply(&dec, cc->encrypted_challenge.data, plain, cc->encrypted_challenge.len) !=
            0) {
        snprintf(err, errlen, "out of memory or libcrypto failed");
        goto done;
    }
    size_t plain_len = cc->encrypted_challenge.len;
    if (plain_len <= prefix || memcmp(plain, cc->app_id.data, cc->app_id.len) != 0 ||
        memcmp(plain + cc->app_id.len, cc->nonce.data, cc->nonce.len) != 0) {
        snprintf(err, errlen, "the challenge does not decrypt to appId || nonce (wrong secret?)");
        goto done;
    }
    /* appId || nonce || challenge becomes appId || nonce || challenge + 1, in place */
    uint8_t *challenge = plain + prefix;
    size_t challenge_len = plain_len - prefix;
    uint8_t *plus = malloc(challenge_len + 1);
    if (!plus) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    size_t resp_len = aes_challenge_plus_one(challenge, challenge_len, plus);
    memcpy(challenge, plus, resp_len);
    free(plus);
    plain_len = prefix + resp_len;
    if (crypto_random(rng, session_nonce, sizeof session_nonce) != 0 ||
        crypto_random(rng, in_iv, sizeof in_iv) != 0 ||
        crypto_random(rng, out_iv, sizeof out_iv) != 0 ||
        derive(secret, session_nonce, sizeof session_nonce, cc->iterations, out->key, key_len) !=
            0) {
        snprintf(err, errlen, "randomness or libcrypto failed");
        goto done;
    }
    /* one encryption stream from counter 0; the IVs are swapped on the wire on purpose */
    uint8_t *e_nonce = enc_fields, *e_in = enc_fields + AES_V1_KEY_BYTES,
            *e_out = e_in + CTR_IV_LEN;
    if (ctr_stream_apply(&enc, plain, plain, plain_len) != 0 ||
        ctr_stream_apply(&enc, session_nonce, e_nonce, sizeof session_nonce) != 0 ||
        ctr_stream_apply(&enc, out_iv, e_in, CTR_IV_LEN) != 0 ||
        ctr_stream_apply(&enc, in_iv, e_out, CTR_IV_LEN) != 0) {
        snprintf(err, errlen, "libcrypto failed");
        goto done;
    }
    struct aes_server_response sr = {
        .response = {plain, (uint32_t)plain_len},
        .nonce = {e_nonce, AES_V1_KEY_BYTES},
        .input_iv = {e_in, CTR_IV_LEN},
        .output_iv = {e_out, CTR_IV_LEN},
    };
    if (aes_server_response_encode(&sr, reply, reply_len) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    out->protocol = AES_PROTO_PBKDF2;
    out->key_len = key_len;
    memcpy(out->read_iv, in_iv, CTR_IV_LEN);
    memcpy(out->write_iv, out_iv, CTR_IV_LEN);
    rc = 0;
done:
    ctr_stream_free(&dec);
    ctr_stream_free(&enc);
    if (plain)
        OPENSSL_cleanse(plain, (size_t)cc->encrypted_challenge.len + 2);
    free(plain);
    OPENSSL_cleanse(auth_key, sizeof auth_key);
    OPENSSL_cleanse(session_nonce, sizeof session_nonce);
    if (rc != 0)
        OPENSSL_cleanse(out, sizeof *out);
    return rc;
}
