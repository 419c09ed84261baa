/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's AES handshakes (spark.network.crypto.enabled), both sides, as state machines over
 * RPC bodies: no I/O, no event loop. The caller carries the bodies in RpcRequest/RpcResponse
 * frames and, once a side is done, puts the session's cipher on the connection (docs/crypto.md
 * says when). The server learns the protocol from the client's first body: tag 0xFA is the v1
 * ClientChallenge (protocol.md 12.4), tag 0xFB the 3.2+ AuthMessage (protocol.md 12.5). */
#ifndef SHUFFLED_CRYPTO_AES_AUTH_H
#define SHUFFLED_CRYPTO_AES_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aes_auth_v1.h"
#include "crypto/aes_auth_x25519.h"
#include "crypto/aes_session.h"
#include "crypto/primitives.h"

/* The longest appId either side accepts. Spark's ids are far shorter (YARN's
 * application_<ts>_<n>); the bound keeps the 3.2+ HKDF inputs (two appIds, a salt and the
 * client's message) inside what libcrypto's HKDF takes (1024 bytes of info), and an appId
 * must also fit a file name under auth_app_secrets_dir. */
#define AES_MAX_APP_ID 255

/* ---- server ---- */

enum aes_server_state {
    AES_SERVER_NEW,    /* waiting for the client's first body */
    AES_SERVER_PARSED, /* app_id is known: look its secret up, then respond */
    AES_SERVER_DONE,   /* reply and sessions are ready */
    AES_SERVER_FAILED, /* refuse ("Authentication failed.") and close */
};

struct aes_server {
    enum aes_server_state state;
    bool x25519;    /* which message the client sent */
    char *app_id;   /* NUL-terminated copy, from AES_SERVER_PARSED on */
    uint8_t *reply; /* the RpcResponse body to send, in AES_SERVER_DONE */
    size_t reply_len;
    /* AES_SERVER_DONE: one session (v1) or two (3.2+: engine versions 1 and 2, in that order;
     * aes_session_pick or channel_aes_new_undecided chooses with the client's first bytes). */
    struct aes_session sessions[2];
    int nsessions;
    /* private */
    uint8_t *body; /* a copy of the client's body, which the decoded message borrows from */
    union {
        struct aes_client_challenge cc;
        struct aes_authmsg am;
    } msg;
};

void aes_server_init(struct aes_server *s);
/* The client's first RpcRequest body. 0: parsed (state PARSED, app_id set). -1 with err: not
 * an AES message at all (wrong first byte: a SASL client, say), a malformed one, or an appId
 * longer than AES_MAX_APP_ID; state FAILED. Whether to fall back to SASL on a wrong tag is the
 * caller's choice (check body[0]). */
int aes_server_parse(struct aes_server *s, const uint8_t *body, size_t len, char *err,
                     size_t errlen);
/* With the app's secret (NULL: the app is unknown). 0: state DONE; -1 with err: FAILED
 * (unknown app, wrong secret, a tampered message, unsupported parameters). */
int aes_server_respond(struct aes_server *s, const char *secret, const struct crypto_rng *rng,
                       char *err, size_t errlen);
/* Frees and wipes everything (sessions included). */
void aes_server_free(struct aes_server *s);

/* ---- client ---- */

struct aes_client {
    enum aes_protocol protocol;
    bool started, finished;
    char *app_id, *secret; /* owned copies */
    union {
        struct aes_v1_client v1;
        struct aes_x25519_client x;
    } u;
};

/* 0, or -1 (no memory, or an appId longer than AES_MAX_APP_ID). */
int aes_client_init(struct aes_client *c, enum aes_protocol protocol, const char *app_id,
                    const char *secret);
/* The first RpcRequest body (malloc'd, the caller sends and frees it). 0, or -1. */
int aes_client_start(struct aes_client *c, const struct crypto_rng *rng, uint8_t **body,
                     size_t *len);
/* The server's RpcResponse body. 0 with *out filled: install the cipher before sending the
 * next byte. -1 with err: the server is not who it claims (or uses another protocol). */
int aes_client_finish(struct aes_client *c, const uint8_t *reply, size_t len,
                      struct aes_session *out, char *err, size_t errlen);
void aes_client_free(struct aes_client *c);

#endif
