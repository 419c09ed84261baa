/* SPDX-License-Identifier: Apache-2.0 */
/* spark.authenticate on the daemon (protocol.md 12.1, 12.2): SASL DIGEST-MD5 through Cyrus libsasl2,
 * QOP "auth" only. A connection starts unauthenticated when auth is on (the auth phase);
 * until the handshake succeeds every RpcRequest body goes here, never to the block handler.
 * The connection's client id (protocol.md 9.1) is the appId of its first SaslMessage; the block
 * handler and the stream manager enforce app isolation with it. */
#ifndef SHUFFLED_SERVER_AUTH_H
#define SHUFFLED_SERVER_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct conn_auth;
struct shuffled_config;
struct auth_server;

/* NULL with err empty when cfg->auth_enabled is false; NULL with err set on failure (secret
 * file unreadable, Cyrus SASL or its DIGEST-MD5 plugin missing). Call before the workers
 * start; once per process. */
struct auth_server *auth_server_create(const struct shuffled_config *cfg, char *err, size_t errlen);
/* After the workers stopped: frees the secret and shuts Cyrus SASL down (sasl_server_done). */
void auth_server_destroy(struct auth_server *a);

/* A new connection: puts the handshake phase in front of dispatch (struct server's
 * conn_opened hook, with the auth server as ctx). Worker thread. */
void auth_conn_opened(void *auth_server, struct conn *c);
/* Frees a connection's handshake state. */
void auth_conn_free(struct conn_auth *ca);

#endif
