/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers every layer of libshuffle uses: formatted and copied strings, peer
 * names for messages, the monotonic clock, and request-id randomness. No state of
 * the client lives here, so any file may include it without creating a circle. */
#ifndef SHUFFLE_CLIENT_UTIL_H
#define SHUFFLE_CLIENT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* malloc'd printf; never NULL (falls back to a copy of "out of memory"). */
char *client_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies a string array (n entries) into one malloc'd block; NULL on failure. */
char **client_strv_dup(const char *const *v, size_t n);
char *client_strdup(const char *s);
/* "host:port" for messages, IPv6 literals in brackets. */
void client_peer_name(char *buf, size_t len, const char *host, int port);
void client_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

uint64_t client_now_ms(void); /* CLOCK_MONOTONIC */

/* xoroshiro128+ seeded from getrandom(): request ids only need to be unpredictable
 * enough not to collide across clients, not to be secret. */
struct client_rng {
    uint64_t s[2];
};
void client_rng_seed(struct client_rng *r);
/* A random non-negative 63-bit id (Spark: abs of a random UUID half). */
int64_t client_rng_id(struct client_rng *r);

#endif
