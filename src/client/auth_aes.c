/* SPDX-License-Identifier: Apache-2.0 */
/* The AES handshake as a client connection phase: see auth_aes.h. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/auth_aes.h"
#include "client/link_aes.h"
#include "client/link_gcm.h"
#include "crypto/aes_auth.h"
#include "shuffle/client.h"

struct aes_phase {
    struct aes_client c;
    bool gcm; /* the channel cipher: AES-GCM, else AES-CTR */
};

static enum aes_protocol protocol_of(int crypto)
{
    switch (crypto) {
    case SHUFFLE_CRYPTO_PBKDF2:
        return AES_PROTO_PBKDF2;
    case SHUFFLE_CRYPTO_X25519_V2:
        return AES_PROTO_X25519_V2;
    default:
        return AES_PROTO_X25519_V1;
    }
}

struct aes_phase *aes_phase_start(const struct auth_creds *cr, struct auth_step *step)
{
    memset(step, 0, sizeof(*step));
    struct aes_phase *a = calloc(1, sizeof(*a));
    if (!a) {
        auth_step_fail(step, SHUFFLE_ELOCAL, "out of memory");
        return NULL;
    }
    a->gcm = cr->crypto_cipher == SHUFFLE_CIPHER_GCM;
    if (aes_client_init(&a->c, protocol_of(cr->crypto), cr->app_id, cr->secret) != 0) {
        auth_step_fail(step, strlen(cr->app_id) > AES_MAX_APP_ID ? SHUFFLE_EINVAL : SHUFFLE_ELOCAL,
                       strlen(cr->app_id) > AES_MAX_APP_ID
                           ? "AES authentication: the app id is longer than 255 bytes"
                           : "out of memory");
        return a;
    }
    if (aes_client_start(&a->c, NULL, &step->msg, &step->len) != 0)
        auth_step_fail(step, SHUFFLE_ELOCAL, "AES authentication: cannot build the challenge");
    else
        step->next = AUTH_SEND;
    return a;
}

void aes_phase_step(struct aes_phase *a, const uint8_t *reply, size_t len, struct auth_step *step)
{
    memset(step, 0, sizeof(*step));
    struct aes_session session;
    char err[256], why[300];
    if (aes_client_finish(&a->c, reply, len, &session, err, sizeof(err)) != 0) {
        snprintf(why, sizeof(why), "AES authentication failed: %s", err);
        auth_step_fail(step, SHUFFLE_EAUTH, why);
        return;
    }
    int rc = a->gcm ? link_gcm_new(&step->link, &session) : link_aes_new(&step->link, &session);
    explicit_bzero(&session, sizeof(session));
    if (rc != 0)
        auth_step_fail(step, SHUFFLE_ELOCAL, "AES authentication: cannot start the cipher");
    else
        step->next = AUTH_DONE;
}

void aes_phase_free(struct aes_phase *a)
{
    if (!a)
        return;
    aes_client_free(&a->c);
    free(a);
}
