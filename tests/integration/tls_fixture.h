/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the TLS tests: certificates made at test time (tls_certs.sh), the daemon's TLS
 * config members, and a blocking OpenSSL client that speaks frames over TLS. */
#ifndef SHUFFLED_TESTS_TLS_FIXTURE_H
#define SHUFFLED_TESTS_TLS_FIXTURE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "../harness/daemon.h"

/* The directory holding tls_certs.sh's files (made once per test program). */
extern char tls_certs[512];
/* Makes the certificates into a fresh temp dir; 0 or -1. */
int tls_certs_make(void);
/* "DIR/name" in a static buffer (one of 8 rotating ones). */
const char *tls_cert_path(const char *name);

/* JSON members turning TLS on with certificate NAME.pem/NAME.key (NULL: extra names the
 * files), then extra (may be NULL). */
char *tls_daemon_json(const char *name, const char *extra);
/* Starts the real shuffled with those members; 0 or -1. */
int tls_daemon_start(struct harness_daemon *d, const char *cert_name, const char *extra);

/* A blocking TLS connection to 127.0.0.1:port trusting ca (NULL: verify nothing), with a
 * client certificate NAME.pem/NAME.key (NULL: none). NULL with why filled on failure. */
SSL *tls_client_connect(int port, const char *ca, const char *client_cert, char *why,
                        size_t whylen);
void tls_client_close(SSL *ssl);
/* An RpcRequest the daemon must answer with RpcFailure (an unknown message): the answer's
 * frame type (PROTO_RPC_FAILURE), or -1 when the connection failed or closed. */
int tls_client_probe(SSL *ssl);
/* The CN of the server's certificate on ssl, into buf. */
const char *tls_client_peer_cn(SSL *ssl, char *buf, size_t len);

#endif
