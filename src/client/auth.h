/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's side of spark.authenticate: the SASL DIGEST-MD5 exchange (protocol.md 12.2) as a
 * phase of one connection. This file knows SASL and the SaslMessage encoding and nothing
 * about connections: transport.c sends the messages a step produces, feeds the replies
 * back, and holds the connection's requests until the phase is done. */
#ifndef SHUFFLE_CLIENT_AUTH_H
#define SHUFFLE_CLIENT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/link.h"

/* The client's credentials, read-only once set up. */
struct auth_creds {
    char *app_id;   /* spark.app.id */
    char *password; /* Spark's SASL password derived from the secret */
    int timeout_ms; /* per handshake round trip */
};

/* Checks and copies app_id and secret (only the password derived from the secret is
 * kept) and starts Cyrus SASL, which is process-wide and shared by every client that
 * authenticates. secret NULL: no authentication (cr stays empty). SHUFFLE_OK, or
 * SHUFFLE_EINVAL (no app id, empty secret) or SHUFFLE_ELOCAL with err set. */
int auth_creds_init(struct auth_creds *cr, const char *app_id, const char *secret, int timeout_ms,
                    char *err, size_t errlen);
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

struct auth_phase;
/* Starts the client side of the exchange: *step holds the first message or the failure.
 * NULL only when out of memory (then *step is AUTH_FAILED too). */
struct auth_phase *auth_phase_start(const struct auth_creds *cr, struct auth_step *step);
/* Feeds the server's reply to the last message sent. */
void auth_phase_step(struct auth_phase *a, const uint8_t *reply, size_t len,
                     struct auth_step *step);
void auth_phase_free(struct auth_phase *a);

#endif
