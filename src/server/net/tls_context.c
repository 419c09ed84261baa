/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's SSL_CTX; see tls_context.h. */
#include <config.h>

#include "server/net/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/net/auth_secret.h"
#include "server/net/tls_protocols.h"
#include "server/ops/config.h"

struct tls_context {
    pthread_mutex_t lock; /* guards ctx: workers take it, SIGHUP replaces it */
    SSL_CTX *ctx;
};

/* The first error OpenSSL queued, for a message an operator can act on. */
static void openssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error(); /* the first: the cause, not its consequences */
    if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "unknown error");
    ERR_clear_error();
}

static int fail(SSL_CTX *ctx, char *err, size_t errlen, const char *what, const char *file)
{
    char reason[256];
    openssl_reason(reason, sizeof reason);
    snprintf(err, errlen, "TLS: %s %s: %s", what, file, reason);
    SSL_CTX_free(ctx);
    return -1;
}

/* TLS 1.3 suites (TLS_*) and TLS 1.2 cipher names are set through different calls. */
static int set_ciphers(SSL_CTX *ctx, const char *list, char *err, size_t errlen)
{
    if (!list[0])
        return 0;
    size_t len = strlen(list);
    char *suites = calloc(1, len + 1), *ciphers = calloc(1, len + 1);
    int rc = -1;
    if (!suites || !ciphers) {
        snprintf(err, errlen, "TLS: out of memory");
        goto out;
    }
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ":,");
        char *to = strncmp(p, "TLS_", 4) == 0 ? suites : ciphers;
        if (n)
            snprintf(to + strlen(to), len + 1 - strlen(to), "%s%.*s", to[0] ? ":" : "", (int)n, p);
        p += n;
        if (*p)
            p++;
    }
    if ((suites[0] && SSL_CTX_set_ciphersuites(ctx, suites) != 1) ||
        (ciphers[0] && SSL_CTX_set_cipher_list(ctx, ciphers) != 1)) {
        char reason[256];
        openssl_reason(reason, sizeof reason);
        snprintf(err, errlen, "TLS: tls_ciphers '%s' refused: %s", list, reason);
        goto out;
    }
    rc = 0;
out:
    free(suites);
    free(ciphers);
    return rc;
}

static int key_password_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    const char *pw = userdata;
    size_t n = pw ? strlen(pw) : 0;
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pw, n);
    return (int)n;
}

static int load_key(SSL_CTX *ctx, const struct shuffled_config *cfg, char *err, size_t errlen)
{
    char *password = NULL;
    if (cfg->tls_key_password_file[0]) {
        char why[300];
        if (auth_secret_read(cfg->tls_key_password_file, &password, why, sizeof why) != 0) {
            snprintf(err, errlen, "TLS: tls_key_password_file: %s", why);
            return -1;
        }
    }
    SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, password);
    int ok = SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (password) {
        OPENSSL_cleanse(password, strlen(password));
        free(password);
    }
    if (ok != 1) {
        char reason[256];
        openssl_reason(reason, sizeof reason);
        snprintf(err, errlen, "TLS: cannot load the key tls_key_file %s: %s", cfg->tls_key_file,
                 reason);
        return -1;
    }
    return 0;
}

static SSL_CTX *build(const struct shuffled_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: out of memory");
        return NULL;
    }
    int min = TLS1_2_VERSION, max = TLS1_3_VERSION;
    (void)tls_protocols_parse(cfg->tls_protocols, &min, &max, err, errlen); /* validated */
    SSL_CTX_set_min_proto_version(ctx, min);
    SSL_CTX_set_max_proto_version(ctx, max);
    /* kTLS when the kernel has it; no renegotiation; a peer closing without close_notify is
     * an end of stream like any other (Spark's clients just close). */
    SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Record buffers go back while a connection is idle; writes may resume from another copy
     * of the same bytes (the send window moves as it is refilled). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* No resumption: Spark's clients do not resume, and tickets would be written after the
     * handshake, outside the reply queue. */
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1) {
        fail(ctx, err, errlen, "cannot load the certificate tls_cert_file", cfg->tls_cert_file);
        return NULL;
    }
    if (load_key(ctx, cfg, err, errlen) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        fail(ctx, err, errlen, "tls_key_file does not fit tls_cert_file", cfg->tls_key_file);
        return NULL;
    }
    if (cfg->tls_ca_file[0]) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_ca_file);
        if (!names || SSL_CTX_load_verify_locations(ctx, cfg->tls_ca_file, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            fail(ctx, err, errlen, "cannot load the CAs of tls_ca_file", cfg->tls_ca_file);
            return NULL;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        /* with a CA file, a client certificate is checked when sent; required on demand */
        SSL_CTX_set_verify(ctx,
                           SSL_VERIFY_PEER |
                               (cfg->tls_require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           NULL);
    }
    /* By default the server picks AES-GCM (AES-NI; kernel TLS can take it over) before
     * ChaCha20, whatever the client prefers (Spark's JDK client lists ChaCha20 first). */
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                  "TLS_CHACHA20_POLY1305_SHA256");
    if (set_ciphers(ctx, cfg->tls_ciphers, err, errlen) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

struct tls_context *tls_context_create(const struct shuffled_config *cfg, char *err, size_t errlen)
{
    struct tls_context *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "TLS: out of memory");
        return NULL;
    }
    t->ctx = build(cfg, err, errlen);
    if (!t->ctx) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

int tls_context_reload(struct tls_context *t, const struct shuffled_config *cfg, char *err,
                       size_t errlen)
{
    SSL_CTX *next = build(cfg, err, errlen);
    if (!next)
        return -1;
    pthread_mutex_lock(&t->lock);
    SSL_CTX *old = t->ctx;
    t->ctx = next;
    pthread_mutex_unlock(&t->lock);
    SSL_CTX_free(old); /* connections that use it hold their own reference */
    return 0;
}

SSL *tls_context_new_ssl(struct tls_context *t)
{
    pthread_mutex_lock(&t->lock);
    SSL *ssl = SSL_new(t->ctx);
    pthread_mutex_unlock(&t->lock);
    if (ssl)
        SSL_set_accept_state(ssl);
    return ssl;
}

void tls_context_describe(struct tls_context *t, char *buf, size_t len)
{
    pthread_mutex_lock(&t->lock);
    X509 *cert = SSL_CTX_get0_certificate(t->ctx);
    char subject[256] = "?", expiry[64] = "?";
    if (cert) {
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        BIO *b = BIO_new(BIO_s_mem());
        if (b && ASN1_TIME_print(b, X509_get0_notAfter(cert)) == 1) {
            int n = BIO_read(b, expiry, (int)sizeof expiry - 1);
            expiry[n > 0 ? n : 0] = '\0';
        }
        BIO_free(b);
    }
    pthread_mutex_unlock(&t->lock);
    snprintf(buf, len, "certificate %s, valid until %s", subject, expiry);
}

void tls_context_destroy(struct tls_context *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
