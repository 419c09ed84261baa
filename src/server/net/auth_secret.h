/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's auth secret file (auth_secret_file): read once at start and checked by
 * `shuffled -t`. Kept apart from auth.c so the config code needs no SASL library. */
#ifndef SHUFFLED_SERVER_AUTH_SECRET_H
#define SHUFFLED_SERVER_AUTH_SECRET_H

#include <stddef.h>

/* Reads path: a regular file that neither group nor others may read or write, holding 1 to
 * 4096 bytes, no NUL; one trailing "\n" (or "\r\n") is dropped, so `echo secret > file` works.
 * Returns 0 with *secret malloc'd, or -1 with why filled (an operator-actionable reason). */
int auth_secret_read(const char *path, char **secret, char *why, size_t whylen);
/* auth_app_secrets_dir: a directory that others may not access (group may, so a YARN-style
 * registrar can share it). 0, or -1 with why filled. */
int auth_secret_dir_check(const char *path, char *why, size_t whylen);
/* auth_secret_read without keeping the secret (for config validation). */
int auth_secret_check(const char *path, char *why, size_t whylen);

#endif
