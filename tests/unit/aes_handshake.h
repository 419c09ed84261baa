/* SPDX-License-Identifier: Apache-2.0 */
/* One whole AES handshake with fresh randomness, for tests that need a session pair: the
 * client's and the server's state machines talk directly (no sockets). Header-only. */
#ifndef SHUFFLED_TESTS_AES_HANDSHAKE_H
#define SHUFFLED_TESTS_AES_HANDSHAKE_H

#include <check.h>
#include <stdlib.h>

#include "crypto/aes_auth.h"

static const enum aes_protocol aes_all_protocols[] = {AES_PROTO_PBKDF2, AES_PROTO_X25519_V1,
                                                      AES_PROTO_X25519_V2};

/* Runs the handshake; sv is left DONE (free it with aes_server_free), *client holds the
 * client's session. */
static inline void aes_fresh_handshake(enum aes_protocol protocol, const char *app_id,
                                       const char *secret, struct aes_server *sv,
                                       struct aes_session *client)
{
    char err[200];
    struct aes_client cl;
    ck_assert_int_eq(aes_client_init(&cl, protocol, app_id, secret), 0);
    uint8_t *body;
    size_t len;
    ck_assert_int_eq(aes_client_start(&cl, NULL, &body, &len), 0);
    aes_server_init(sv);
    ck_assert_int_eq(aes_server_parse(sv, body, len, err, sizeof err), 0);
    ck_assert_msg(aes_server_respond(sv, secret, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(aes_client_finish(&cl, sv->reply, sv->reply_len, client, err, sizeof err) == 0,
                  "%s", err);
    free(body);
    aes_client_free(&cl);
}

#endif
