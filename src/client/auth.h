/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's side of spark.authenticate: the SASL DIGEST-MD5 exchange (protocol.md 12.2) as a
 * phase of one connection. This file knows SASL and the SaslMessage encoding and nothing
 * about connections: transport_handshake.c sends the messages a step produces, feeds the replies
 * back, and holds the connection's requests until the phase is done. */
#ifndef SHUFFLE_CLIENT_AUTH_H
#define SHUFFLE_CLIENT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/link.h"

/* The client's credentials, read-only once set up. */
struct auth_creds {
    char *app_id;      /* spark.app.id */
    char *password;    /* Spark's SASL password derived from the secret */
    char *secret;      /* the secret itself: only with crypto (the AES handshakes need it) */
    int crypto;        /* SHUFFLE_CRYPTO_*: 0 SASL, else the AES handshake (auth_aes.c) */
    int crypto_cipher; /* SHUFFLE_CIPHER_*: the channel after the AES handshake */
    bool sasl_encrypt; /* SASL with QOP auth-conf: a security layer after the handshake */
    bool sasl_started; /* holds a reference on Cyrus SASL's process-wide state */
    int timeout_ms;    /* per handshake round trip */
};

/* What to authenticate with: the public options' auth and crypto fields. */
struct auth_modes {
    const char *app_id, *secret; /* secret NULL: no authentication */
    int crypto;                  /* SHUFFLE_CRYPTO_* */
    int crypto_cipher;           /* SHUFFLE_CIPHER_* */
    bool sasl_encrypt;
    int timeout_ms;
};

/* Checks and copies app_id and secret (for SASL only the password derived from the secret
 * is kept) and starts Cyrus SASL, which is process-wide and shared by every client that
 * authenticates with it. No secret: no authentication (cr stays empty). SHUFFLE_OK, or
 * SHUFFLE_EINVAL (no app id, empty secret, an unknown crypto mode, crypto or SASL encryption
 * without a secret, both at once) or SHUFFLE_ELOCAL with err set. */
int auth_creds_init(struct auth_creds *cr, const struct auth_modes *m, char *err, size_t errlen);
void auth_creds_release(struct auth_creds *cr);
bool auth_creds_enabled(const struct auth_creds *cr);

enum auth_next {
    AUTH_SEND,   /* send msg as an RPC, feed its reply to auth_phase_step */
    AUTH_DONE,   /* authenticated: install link (if set), then release the requests */
    AUTH_FAILED, /* status (SHUFFLE_EAUTH, SHUFFLE_ELOCAL) and why */
};

struct auth_step {
    enum auth_next next;
    uint8_t *msg; /* AUTH_SEND: the SaslMessage body (malloc'd) */
    size_t len;
    int status;
    char *why;        /* AUTH_FAILED: malloc'd reason */
    struct link link; /* AUTH_DONE: the security layer for every later byte; plain if none */
};
void auth_step_clear(struct auth_step *s);
/* Sets step to AUTH_FAILED with a copy of why. */
void auth_step_fail(struct auth_step *step, int status, const char *why);

struct auth_phase;
/* Starts the client side of the exchange: *step holds the first message or the failure.
 * NULL only when out of memory (then *step is AUTH_FAILED too). */
struct auth_phase *auth_phase_start(const struct auth_creds *cr, struct auth_step *step);
/* Feeds the server's reply to the last message sent. */
void auth_phase_step(struct auth_phase *a, const uint8_t *reply, size_t len,
                     struct auth_step *step);
void auth_phase_free(struct auth_phase *a);

#endif
