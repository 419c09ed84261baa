/* SPDX-License-Identifier: Apache-2.0 */
/* The AES handshake answered on an accepted RPC connection; see aes_accept.h. */
#include <config.h>

#include "client/rpcenv/aes_accept.h"

#include <stdio.h>
#include <string.h>

#include "client/auth.h"
#include "client/link_aes.h"
#include "client/link_gcm.h"
#include "client/rpcenv/conn.h"
#include "crypto/aes_auth.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"

/* The same text for an unknown secret and a tampered message: nothing to learn from it. */
#define RPC_AES_REFUSED "AES authentication failed"

bool rpc_aes_is_auth_message(const uint8_t *body, size_t len)
{
    return len > 0 && (body[0] == 0xFA || body[0] == 0xFB || body[0] == SASLMSG_TAG);
}

/* The session this env's mode names among the server's candidates; -1 when the peer ran
 * another handshake (its message says which family: v1 ClientChallenge or 3.2+ AuthMessage). */
static int session_for_mode(const struct aes_server *s, int crypto)
{
    if (crypto == SHUFFLE_CRYPTO_PBKDF2)
        return s->x25519 ? -1 : 0;
    if (!s->x25519 || s->nsessions < 2)
        return -1;
    return crypto == SHUFFLE_CRYPTO_X25519_V2 ? 1 : 0; /* engine versions 1, 2 in that order */
}

void rpc_aes_accept(struct rpc_conn *c, const struct auth_creds *cr, int64_t request_id,
                    const uint8_t *body, size_t len)
{
    if (body[0] == SASLMSG_TAG) {
        rpc_conn_answer(c, request_id,
                        "this RPC env requires AES authentication (spark.network.crypto), not SASL",
                        NULL, 0);
        return;
    }
    struct aes_server s;
    char err[256];
    const char *refusal = RPC_AES_REFUSED;
    int pick = -1;
    aes_server_init(&s);
    if (aes_server_parse(&s, body, len, err, sizeof err) == 0 &&
        aes_server_respond(&s, cr->secret, NULL, err, sizeof err) == 0) {
        pick = session_for_mode(&s, cr->crypto);
        if (pick < 0)
            refusal = "AES authentication failed: the peer runs another handshake than this "
                      "RPC env's crypto mode";
    }
    struct link link = {0};
    if (pick >= 0) {
        int rc = cr->crypto_cipher == SHUFFLE_CIPHER_GCM ? link_gcm_new(&link, &s.sessions[pick])
                                                         : link_aes_new(&link, &s.sessions[pick]);
        if (rc != 0) {
            pick = -1;
            refusal = "AES authentication: no memory for the cipher";
        }
    }
    if (pick < 0) {
        rpc_conn_answer(c, request_id, refusal, NULL, 0);
    } else {
        /* the reply leaves in the clear; every later byte, both ways, under the cipher */
        rpc_conn_answer(c, request_id, NULL, s.reply, s.reply_len);
        if (rpc_conn_set_link(c, &link) == 0)
            rpc_conn_set_authenticated(c);
    }
    aes_server_free(&s);
}
