/* SPDX-License-Identifier: Apache-2.0 */
/* The AES-CTR channel; see channel_aes.h. */
#include <config.h>

#include "server/net/channel_aes.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/ctr_stream.h"
#include "server/net/send_window.h"

struct aes_channel {
    struct channel base;
    struct channel *inner;
    struct ctr_stream rd, wr;
    int protocol; /* enum aes_protocol, -1 while undecided */
    /* undecided (3.2+ server): the candidates and the client's first bytes */
    struct aes_session cand[2];
    int ncand;
    uint8_t hold[AES_PICK_BYTES];
    size_t held, hold_out; /* bytes in hold; of those, handed out as plaintext */
    /* ciphertext the socket has not taken yet (send_window.h) */
    struct send_window win;
};

static struct aes_channel *from(struct channel *ch)
{
    return (struct aes_channel *)ch;
}

static int decide(struct aes_channel *a)
{
    int i = aes_session_pick(a->cand, a->ncand, a->hold);
    if (i < 0 || aes_session_streams(&a->cand[i], &a->rd, &a->wr) != 0) {
        errno = i < 0 ? EBADMSG : ENOMEM;
        return -1;
    }
    a->protocol = (int)a->cand[i].protocol;
    OPENSSL_cleanse(a->cand, sizeof a->cand);
    a->ncand = 0;
    return ctr_stream_apply(&a->rd, a->hold, a->hold, a->held);
}

static ssize_t decrypt_read(struct aes_channel *a, uint8_t *buf, size_t len)
{
    ssize_t n = channel_read(a->inner, buf, len);
    if (n > 0 && ctr_stream_apply(&a->rd, buf, buf, (size_t)n) != 0) {
        errno = EIO;
        return -1;
    }
    return n;
}

static ssize_t aes_read(struct channel *ch, void *buf, size_t len)
{
    struct aes_channel *a = from(ch);
    if (a->protocol < 0) {
        ssize_t n = channel_read(a->inner, a->hold + a->held, AES_PICK_BYTES - a->held);
        if (n <= 0)
            return n;
        a->held += (size_t)n;
        if (a->held < AES_PICK_BYTES) {
            errno = EAGAIN; /* all the socket had went into hold */
            return -1;
        }
        if (decide(a) != 0)
            return -1;
    }
    if (a->hold_out < a->held) {
        size_t n = a->held - a->hold_out < len ? a->held - a->hold_out : len;
        memcpy(buf, a->hold + a->hold_out, n);
        a->hold_out += n;
        if (n < len) { /* whatever else the socket has; EAGAIN or an error shows next time */
            ssize_t more = decrypt_read(a, (uint8_t *)buf + n, len - n);
            if (more > 0)
                n += (size_t)more;
        }
        return (ssize_t)n;
    }
    return decrypt_read(a, buf, len);
}

static ssize_t socket_drain(void *sink, const uint8_t *p, size_t n, bool more)
{
    struct iovec v = {(void *)p, n};
    return channel_writev(((struct aes_channel *)sink)->inner, &v, 1, more);
}

/* The common part of writev and sendfile: encrypted window by window (send_window_pump). */
static ssize_t write_stream(struct aes_channel *a, size_t total, bool more,
                            send_window_fill_fn fill, void *src)
{
    if (a->protocol < 0) {
        errno = EPROTO;
        return -1;
    }
    return send_window_pump(&a->win, total, more, fill, src, socket_drain, a);
}

struct iov_src {
    struct aes_channel *a;
    const struct iovec *iov;
    int iovcnt;
};

static ssize_t fill_from_iov(void *src, uint8_t *win, size_t done, size_t n)
{
    const struct iov_src *s = src;
    size_t got = send_window_gather(win, s->iov, s->iovcnt, done, n);
    if (ctr_stream_apply(&s->a->wr, win, win, got) != 0) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)got;
}

static ssize_t aes_writev(struct channel *ch, const struct iovec *iov, int iovcnt, bool more)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    struct iov_src s = {from(ch), iov, iovcnt};
    return write_stream(from(ch), total, more, fill_from_iov, &s);
}

struct file_src {
    struct aes_channel *a;
    int fd;
    uint64_t offset;
};

static ssize_t fill_from_file(void *src, uint8_t *win, size_t done, size_t n)
{
    const struct file_src *f = src;
    ssize_t r = send_window_pread(f->fd, f->offset + done, win, n);
    if (r <= 0)
        return r; /* 0: the file is shorter than the caller thought */
    if (ctr_stream_apply(&f->a->wr, win, win, (size_t)r) != 0) {
        errno = EIO;
        return -1;
    }
    return r;
}

static ssize_t aes_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    struct file_src f = {from(ch), fd, offset};
    return write_stream(from(ch), len, false, fill_from_file, &f);
}

static size_t aes_pending(struct channel *ch)
{
    struct aes_channel *a = from(ch);
    return a->held - a->hold_out;
}

static int aes_flush(struct channel *ch)
{
    struct aes_channel *a = from(ch);
    return send_window_flush(&a->win, socket_drain, a, false);
}

static void aes_cork(struct channel *ch, bool on)
{
    channel_cork(from(ch)->inner, on);
}

static void aes_destroy(struct channel *ch)
{
    struct aes_channel *a = from(ch);
    channel_destroy(a->inner);
    ctr_stream_free(&a->rd);
    ctr_stream_free(&a->wr);
    send_window_free(&a->win);
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
}

static const struct channel_ops aes_ops = {
    .name = "aes-ctr",
    .read = aes_read,
    .writev = aes_writev,
    .sendfile = aes_sendfile,
    .cork = aes_cork,
    .pending = aes_pending,
    .flush = aes_flush,
    .destroy = aes_destroy,
};

static struct aes_channel *alloc_channel(struct channel *inner)
{
    struct aes_channel *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->base.ops = &aes_ops;
    a->base.fd = inner->fd;
    a->inner = inner;
    a->protocol = -1;
    send_window_init(&a->win, CHANNEL_AES_WINDOW, CHANNEL_AES_KEEP);
    return a;
}

struct channel *channel_aes_new(struct channel *inner, const struct aes_session *s)
{
    struct aes_channel *a = alloc_channel(inner);
    if (!a)
        return NULL;
    if (aes_session_streams(s, &a->rd, &a->wr) != 0) {
        free(a);
        return NULL;
    }
    a->protocol = (int)s->protocol;
    return &a->base;
}

struct channel *channel_aes_new_undecided(struct channel *inner, const struct aes_session *cand,
                                          int n)
{
    if (n < 1 || n > 2)
        return NULL;
    struct aes_channel *a = alloc_channel(inner);
    if (!a)
        return NULL;
    memcpy(a->cand, cand, (size_t)n * sizeof *cand);
    a->ncand = n;
    return &a->base;
}

int channel_aes_protocol(const struct channel *ch)
{
    return ((const struct aes_channel *)ch)->protocol;
}

size_t channel_aes_window_bytes(const struct channel *ch)
{
    return ((const struct aes_channel *)ch)->win.cap;
}

void channel_aes_counts(const struct channel *ch, uint64_t *decrypted, uint64_t *encrypted)
{
    const struct aes_channel *a = (const struct aes_channel *)ch;
    *decrypted = a->rd.bytes;
    *encrypted = a->wr.bytes;
}
