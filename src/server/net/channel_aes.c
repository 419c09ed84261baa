/* SPDX-License-Identifier: Apache-2.0 */
/* The AES channels' constructors, the pick of session and cipher by the client's first bytes,
 * and the AES-CTR cipher; see channel_aes.h. GCM is channel_gcm.c, what both share
 * channel_cipher.c (the window: send_window.c). */
#include <config.h>

#include "server/net/channel_aes.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/net/channel_cipher.h"
#include "server/net/channel_gcm.h"

static const struct channel_ops ctr_ops;

/* ---- the pick ---- */

/* The GCM candidate for a message whose header names key_len: the 3.2+ session of that key
 * size (v1's 32-byte shared secret, v2's 16-byte derived key); -1 if none. */
static int gcm_candidate(const struct cipher_channel *c, size_t key_len)
{
    for (int i = 0; i < c->ncand; i++)
        if (c->cand[i].protocol != AES_PROTO_PBKDF2 && c->cand[i].key_len == key_len)
            return i;
    return -1;
}

static int decide(struct cipher_channel *c)
{
    size_t key_len = 0;
    int i = -1;
    if (c->allow != CHANNEL_AES_CTR && gcm_message_start_plausible(c->hold, &key_len))
        i = gcm_candidate(c, key_len);
    if (i >= 0) {
        if (channel_gcm_start(c, &c->cand[i]) != 0) {
            errno = ENOMEM;
            return -1;
        }
        if (gcm_inbox_push(&c->inbox, c->hold, c->held) != 0) { /* read again, as GCM */
            errno = ENOMEM;
            return -1;
        }
        c->hold_out = c->held;
    } else {
        if (c->allow != CHANNEL_AES_GCM)
            i = aes_session_pick_with(c->cand, c->ncand, c->hold,
                                      c->tls_records ? aes_tls_record_header_sane
                                                     : aes_frame_header_sane);
        if (i < 0 || aes_session_streams(&c->cand[i], &c->rd, &c->wr) != 0) {
            errno = i < 0 ? EBADMSG : ENOMEM;
            return -1;
        }
        if (ctr_stream_apply(&c->rd, c->hold, c->hold, c->held) != 0) {
            errno = EIO;
            return -1;
        }
    }
    c->protocol = (int)c->cand[i].protocol;
    OPENSSL_cleanse(c->cand, sizeof c->cand);
    c->ncand = 0;
    if (c->hooks && c->hooks->decided)
        c->hooks->decided(c->hooks_arg, c->protocol, c->gcm);
    return 0;
}

/* Collects the client's first bytes and picks; 0 once decided, -1 (EAGAIN until enough bytes,
 * or the error) otherwise. */
static int pick(struct cipher_channel *c)
{
    ssize_t n = channel_read(c->inner, c->hold + c->held, AES_PICK_BYTES - c->held);
    if (n <= 0)
        return n == 0 ? 1 : -1;
    c->held += (size_t)n;
    if (c->held < AES_PICK_BYTES) {
        errno = EAGAIN; /* all the socket had went into hold */
        return -1;
    }
    return decide(c);
}

/* ---- CTR ---- */

static ssize_t decrypt_read(struct cipher_channel *c, uint8_t *buf, size_t len)
{
    ssize_t n = channel_read(c->inner, buf, len);
    if (n > 0 && ctr_stream_apply(&c->rd, buf, buf, (size_t)n) != 0) {
        errno = EIO;
        return -1;
    }
    if (n > 0)
        cipher_count(c, (uint64_t)n, 0);
    return n;
}

static ssize_t ctr_read(struct channel *ch, void *buf, size_t len)
{
    struct cipher_channel *c = cipher_of(ch);
    if (c->protocol < 0) {
        int rc = pick(c);
        if (rc != 0)
            return rc > 0 ? 0 : -1;
        if (c->gcm)
            return c->base.ops->read(ch, buf, len);
        cipher_count(c, c->held, 0);
    }
    if (c->hold_out < c->held) {
        size_t n = c->held - c->hold_out < len ? c->held - c->hold_out : len;
        memcpy(buf, c->hold + c->hold_out, n);
        c->hold_out += n;
        if (n < len) { /* whatever else the socket has; EAGAIN or an error shows next time */
            ssize_t more = decrypt_read(c, (uint8_t *)buf + n, len - n);
            if (more > 0)
                n += (size_t)more;
        }
        return (ssize_t)n;
    }
    return decrypt_read(c, buf, len);
}

/* Encrypts the last n bytes the window took (put_iov, put_file: n > 0), counting them. n, 0 or
 * -1 (errno: EIO when encryption failed). */
static ssize_t ctr_encrypt_last(struct cipher_channel *c, ssize_t n)
{
    if (n <= 0)
        return n; /* 0: the file is shorter than the caller thought */
    uint8_t *at = c->win.buf + c->win.end - (size_t)n;
    if (ctr_stream_apply(&c->wr, at, at, (size_t)n) != 0) {
        c->win.end -= (size_t)n; /* plaintext never leaves */
        errno = EIO;
        return -1;
    }
    cipher_count(c, 0, (uint64_t)n);
    return n;
}

static ssize_t ctr_fill_iov(void *src, struct send_window *w, size_t done, size_t n)
{
    const struct cipher_iov_src *s = src;
    return ctr_encrypt_last(s->c, send_window_put_iov(w, s->iov, s->iovcnt, done, n));
}

static ssize_t ctr_writev(struct channel *ch, const struct iovec *iov, int iovcnt, bool more)
{
    struct cipher_iov_src s = {cipher_of(ch), iov, iovcnt, more};
    return cipher_write(cipher_of(ch), cipher_iov_total(iov, iovcnt), more, ctr_fill_iov, &s);
}

static ssize_t ctr_fill_file(void *src, struct send_window *w, size_t done, size_t n)
{
    const struct cipher_file_src *f = src;
    return ctr_encrypt_last(f->c, send_window_put_file(w, f->fd, f->offset + done, n));
}

static ssize_t ctr_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    struct cipher_file_src f = {cipher_of(ch), fd, offset};
    return cipher_write(cipher_of(ch), len, false, ctr_fill_file, &f);
}

static size_t ctr_pending(struct channel *ch)
{
    struct cipher_channel *c = cipher_of(ch);
    return c->held - c->hold_out;
}

static const struct channel_ops ctr_ops = {
    .name = "aes-ctr",
    .read = ctr_read,
    .writev = ctr_writev,
    .sendfile = ctr_sendfile,
    .cork = cipher_cork,
    .pending = ctr_pending,
    .flush = cipher_flush,
    .destroy = cipher_destroy,
    .memory = cipher_memory,
};

/* ---- constructors and queries ---- */

static struct cipher_channel *alloc_channel(struct channel *inner)
{
    struct cipher_channel *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base.ops = &ctr_ops;
    c->base.fd = inner->fd;
    c->inner = inner;
    c->protocol = -1;
    c->allow = CHANNEL_AES_CTR;
    send_window_init(&c->win, CHANNEL_AES_WINDOW, CHANNEL_AES_KEEP, true);
    return c;
}

struct channel *channel_aes_new(struct channel *inner, const struct aes_session *s)
{
    struct cipher_channel *c = alloc_channel(inner);
    if (!c)
        return NULL;
    if (aes_session_streams(s, &c->rd, &c->wr) != 0) {
        free(c);
        return NULL;
    }
    c->protocol = (int)s->protocol;
    return &c->base;
}

struct channel *channel_aes_new_gcm(struct channel *inner, const struct aes_session *s)
{
    struct cipher_channel *c = alloc_channel(inner);
    if (!c)
        return NULL;
    if (channel_gcm_start(c, s) != 0) {
        c->inner = NULL;
        gcm_key_free(&c->seal_key);
        gcm_inbox_free(&c->inbox);
        free(c);
        return NULL;
    }
    c->protocol = (int)s->protocol;
    return &c->base;
}

struct channel *channel_aes_new_undecided(struct channel *inner, const struct aes_session *cand,
                                          int n)
{
    if (n < 1 || n > 2)
        return NULL;
    struct cipher_channel *c = alloc_channel(inner);
    if (!c)
        return NULL;
    memcpy(c->cand, cand, (size_t)n * sizeof *cand);
    c->ncand = n;
    return &c->base;
}

void channel_aes_allow(struct channel *ch, enum channel_aes_cipher allow)
{
    cipher_of(ch)->allow = (int)allow;
}

void channel_aes_expect_tls_records(struct channel *ch)
{
    cipher_of(ch)->tls_records = true;
}

void channel_aes_abandon(struct channel *ch)
{
    cipher_of(ch)->inner = NULL;
    cipher_destroy(ch);
}

void channel_aes_set_hooks(struct channel *ch, const struct channel_aes_hooks *hooks, void *arg)
{
    struct cipher_channel *c = cipher_of(ch);
    c->hooks = hooks;
    c->hooks_arg = arg;
}

int channel_aes_protocol(const struct channel *ch)
{
    return ((const struct cipher_channel *)ch)->protocol;
}

bool channel_aes_is_gcm(const struct channel *ch)
{
    return ((const struct cipher_channel *)ch)->gcm;
}

size_t channel_aes_window_bytes(const struct channel *ch)
{
    return ((const struct cipher_channel *)ch)->win.cap;
}

size_t channel_aes_input_bytes(const struct channel *ch)
{
    return cipher_memory((struct channel *)ch, false);
}

void channel_aes_counts(const struct channel *ch, uint64_t *decrypted, uint64_t *encrypted)
{
    const struct cipher_channel *c = (const struct cipher_channel *)ch;
    *decrypted = c->rd.bytes + c->inbox.decrypted;
    *encrypted = c->wr.bytes + c->gcm_encrypted;
}
