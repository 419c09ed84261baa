/* SPDX-License-Identifier: Apache-2.0 */
/* The accepting side of spark.authenticate (SASL DIGEST-MD5, QOP auth) for the RPC env's
 * connections: the tokens a connecting env's SaslMessages carry, answered step by step until
 * the session is authenticated or refused. No I/O here: env.c feeds the tokens in and
 * answers with what comes out. (libshuffle's connecting side is src/client/auth.c.) */
#ifndef SHUFFLE_CLIENT_RPCENV_SASL_SERVER_H
#define SHUFFLE_CLIENT_RPCENV_SASL_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct rpc_sasl_session;

/* Cyrus SASL's server side is process-wide: started by the first env with a secret, stopped
 * with the last. 0, or -1 with err set. */
int rpc_sasl_server_start(char *err, size_t errlen);
void rpc_sasl_server_stop(void);

/* A session checking against password (Spark's, derived from the secret; borrowed, must
 * outlive the session). NULL without memory. */
struct rpc_sasl_session *rpc_sasl_session_new(const char *password);
void rpc_sasl_session_free(struct rpc_sasl_session *s);
/* One token in, the answer's token out (borrowed from the session until the next step):
 * 0 more steps follow, 1 authenticated (out is the last answer), -1 refused (why). */
int rpc_sasl_session_step(struct rpc_sasl_session *s, const uint8_t *token, size_t len,
                          const uint8_t **out, size_t *out_len, char *why, size_t whylen);

#endif
