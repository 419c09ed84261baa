/* SPDX-License-Identifier: Apache-2.0 */
/* The two AES handshakes behind one server and one client state machine; see aes_auth.h. */
#include <config.h>

#include "crypto/aes_auth.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aes_server_init(struct aes_server *s)
{
    memset(s, 0, sizeof *s);
    s->state = AES_SERVER_NEW;
}

static int fail(struct aes_server *s)
{
    s->state = AES_SERVER_FAILED;
    return -1;
}

int aes_server_parse(struct aes_server *s, const uint8_t *body, size_t len, char *err,
                     size_t errlen)
{
    if (s->state != AES_SERVER_NEW) {
        snprintf(err, errlen, "a second auth message on one connection");
        return fail(s);
    }
    if (len == 0 || (body[0] != AES_CLIENT_CHALLENGE_TAG && body[0] != AES_AUTHMSG_TAG)) {
        snprintf(err, errlen, "not an AES auth message (first byte %d)",
                 len ? (int)(int8_t)body[0] : -1);
        return fail(s);
    }
    s->body = malloc(len);
    if (!s->body) {
        snprintf(err, errlen, "out of memory");
        return fail(s);
    }
    memcpy(s->body, body, len);
    s->x25519 = body[0] == AES_AUTHMSG_TAG;
    const struct aes_field *app;
    if (s->x25519) {
        if (aes_authmsg_decode(s->body, len, &s->msg.am, err, errlen) != 0)
            return fail(s);
        app = &s->msg.am.app_id;
    } else {
        if (aes_client_challenge_decode(s->body, len, &s->msg.cc, err, errlen) != 0)
            return fail(s);
        app = &s->msg.cc.app_id;
    }
    if (app->len > AES_MAX_APP_ID) {
        snprintf(err, errlen, "an appId of %u bytes (at most %d)", app->len, AES_MAX_APP_ID);
        return fail(s);
    }
    s->app_id = malloc((size_t)app->len + 1);
    if (!s->app_id) {
        snprintf(err, errlen, "out of memory");
        return fail(s);
    }
    if (app->len)
        memcpy(s->app_id, app->data, app->len);
    s->app_id[app->len] = '\0';
    s->state = AES_SERVER_PARSED;
    return 0;
}

int aes_server_respond(struct aes_server *s, const char *secret, const struct crypto_rng *rng,
                       char *err, size_t errlen)
{
    if (s->state != AES_SERVER_PARSED) {
        snprintf(err, errlen, "no parsed auth message to answer");
        return fail(s);
    }
    if (!secret) {
        snprintf(err, errlen, "Trying to authenticate non-registered app %s.", s->app_id);
        return fail(s);
    }
    int rc;
    if (s->x25519) {
        rc = aes_x25519_server_respond(&s->msg.am, secret, rng, &s->reply, &s->reply_len,
                                       s->sessions, err, errlen);
        s->nsessions = 2;
    } else {
        rc = aes_v1_server_respond(&s->msg.cc, secret, rng, &s->reply, &s->reply_len,
                                   &s->sessions[0], err, errlen);
        s->nsessions = 1;
    }
    if (rc != 0) {
        s->nsessions = 0;
        return fail(s);
    }
    s->state = AES_SERVER_DONE;
    return 0;
}

void aes_server_free(struct aes_server *s)
{
    free(s->body);
    free(s->app_id);
    free(s->reply);
    OPENSSL_cleanse(s, sizeof *s);
}

static char *copy_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

int aes_client_init(struct aes_client *c, enum aes_protocol protocol, const char *app_id,
                    const char *secret)
{
    memset(c, 0, sizeof *c);
    if (strlen(app_id) > AES_MAX_APP_ID)
        return -1;
    c->protocol = protocol;
    c->app_id = copy_str(app_id);
    c->secret = copy_str(secret);
    if (!c->app_id || !c->secret) {
        aes_client_free(c);
        return -1;
    }
    return 0;
}

int aes_client_start(struct aes_client *c, const struct crypto_rng *rng, uint8_t **body,
                     size_t *len)
{
    if (c->started)
        return -1;
    c->started = true;
    if (c->protocol == AES_PROTO_PBKDF2)
        return aes_v1_client_start(&c->u.v1, c->app_id, c->secret, rng, body, len);
    return aes_x25519_client_start(&c->u.x, c->protocol, c->app_id, c->secret, rng, body, len);
}

int aes_client_finish(struct aes_client *c, const uint8_t *reply, size_t len,
                      struct aes_session *out, char *err, size_t errlen)
{
    if (!c->started || c->finished) {
        snprintf(err, errlen, "an auth reply out of turn");
        return -1;
    }
    c->finished = true;
    if (c->protocol == AES_PROTO_PBKDF2)
        return aes_v1_client_finish(&c->u.v1, reply, len, out, err, errlen);
    return aes_x25519_client_finish(&c->u.x, reply, len, out, err, errlen);
}

void aes_client_free(struct aes_client *c)
{
    if (c->started && c->protocol != AES_PROTO_PBKDF2)
        aes_x25519_client_wipe(&c->u.x);
    else
        aes_v1_client_wipe(&c->u.v1);
    if (c->secret)
        OPENSSL_cleanse(c->secret, strlen(c->secret));
    free(c->secret);
    free(c->app_id);
    memset(c, 0, sizeof *c);
}
