/* SPDX-License-Identifier: Apache-2.0 */
/* The client's TLS settings and its TLS link; see tls_link.h. */
#include <config.h>

#include "client/tls_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/callback_bio.h"
#include "shuffle/client.h"

/* Bytes of the socket read at once (each TLS connection holds this much while it lives) */
#ifndef TLS_LINK_READ_BUFFER
#define TLS_LINK_READ_BUFFER (64 * 1024)
#endif

struct client_tls {
    SSL_CTX *ctx;
    bool insecure;
};

struct tls_link {
    SSL *ssl;
    /* owned by ssl: in, a buffer over the socket (TLS_LINK_READ_BUFFER), or a cipher under
     * TLS (tls_link_set_below); out, records into memory */
    BIO *rbio, *wbio;
    struct link below; /* a cipher under TLS (AES, as Spark does); plain: the socket */
    int fd;
    struct tls_link_owner owner;
    bool handshake_done;
    bool starved; /* the last read wanted socket bytes: what SSL holds is a partial record */
};

/* OpenSSL's first queued reason, and the certificate check's verdict when it failed. */
static void openssl_reason(SSL *ssl, char *buf, size_t len)
{
    unsigned long e = ERR_peek_error(); /* the first: the cause, not its consequences */
    if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "the server closed the connection");
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(buf + strlen(buf), len - strlen(buf), " (%s)", X509_verify_cert_error_string(v));
    ERR_clear_error();
}

int client_tls_new(const struct shuffle_client_options *o, struct client_tls **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    if (!o->tls)
        return 0;
    struct client_tls *t = calloc(1, sizeof *t);
    SSL_CTX *ctx = t ? SSL_CTX_new(TLS_client_method()) : NULL;
    if (!ctx) {
        snprintf(err, errlen, "TLS: out of memory");
        free(t);
        return -1;
    }
    t->ctx = ctx;
    t->insecure = o->tls_insecure;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* No read-ahead: with it, OpenSSL 3.0 moves the bytes it holds behind a record to the
     * front of its buffer before each record (payload alignment), more bytes than it receives;
     * the read BIO buffers the socket instead (tls_link_start). */
    const char *what = NULL, *file = NULL;
    if (!t->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (o->tls_ca_file && *o->tls_ca_file) {
            if (SSL_CTX_load_verify_locations(ctx, o->tls_ca_file, NULL) != 1)
                what = "cannot load the CAs of", file = o->tls_ca_file;
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            what = "cannot load the system's CAs", file = "";
        }
    }
    if (!what && o->tls_cert_file && *o->tls_cert_file) {
        const char *key = o->tls_key_file && *o->tls_key_file ? o->tls_key_file : o->tls_cert_file;
        if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert_file) != 1)
            what = "cannot load the client certificate", file = o->tls_cert_file;
        else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
            what = "cannot load the client key", file = key;
        else if (SSL_CTX_check_private_key(ctx) != 1)
            what = "the client key does not fit the certificate", file = key;
    }
    if (what) {
        char reason[256];
        openssl_reason(NULL, reason, sizeof reason);
        snprintf(err, errlen, "TLS: %s %s: %s", what, file, reason);
        client_tls_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void client_tls_free(struct client_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

/* Moves the records SSL produced to the connection's output (through the cipher under TLS). */
static int flush_records(struct tls_link *k, struct evbuffer *out)
{
    uint8_t buf[16384];
    int n;
    while ((n = BIO_read(k->wbio, buf, (int)sizeof buf)) > 0)
        if (!out || link_write(&k->below, out, buf, (size_t)n) != 0)
            return -1;
    return 0;
}

/* Reports OpenSSL's reason through report (which closes the connection): -1, errno EPROTO. */
static int session_failed(struct tls_link *k, void (*report)(void *arg, const char *why))
{
    char reason[320];
    openssl_reason(k->ssl, reason, sizeof reason);
    report(k->owner.arg, reason);
    errno = EPROTO;
    return -1;
}

/* Drives the handshake with what the socket has. 0 once done; -1 with errno EAGAIN (more
 * to read), or another errno after the failure was reported. */
static int handshake(struct tls_link *k)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(k->ssl);
    if (flush_records(k, k->owner.out(k->owner.arg)) != 0) {
        errno = ENOMEM;
        return -1;
    }
    if (rc == 1) {
        k->handshake_done = true;
        k->owner.on_handshake(k->owner.arg, NULL);
        return 0;
    }
    if (SSL_get_error(k->ssl, rc) == SSL_ERROR_WANT_READ) {
        errno = EAGAIN; /* the socket's next bytes come with a readiness event */
        return -1;
    }
    return session_failed(k, k->owner.on_handshake);
}

static ssize_t read_plain(struct tls_link *k, int fd, const struct iovec *iov, int iovcnt);

static ssize_t tls_readv(void *state, int fd, const struct iovec *iov, int iovcnt)
{
    struct tls_link *k = state;
    ssize_t n = read_plain(k, fd, iov, iovcnt);
    /* reading may have produced records to send (a key update's answer, an alert) */
    if (BIO_ctrl_pending(k->wbio) > 0 && flush_records(k, k->owner.out(k->owner.arg)) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return n;
}

static ssize_t read_plain(struct tls_link *k, int fd, const struct iovec *iov, int iovcnt)
{
    (void)fd; /* SSL reads the socket itself (rbio) */
    if (!k->handshake_done && handshake(k) != 0)
        return -1;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        size_t at = 0;
        while (at < iov[i].iov_len) {
            ERR_clear_error();
            size_t want = iov[i].iov_len - at;
            int r = SSL_read(k->ssl, (uint8_t *)iov[i].iov_base + at,
                             want > INT_MAX ? INT_MAX : (int)want);
            if (r > 0) {
                at += (size_t)r;
                total += (size_t)r;
                k->starved = false;
                continue;
            }
            int saved = errno, e = SSL_get_error(k->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                k->starved = true;
            if (total > 0)
                return (ssize_t)total; /* the next call sees what stopped this one again */
            if (e == SSL_ERROR_WANT_READ) {
                errno = EAGAIN;
                return -1;
            }
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (e == SSL_ERROR_SYSCALL && saved) {
                ERR_clear_error();
                errno = saved;
                return -1;
            }
            return session_failed(k, k->owner.on_error);
        }
    }
    return (ssize_t)total;
}

/* Plaintext SSL already decrypted, or records it read ahead and has not looked at: no readiness
 * event will announce either. */
static size_t tls_pending(void *state)
{
    struct tls_link *k = state;
    int n = SSL_pending(k->ssl);
    if (n > 0)
        return (size_t)n;
    /* whole records read ahead, or what the read buffer took from the socket */
    if (!k->starved && (SSL_has_pending(k->ssl) || BIO_pending(k->rbio) > 0))
        return 1;
    return link_pending(&k->below); /* records a cipher under TLS decrypted and holds */
}

static int tls_write(void *state, struct evbuffer *out, uint8_t *plain, size_t len)
{
    struct tls_link *k = state;
    while (len > 0) {
        ERR_clear_error();
        int n = SSL_write(k->ssl, plain, len > INT_MAX ? INT_MAX : (int)len);
        if (n <= 0) /* a memory BIO never fills: only out of memory or a dead session */
            return -1;
        plain += n;
        len -= (size_t)n;
        if (flush_records(k, out) != 0)
            return -1;
    }
    return 0;
}

static void tls_destroy(void *state)
{
    struct tls_link *k = state;
    SSL_free(k->ssl);
    link_clear(&k->below);
    free(k);
}

static const struct link_ops tls_link_ops = {
    .name = "tls",
    .splice_ok = false, /* the socket carries records */
    .reads_ahead = true,
    .readv = tls_readv,
    .pending = tls_pending,
    .write = tls_write,
    .destroy = tls_destroy,
};

/* The name or address the server's certificate must carry. */
static int expect_host(SSL *ssl, const char *host)
{
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
    return SSL_set1_host(ssl, host) == 1 && SSL_set_tlsext_host_name(ssl, host) == 1 ? 0 : -1;
}

int tls_link_start(struct link *l, const struct client_tls *t, int fd, const char *host,
                   const struct tls_link_owner *owner, char *err, size_t errlen)
{
    struct tls_link *k = calloc(1, sizeof *k);
    if (k)
        k->ssl = SSL_new(t->ctx);
    BIO *sock = NULL;
    if (k && k->ssl) {
        /* the socket read in large pieces, handed to SSL record by record */
        sock = BIO_new_socket(fd, BIO_NOCLOSE);
        k->rbio = sock ? BIO_new(BIO_f_buffer()) : NULL;
        if (k->rbio && BIO_set_read_buffer_size(k->rbio, TLS_LINK_READ_BUFFER) == 1) {
            BIO_push(k->rbio, sock);
            sock = NULL; /* k->rbio's now */
        }
        k->wbio = BIO_new(BIO_s_mem());
    }
    if (!k || !k->ssl || sock || !k->rbio || !k->wbio ||
        (!t->insecure && expect_host(k->ssl, host))) {
        snprintf(err, errlen, "TLS: cannot start a session (out of memory?)");
        BIO_free(sock);
        if (k) {
            BIO_free_all(k->rbio);
            BIO_free(k->wbio);
            SSL_free(k->ssl);
        }
        free(k);
        return -1;
    }
    SSL_set_bio(k->ssl, k->rbio, k->wbio);
    SSL_set_connect_state(k->ssl);
    k->owner = *owner;
    k->fd = fd;
    l->ops = &tls_link_ops;
    l->state = k;
    ERR_clear_error();
    (void)SSL_do_handshake(k->ssl); /* writes the ClientHello; wants the server's reply */
    if (flush_records(k, owner->out(owner->arg)) != 0) {
        snprintf(err, errlen, "TLS: out of memory");
        link_clear(l);
        return -1;
    }
    return 0;
}

/* ---- a cipher under TLS ---- */

static ssize_t below_read(void *arg, void *buf, size_t len)
{
    struct tls_link *k = arg;
    struct iovec v = {buf, len};
    return link_readv(&k->below, k->fd, &v, 1);
}

static const struct callback_bio_ops below_ops = {below_read, NULL};

bool tls_link_is(const struct link *l)
{
    return l && l->ops == &tls_link_ops;
}

int tls_link_set_below(struct link *l, struct link *cipher, const char **why)
{
    struct tls_link *k = l->state;
    *why = NULL;
    if (!k->handshake_done || !link_is_plain(&k->below))
        *why = "the TLS session cannot take a cipher now";
    else if (SSL_has_pending(k->ssl) || BIO_pending(k->rbio) > 0)
        *why = "bytes after the authentication reply, before the cipher was on";
    else if (flush_records(k, k->owner.out(k->owner.arg)) != 0)
        *why = "out of memory";
    BIO *rbio = *why ? NULL : callback_bio_new(&below_ops, k);
    if (!rbio) {
        if (!*why)
            *why = "out of memory";
        return -1;
    }
    SSL_set0_rbio(k->ssl, rbio); /* frees the buffer and socket BIOs (the fd stays open) */
    k->rbio = rbio;
    k->below = *cipher;
    cipher->ops = NULL;
    cipher->state = NULL;
    return 0;
}
