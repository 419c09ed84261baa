/* SPDX-License-Identifier: Apache-2.0 */
/* The 3.2+ (X25519) handshake; see aes_auth_x25519.h. */
#include <config.h>

#include "crypto/aes_auth_x25519.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char INFO_KEY[] = "derivedKey", INFO_CLIENT_IV[] = "inputIv",
                  INFO_SERVER_IV[] = "outputIv";

/* appId || salt || transcript: both the HKDF info and the GCM aad of a sealed key. */
static uint8_t *make_aad(const struct aes_field *app, const uint8_t *salt, size_t salt_len,
                         const uint8_t *transcript, size_t transcript_len, size_t *len)
{
    *len = (size_t)app->len + salt_len + transcript_len;
    uint8_t *aad = malloc(*len + 1);
    if (!aad)
        return NULL;
    if (app->len)
        memcpy(aad, app->data, app->len);
    if (salt_len)
        memcpy(aad + app->len, salt, salt_len);
    if (transcript_len)
        memcpy(aad + app->len + salt_len, transcript, transcript_len);
    return aad;
}

/* Seals pub into an AuthMessage body: draws the salt, then the GCM IV. */
static int seal_key(const struct aes_field *app, const char *secret, const uint8_t *transcript,
                    size_t transcript_len, const struct crypto_rng *rng,
                    const uint8_t pub[CRYPTO_X25519_LEN], uint8_t **body, size_t *len)
{
    uint8_t salt[AES_X25519_SALT_LEN], kek[AES_X25519_KEK_LEN], sealed[AES_X25519_SEALED_LEN];
    size_t aad_len;
    if (crypto_random(rng, salt, sizeof salt) != 0)
        return -1;
    uint8_t *aad = make_aad(app, salt, sizeof salt, transcript, transcript_len, &aad_len);
    int rc = -1;
    if (aad &&
        crypto_hkdf_sha256((const uint8_t *)secret, strlen(secret), salt, sizeof salt, aad, aad_len,
                           kek, sizeof kek) == 0 &&
        crypto_gcm_seal(kek, sizeof kek, rng, aad, aad_len, pub, CRYPTO_X25519_LEN, sealed) == 0) {
        struct aes_authmsg m = {*app, {salt, sizeof salt}, {sealed, sizeof sealed}};
        rc = aes_authmsg_encode(&m, body, len);
    }
    OPENSSL_cleanse(kek, sizeof kek);
    free(aad);
    return rc;
}

/* The peer's public key from its AuthMessage; -1 with err filled when it does not open. */
static int open_key(const struct aes_authmsg *m, const char *secret, const uint8_t *transcript,
                    size_t transcript_len, uint8_t pub[CRYPTO_X25519_LEN], char *err, size_t errlen)
{
    if (m->salt.len != AES_X25519_SALT_LEN) { /* Spark draws 16; other lengths only bloat HKDF */
        snprintf(err, errlen, "AuthMessage salt of %u bytes (Spark sends %d)", m->salt.len,
                 AES_X25519_SALT_LEN);
        return -1;
    }
    if (m->ciphertext.len != AES_X25519_SEALED_LEN) {
        snprintf(err, errlen, "AuthMessage ciphertext of %u bytes (a sealed key has %d)",
                 m->ciphertext.len, AES_X25519_SEALED_LEN);
        return -1;
    }
    uint8_t kek[AES_X25519_KEK_LEN];
    size_t aad_len;
    uint8_t *aad =
        make_aad(&m->app_id, m->salt.data, m->salt.len, transcript, transcript_len, &aad_len);
    int rc = -1;
    if (!aad)
        snprintf(err, errlen, "out of memory");
    else if (crypto_hkdf_sha256((const uint8_t *)secret, strlen(secret), m->salt.data, m->salt.len,
                                aad, aad_len, kek, sizeof kek) != 0)
        snprintf(err, errlen, "libcrypto failed");
    else if (crypto_gcm_open(kek, sizeof kek, aad, aad_len, m->ciphertext.data, m->ciphertext.len,
                             pub) != 0)
        snprintf(err, errlen, "AuthMessage does not verify (wrong secret or a changed message)");
    else
        rc = 0;
    OPENSSL_cleanse(kek, sizeof kek);
    free(aad);
    return rc;
}

/* Key and IVs from the X25519 secret and the transcript; the client reads with the "inputIv"
 * value and writes with the "outputIv" one, the server the other way round. */
static int derive_session(const uint8_t shared[CRYPTO_X25519_LEN], const uint8_t *transcript,
                          size_t transcript_len, enum aes_protocol protocol, bool is_client,
                          struct aes_session *out)
{
    uint8_t client_iv[CTR_IV_LEN], server_iv[CTR_IV_LEN];
    const uint8_t *info_key = (const uint8_t *)INFO_KEY;
    if (crypto_hkdf_sha256(shared, CRYPTO_X25519_LEN, transcript, transcript_len,
                           (const uint8_t *)INFO_CLIENT_IV, sizeof INFO_CLIENT_IV - 1, client_iv,
                           CTR_IV_LEN) != 0 ||
        crypto_hkdf_sha256(shared, CRYPTO_X25519_LEN, transcript, transcript_len,
                           (const uint8_t *)INFO_SERVER_IV, sizeof INFO_SERVER_IV - 1, server_iv,
                           CTR_IV_LEN) != 0)
        return -1;
    out->protocol = protocol;
    if (protocol == AES_PROTO_X25519_V1) {
        memcpy(out->key, shared, CRYPTO_X25519_LEN);
        out->key_len = CRYPTO_X25519_LEN;
    } else {
        out->key_len = 16;
        if (crypto_hkdf_sha256(shared, CRYPTO_X25519_LEN, transcript, transcript_len, info_key,
                               sizeof INFO_KEY - 1, out->key, out->key_len) != 0)
            return -1;
    }
    memcpy(out->read_iv, is_client ? client_iv : server_iv, CTR_IV_LEN);
    memcpy(out->write_iv, is_client ? server_iv : client_iv, CTR_IV_LEN);
    return 0;
}

int aes_x25519_client_start(struct aes_x25519_client *c, enum aes_protocol protocol,
                            const char *app_id, const char *secret, const struct crypto_rng *rng,
                            uint8_t **body, size_t *len)
{
    memset(c, 0, sizeof *c);
    c->app_id = app_id;
    c->secret = secret;
    c->protocol = protocol;
    uint8_t pub[CRYPTO_X25519_LEN];
    struct aes_field app = {(const uint8_t *)app_id, (uint32_t)strlen(app_id)};
    if ((protocol != AES_PROTO_X25519_V1 && protocol != AES_PROTO_X25519_V2) ||
        crypto_random(rng, c->priv, sizeof c->priv) != 0 ||
        crypto_x25519_public(c->priv, pub) != 0 ||
        seal_key(&app, secret, NULL, 0, rng, pub, body, len) != 0)
        return -1;
    c->sent = malloc(*len);
    if (!c->sent) {
        free(*body);
        *body = NULL;
        return -1;
    }
    memcpy(c->sent, *body, *len);
    c->sent_len = *len;
    return 0;
}

static bool same_app(const struct aes_field *a, const char *app_id)
{
    return a->len == strlen(app_id) && memcmp(a->data, app_id, a->len) == 0;
}

/* first || the re-encoding of m */
static uint8_t *transcript_of(const uint8_t *first, size_t first_len, const struct aes_authmsg *m,
                              size_t *len)
{
    uint8_t *second;
    size_t second_len;
    if (aes_authmsg_encode(m, &second, &second_len) != 0)
        return NULL;
    uint8_t *t = malloc(first_len + second_len);
    if (t) {
        memcpy(t, first, first_len);
        memcpy(t + first_len, second, second_len);
        *len = first_len + second_len;
    }
    free(second);
    return t;
}

int aes_x25519_client_finish(struct aes_x25519_client *c, const uint8_t *reply, size_t len,
                             struct aes_session *out, char *err, size_t errlen)
{
    struct aes_authmsg m;
    if (aes_authmsg_decode(reply, len, &m, err, errlen) != 0)
        return -1;
    if (!same_app(&m.app_id, c->app_id)) {
        snprintf(err, errlen, "the server's AuthMessage names another appId");
        return -1;
    }
    uint8_t peer[CRYPTO_X25519_LEN], shared[CRYPTO_X25519_LEN];
    size_t t_len = 0;
    uint8_t *transcript = NULL;
    int rc = -1;
    if (open_key(&m, c->secret, c->sent, c->sent_len, peer, err, errlen) != 0)
        goto done;
    if (crypto_x25519_shared(c->priv, peer, shared) != 0) {
        snprintf(err, errlen, "the server's X25519 key is unusable");
        goto done;
    }
    transcript = transcript_of(c->sent, c->sent_len, &m, &t_len);
    if (!transcript || derive_session(shared, transcript, t_len, c->protocol, true, out) != 0) {
        snprintf(err, errlen, "out of memory or libcrypto failed");
        goto done;
    }
    rc = 0;
done:
    OPENSSL_cleanse(shared, sizeof shared);
    free(transcript);
    if (rc != 0)
        OPENSSL_cleanse(out, sizeof *out);
    return rc;
}

void aes_x25519_client_wipe(struct aes_x25519_client *c)
{
    free(c->sent);
    OPENSSL_cleanse(c, sizeof *c);
}

int aes_x25519_server_respond(const struct aes_authmsg *m, const char *secret,
                              const struct crypto_rng *rng, uint8_t **reply, size_t *reply_len,
                              struct aes_session out[2], char *err, size_t errlen)
{
    uint8_t peer[CRYPTO_X25519_LEN], priv[CRYPTO_X25519_LEN], pub[CRYPTO_X25519_LEN];
    uint8_t shared[CRYPTO_X25519_LEN];
    uint8_t *first = NULL, *transcript = NULL;
    size_t first_len = 0, t_len = 0;
    struct aes_authmsg answer;
    int rc = -1;
    *reply = NULL;
    if (open_key(m, secret, NULL, 0, peer, err, errlen) != 0)
        goto done;
    if (aes_authmsg_encode(m, &first, &first_len) != 0 ||
        crypto_random(rng, priv, sizeof priv) != 0 || crypto_x25519_public(priv, pub) != 0 ||
        seal_key(&m->app_id, secret, first, first_len, rng, pub, reply, reply_len) != 0) {
        snprintf(err, errlen, "out of memory, randomness or libcrypto failed");
        goto done;
    }
    if (crypto_x25519_shared(priv, peer, shared) != 0) {
        snprintf(err, errlen, "the client's X25519 key is unusable");
        goto done;
    }
    char unused[8];
    if (aes_authmsg_decode(*reply, *reply_len, &answer, unused, sizeof unused) != 0 ||
        !(transcript = transcript_of(first, first_len, &answer, &t_len)) ||
        derive_session(shared, transcript, t_len, AES_PROTO_X25519_V1, false, &out[0]) != 0 ||
        derive_session(shared, transcript, t_len, AES_PROTO_X25519_V2, false, &out[1]) != 0) {
        snprintf(err, errlen, "out of memory or libcrypto failed");
        goto done;
    }
    rc = 0;
done:
    OPENSSL_cleanse(priv, sizeof priv);
    OPENSSL_cleanse(shared, sizeof shared);
    free(first);
    free(transcript);
    if (rc != 0) {
        free(*reply);
        *reply = NULL;
        OPENSSL_cleanse(out, 2 * sizeof *out);
    }
    return rc;
}
