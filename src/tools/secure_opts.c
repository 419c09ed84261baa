/* SPDX-License-Identifier: Apache-2.0 */
/* The client tools' security options: see secure_opts.h. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/secure_opts.h"

int secure_crypto_mode(const char *name)
{
    static const struct {
        const char *name;
        int mode;
    } modes[] = {{"pbkdf2", SHUFFLE_CRYPTO_PBKDF2},
                 {"x25519", SHUFFLE_CRYPTO_X25519},
                 {"x25519-v2", SHUFFLE_CRYPTO_X25519_V2}};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(name, modes[i].name) == 0)
            return modes[i].mode;
    return -1;
}

/* The whole file, minus one trailing newline; NULL with err set. */
static char *read_secret(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = calloc(1, 4098);
    size_t n = buf ? fread(buf, 1, 4097, f) : 0;
    fclose(f);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = 0;
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = 0;
    if (!buf || n == 0 || n > 4096 || strlen(buf) != n) {
        snprintf(err, errlen, "%s: the secret must be 1-4096 bytes without NUL", path);
        free(buf);
        return NULL;
    }
    return buf;
}

int secure_opts_read(const struct secure_opts *s, int *crypto, int *cipher, char **secret,
                     char *err, size_t errlen)
{
    *secret = NULL;
    int mode = SHUFFLE_CRYPTO_OFF;
    if (s->crypto && (mode = secure_crypto_mode(s->crypto)) < 0) {
        snprintf(err, errlen, "--crypto: '%s' is not pbkdf2, x25519 or x25519-v2", s->crypto);
        return -1;
    }
    if ((s->crypto || s->sasl_encrypt) && !s->secret_file) {
        snprintf(err, errlen, "--%s needs --auth-secret-file",
                 s->crypto ? "crypto" : "sasl-encrypt");
        return -1;
    }
    *crypto = mode;
    *cipher = SHUFFLE_CIPHER_CTR;
    if (s->crypto_cipher) {
        bool gcm = strcmp(s->crypto_cipher, "gcm") == 0;
        if (!gcm && strcmp(s->crypto_cipher, "ctr") != 0) {
            snprintf(err, errlen, "--crypto-cipher: '%s' is not ctr or gcm", s->crypto_cipher);
            return -1;
        }
        if (gcm && (mode == SHUFFLE_CRYPTO_OFF || mode == SHUFFLE_CRYPTO_PBKDF2)) {
            snprintf(err, errlen, "--crypto-cipher gcm needs --crypto x25519 or x25519-v2");
            return -1;
        }
        *cipher = gcm ? SHUFFLE_CIPHER_GCM : SHUFFLE_CIPHER_CTR;
    }
    if (s->crypto && s->sasl_encrypt) {
        snprintf(err, errlen, "--crypto and --sasl-encrypt exclude each other");
        return -1;
    }
    if (s->secret_file && !(*secret = read_secret(s->secret_file, err, errlen)))
        return -1;
    return 0;
}

int secure_opts_apply(const struct secure_opts *s, const char *app,
                      struct shuffle_client_options *o, char **secret, char *err, size_t errlen)
{
    int mode, cipher;
    if (secure_opts_read(s, &mode, &cipher, secret, err, errlen) != 0)
        return -1;
    if (!*secret)
        return 0;
    o->auth_secret = *secret;
    o->auth_app_id = app;
    o->crypto = mode;
    o->crypto_cipher = cipher;
    o->sasl_encrypt = s->sasl_encrypt;
    return 0;
}

void secure_secret_free(char *secret)
{
    if (secret) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
}

int secure_client_new(const char *tool, const struct secure_opts *s, const char *app,
                      struct shuffle_client_options *o, shuffle_client **cl)
{
    char err[1024], *secret = NULL;
    if (secure_opts_apply(s, app, o, &secret, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return 2;
    }
    int status = shuffle_client_new(o, cl);
    o->auth_secret = NULL;
    secure_secret_free(secret); /* the client keeps what it derived from it, or a copy */
    if (status != SHUFFLE_OK) {
        fprintf(stderr, "%s: %s\n", tool, shuffle_last_error(NULL));
        return 1;
    }
    return 0;
}
