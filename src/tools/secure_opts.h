/* SPDX-License-Identifier: Apache-2.0 */
/* The client tools' security options: --auth-secret-file FILE (spark.authenticate),
 * --crypto pbkdf2|x25519|x25519-v2 (spark.network.crypto) and --sasl-encrypt (SASL QOP
 * auth-conf), --crypto-cipher ctr|gcm (spark.network.crypto.cipher), turned into libshuffle's
 * options. */
#ifndef SHUFFLE_TOOLS_SECURE_OPTS_H
#define SHUFFLE_TOOLS_SECURE_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "shuffle/client.h"

struct secure_opts {
    const char *secret_file; /* NULL: no authentication */
    const char *crypto;      /* NULL: SASL */
    bool sasl_encrypt;
    const char *crypto_cipher; /* --crypto-cipher ctr|gcm; NULL: ctr */
};

/* SHUFFLE_CRYPTO_* for "pbkdf2", "x25519", "x25519-v2"; -1 for anything else. */
int secure_crypto_mode(const char *name);

/* Checks s and reads its secret: *crypto (SHUFFLE_CRYPTO_*), *cipher (SHUFFLE_CIPHER_*) and
 * *secret (malloc'd, NULL without a secret file; free with secure_secret_free). 0, or -1 with
 * err set, as secure_opts_apply. */
int secure_opts_read(const struct secure_opts *s, int *crypto, int *cipher, char **secret,
                     char *err, size_t errlen);
/* Sets o's auth and crypto fields for app; *secret holds the secret read from the file (NULL
 * without one): pass it to secure_secret_free once shuffle_client_new has returned. 0, or -1
 * with err set (an unreadable file, an unknown mode, --crypto or --sasl-encrypt without a
 * secret file). */
int secure_opts_apply(const struct secure_opts *s, const char *app,
                      struct shuffle_client_options *o, char **secret, char *err, size_t errlen);
/* Wipes and frees what secure_opts_apply read. */
void secure_secret_free(char *secret);
/* secure_opts_apply, then shuffle_client_new(o, cl), the secret wiped after: 0, or the exit
 * status with the reason on stderr after "tool: " (2: a usage error, 1: no client). */
int secure_client_new(const char *tool, const struct secure_opts *s, const char *app,
                      struct shuffle_client_options *o, shuffle_client **cl);

#endif
