/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's TLS settings as an OpenSSL SSL_CTX (spark.ssl.rpc; docs/tls.md): built from the
 * tls_* keys at start and again on SIGHUP. A reload swaps in a new context for connections
 * accepted from then on; a connection keeps the context it started with (SSL holds a
 * reference), so rotating a certificate drops nothing. */
#ifndef SHUFFLED_SERVER_NET_TLS_CONTEXT_H
#define SHUFFLED_SERVER_NET_TLS_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct shuffled_config;
struct tls_context;

/* Builds the context of cfg (certificate chain, key, client CAs, protocols, ciphers). NULL
 * with err filled when a file is missing or refused, or the key does not fit the certificate. */
struct tls_context *tls_context_create(const struct shuffled_config *cfg, char *err, size_t errlen);
/* Replaces the context with one built from cfg; on failure the old one stays (-1, err). Safe
 * while other threads call tls_context_acquire. */
int tls_context_reload(struct tls_context *t, const struct shuffled_config *cfg, char *err,
                       size_t errlen);
/* A new SSL for an accepted connection, server side, from the current context. NULL when out
 * of memory. */
SSL *tls_context_new_ssl(struct tls_context *t);
/* The current certificate's subject and expiry, for the start-up and reload lines. */
void tls_context_describe(struct tls_context *t, char *buf, size_t len);
void tls_context_destroy(struct tls_context *t);

#endif
