/* libshuffle's side of spark.authenticate: the SASL DIGEST-MD5 handshake (spec 12.2) that
 * runs on each new connection before its queued requests go out (transport.c holds them). */
#ifndef SHUFFLE_CLIENT_AUTH_H
#define SHUFFLE_CLIENT_AUTH_H

#include "client/internal.h"

struct tconn;
struct client_auth;

/* Starts the handshake on t, just connected (c->auth_password must be set). It ends with
 * tconn_auth_done(t), or with tconn_close(t, ...): SHUFFLE_EAUTH when the server refused,
 * SHUFFLE_EIO when a round trip took longer than auth_timeout_ms. NULL: out of memory or
 * Cyrus failure (t is then closed with SHUFFLE_EAUTH). Owned by t: client_auth_free. */
struct client_auth *client_auth_start(shuffle_client *c, struct tconn *t);
void client_auth_free(struct client_auth *a);

#endif
