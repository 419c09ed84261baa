/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS channel; see channel_tls.h. */
#include <config.h>

#include "server/net/channel_tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/callback_bio.h"
#include "server/net/send_window.h"
#include "server/net/tls_window_bio.h"

struct tls_channel {
    struct channel base;
    struct channel *inner; /* the socket, or the cipher stream under TLS (set_transport) */
    SSL *ssl;
    struct channel_tls_hooks hooks;
    bool handshake_done, ktls_send;
    /* Kernel TLS: plaintext SSL_write has not taken yet. Userspace TLS: SSL's records, put
     * there by window_bio (SSL's write BIO once the handshake is done), the socket has not
     * taken yet; many records leave in one socket write. */
    struct send_window win;
    BIO *window_bio; /* until SSL owns it (userspace TLS) or it is freed (kernel TLS) */
};

static struct tls_channel *from(struct channel *ch)
{
    return (struct tls_channel *)ch;
}

static int clamp(size_t n)
{
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* -1 with errno for a failed SSL call (0 for an orderly end of stream). */
static ssize_t ssl_failure(struct tls_channel *t, int rc)
{
    int saved = errno;
    switch (SSL_get_error(t->ssl, rc)) {
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        errno = saved ? saved : ECONNRESET;
        return -1;
    default:
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

/* 1 once done; 0 when the client closed before it; -1 with errno (EAGAIN: more to come). */
static int handshake(struct tls_channel *t)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) {
        t->handshake_done = true;
        t->ktls_send = BIO_get_ktls_send(SSL_get_wbio(t->ssl)) == 1;
        if (!t->ktls_send) {
            /* records go into the window (appended after a header until it is full) */
            SSL_set0_wbio(t->ssl, t->window_bio);
            t->win.append = true;
            t->win.min_room = TLS_RECORD_OVERHEAD_MAX + 1;
        } else {
            BIO_free(t->window_bio);
        }
        t->window_bio = NULL;
        if (t->hooks.on_handshake)
            t->hooks.on_handshake(t->hooks.arg, &t->base, NULL);
        return 1;
    }
    int kind = SSL_get_error(t->ssl, rc);
    if (kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    unsigned long e = ERR_peek_last_error();
    if (!e && (kind == SSL_ERROR_ZERO_RETURN || kind == SSL_ERROR_SYSCALL))
        return 0; /* closed without a word (a port probe): not a refusal */
    char reason[256];
    ERR_error_string_n(e, reason, sizeof reason);
    long verify = SSL_get_verify_result(t->ssl);
    if (verify != X509_V_OK)
        snprintf(reason + strlen(reason), sizeof reason - strlen(reason),
                 " (client certificate: %s)", X509_verify_cert_error_string(verify));
    ERR_clear_error();
    if (t->hooks.on_handshake)
        t->hooks.on_handshake(t->hooks.arg, &t->base, reason);
    errno = EPROTO;
    return -1;
}

/* Userspace TLS: the window's records to the socket. */
static ssize_t socket_drain(void *sink, const uint8_t *p, size_t n, bool more)
{
    struct iovec v = {(void *)p, n};
    return channel_writev(((struct tls_channel *)sink)->inner, &v, 1, more);
}

static ssize_t tls_read(struct channel *ch, void *buf, size_t len)
{
    struct tls_channel *t = from(ch);
    if (!t->handshake_done) {
        int rc = handshake(t);
        if (rc <= 0)
            return rc; /* 0: the client closed the connection */
    }
    ERR_clear_error();
    int n = SSL_read(t->ssl, buf, clamp(len));
    if (n > 0)
        return n;
    ssize_t r = ssl_failure(t, n);
    if (r < 0 && errno != EAGAIN && !t->ktls_send) {
        int saved = errno; /* best effort: an alert SSL wrote into the window goes out */
        (void)send_window_flush(&t->win, socket_drain, t, false);
        errno = saved;
    }
    return r;
}

static ssize_t ssl_drain(void *sink, const uint8_t *p, size_t n, bool more)
{
    struct tls_channel *t = sink;
    (void)more; /* the socket is corked by the reply queue where it matters */
    ERR_clear_error();
    int w = SSL_write(t->ssl, p, clamp(n));
    if (w > 0)
        return w;
    ssize_t r = ssl_failure(t, w);
    if (r == 0)
        errno = EPIPE;
    return -1;
}

/* Userspace TLS: SSL_write of n bytes, whose records go into the window: bytes taken (fewer
 * only when the window filled up, which tls_window_plain_fits prevents), or -1 with errno
 * (EAGAIN: the window is full). */
static ssize_t seal(struct tls_channel *t, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) { /* partial writes: one record per call */
        ERR_clear_error();
        int w = SSL_write(t->ssl, p + done, clamp(n - done));
        if (w <= 0) {
            if (ssl_failure(t, w) == 0)
                errno = EPIPE;
            return done ? (ssize_t)done : -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

struct iov_src {
    struct tls_channel *t;
    const struct iovec *iov;
    int iovcnt;
};

/* Kernel TLS: the plaintext is copied into the window, SSL_write takes it from there. */
static ssize_t fill_from_iov(void *src, struct send_window *w, size_t done, size_t n)
{
    const struct iov_src *s = src;
    return send_window_put_iov(w, s->iov, s->iovcnt, done, n);
}

/* Userspace TLS: the records of up to n bytes of iov (from done bytes in), sealed straight from
 * the caller's memory. */
static ssize_t seal_iov(void *src, struct send_window *w, size_t done, size_t n)
{
    const struct iov_src *s = src;
    size_t fits = tls_window_plain_fits(w->max - w->end), taken = 0;
    if (n > fits)
        n = fits;
    for (int i = 0; i < s->iovcnt && taken < n; i++) {
        size_t l = s->iov[i].iov_len;
        if (done >= l) {
            done -= l;
            continue;
        }
        size_t want = l - done < n - taken ? l - done : n - taken;
        ssize_t got = seal(s->t, (const uint8_t *)s->iov[i].iov_base + done, want);
        if (got < 0)
            return taken ? (ssize_t)taken : -1;
        taken += (size_t)got;
        if ((size_t)got < want)
            break;
        done = 0;
    }
    return (ssize_t)taken;
}

static ssize_t tls_writev(struct channel *ch, const struct iovec *iov, int iovcnt, bool more)
{
    struct tls_channel *t = from(ch);
    if (!t->handshake_done) {
        errno = EPROTO; /* the daemon answers requests: none can come before the handshake */
        return -1;
    }
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    struct iov_src s = {t, iov, iovcnt};
    if (t->ktls_send)
        return send_window_pump(&t->win, total, more, fill_from_iov, &s, ssl_drain, t);
    return send_window_pump(&t->win, total, more, seal_iov, &s, socket_drain, t);
}

struct file_src {
    struct tls_channel *t;
    int fd;
    uint64_t offset;
};

/* Userspace TLS: up to n file bytes (from done bytes in) read into the top of the window and
 * sealed into records after what it holds. The room left for the records (plaintext plus
 * TLS_RECORD_OVERHEAD_MAX per record) keeps each record's ciphertext below the plaintext
 * still to be sealed, so the file bytes need no buffer of their own. */
static ssize_t seal_file(void *src, struct send_window *w, size_t done, size_t n)
{
    const struct file_src *f = src;
    size_t fits = tls_window_plain_fits(w->max - w->end);
    if (n > fits)
        n = fits;
    /* what n bytes' records may take: at most max; reserved first, the plaintext must not move */
    size_t need = w->end + n + TLS_RECORD_OVERHEAD_MAX * (n / SSL3_RT_MAX_PLAIN_LENGTH + 1);
    if (send_window_reserve(w, need) != 0)
        return -1;
    uint8_t *plain = w->buf + w->cap - n;
    ssize_t r;
    do
        r = pread(f->fd, plain, n, (off_t)(f->offset + done));
    while (r < 0 && errno == EINTR);
    return r > 0 ? seal(f->t, plain, (size_t)r) : r;
}

static ssize_t tls_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    struct tls_channel *t = from(ch);
    if (!t->handshake_done) {
        errno = EPROTO;
        return -1;
    }
    if (t->ktls_send) {
        if (send_window_flush(&t->win, ssl_drain, t, true) != 0)
            return -1;
        ERR_clear_error();
        ossl_ssize_t n = SSL_sendfile(t->ssl, fd, (off_t)offset, len, 0);
        if (n >= 0)
            return (ssize_t)n;
        return ssl_failure(t, -1) == 0 ? 0 : -1;
    }
    struct file_src f = {t, fd, offset};
    return send_window_pump(&t->win, len, false, seal_file, &f, socket_drain, t);
}

static void tls_cork(struct channel *ch, bool on)
{
    channel_cork(from(ch)->inner, on);
}

static size_t tls_pending(struct channel *ch)
{
    struct tls_channel *t = from(ch);
    int n = t->handshake_done ? SSL_pending(t->ssl) : 0;
    /* plus records a cipher stream under TLS decrypted and SSL has not asked for yet */
    return (n > 0 ? (size_t)n : 0) + channel_pending(t->inner);
}

static int tls_flush(struct channel *ch)
{
    struct tls_channel *t = from(ch);
    int rc = send_window_flush(&t->win, t->ktls_send ? ssl_drain : socket_drain, t, false);
    return rc == 0 ? channel_flush(t->inner) : rc; /* then what a cipher under TLS holds */
}

static void tls_destroy(struct channel *ch)
{
    struct tls_channel *t = from(ch);
    SSL_free(t->ssl);
    BIO_free(t->window_bio); /* NULL once SSL took it */
    send_window_free(&t->win);
    channel_destroy(t->inner);
    free(t);
}

static const struct channel_ops tls_ops = {
    .name = "tls",
    .read = tls_read,
    .writev = tls_writev,
    .sendfile = tls_sendfile,
    .cork = tls_cork,
    .pending = tls_pending,
    .flush = tls_flush,
    .destroy = tls_destroy,
    .memory = channel_tls_memory,
};

struct channel *channel_tls_new(struct channel *inner, SSL *ssl,
                                const struct channel_tls_hooks *hooks)
{
    struct tls_channel *t = calloc(1, sizeof *t);
    if (t)
        t->window_bio = tls_window_bio_new(&t->win);
    if (!t || !t->window_bio || SSL_set_fd(ssl, inner->fd) != 1) {
        if (t)
            BIO_free(t->window_bio);
        free(t);
        return NULL;
    }
    t->base.ops = &tls_ops;
    t->base.fd = inner->fd;
    t->inner = inner;
    t->ssl = ssl;
    if (hooks)
        t->hooks = *hooks;
    send_window_init(&t->win, CHANNEL_TLS_WINDOW, 4096, false);
    return &t->base;
}

bool channel_tls_ktls_send(const struct channel *ch)
{
    return ((const struct tls_channel *)ch)->ktls_send;
}

const char *channel_tls_describe(const struct channel *ch, char *buf, size_t len)
{
    const struct tls_channel *t = (const struct tls_channel *)ch;
    snprintf(buf, len, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
    return buf;
}

size_t channel_tls_memory(struct channel *ch, bool output)
{
    const struct tls_channel *t = from(ch);
    size_t below = channel_memory(t->inner, output); /* a cipher under TLS */
    if (output)
        return t->win.cap + below;
    bool busy = !t->handshake_done || send_window_held(&t->win) || SSL_pending(t->ssl) > 0;
    return (busy ? CHANNEL_TLS_RECORD_BUFFERS : 0) + below;
}

/* ---- a cipher stream under TLS (Spark's AES outside its SslHandler) ---- */

static ssize_t transport_read(void *arg, void *buf, size_t len)
{
    return channel_read(arg, buf, len);
}

static ssize_t transport_write(void *arg, const void *buf, size_t len)
{
    struct iovec v = {(void *)buf, len};
    /* more: records coalesce in the cipher's window; tls_flush sends what it holds */
    return channel_writev(arg, &v, 1, true);
}

static const struct callback_bio_ops transport_ops = {transport_read, transport_write};

bool channel_is_tls(const struct channel *ch)
{
    return ch->ops == &tls_ops;
}

struct channel *channel_tls_transport(const struct channel *ch)
{
    return ((const struct tls_channel *)ch)->inner;
}

int channel_tls_set_transport(struct channel *ch, struct channel *transport, const char **why)
{
    struct tls_channel *t = from(ch);
    *why = NULL;
    if (!t->handshake_done)
        *why = "the TLS handshake is not done";
    else if (t->ktls_send || BIO_get_ktls_recv(SSL_get_rbio(t->ssl)) == 1)
        *why = "the session is in kernel TLS, which writes its records to the socket itself";
    else if (SSL_has_pending(t->ssl) || send_window_held(&t->win))
        *why = "TLS bytes after the authentication message, before the cipher was on";
    if (*why) {
        errno = EPROTO;
        return -1;
    }
    BIO *bio = callback_bio_new(&transport_ops, transport);
    if (!bio) {
        *why = "out of memory";
        errno = ENOMEM;
        return -1;
    }
    /* reads: through the cipher (frees the socket BIO, which leaves the fd open); records
     * written already go to the window, drained into t->inner: from now on the cipher */
    SSL_set0_rbio(t->ssl, bio);
    t->inner = transport;
    return 0;
}
