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
    /* ciphertext whose plaintext the caller has not been told is written: win[pend_off..pend_end)
     */
    uint8_t *win;
    size_t win_cap, pend_off, pend_end;
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

static int ensure_window(struct aes_channel *a, size_t want)
{
    if (want > CHANNEL_AES_WINDOW)
        want = CHANNEL_AES_WINDOW;
    if (a->win_cap >= want)
        return 0;
    uint8_t *w = realloc(a->win, want);
    if (!w)
        return -1;
    a->win = w;
    a->win_cap = want;
    return 0;
}

/* An idle connection holds no large window: once everything encrypted has left, a window
 * beyond CHANNEL_AES_KEEP goes back (10,000 idle connections must stay cheap). */
static void release_if_idle(struct aes_channel *a)
{
    if (a->pend_end == a->pend_off && a->win_cap > CHANNEL_AES_KEEP) {
        free(a->win);
        a->win = NULL;
        a->win_cap = 0;
    }
}

/* Writes the held ciphertext. 0 when none is left, -1 (errno from the socket) otherwise. */
static int flush_held(struct aes_channel *a, bool more)
{
    while (a->pend_off < a->pend_end) {
        struct iovec v = {a->win + a->pend_off, a->pend_end - a->pend_off};
        ssize_t w = channel_writev(a->inner, &v, 1, more);
        if (w < 0)
            return -1;
        a->pend_off += (size_t)w;
    }
    a->pend_off = a->pend_end = 0;
    return 0;
}

/* Encrypts n bytes of iov, starting skip bytes in, into the window after what it holds. */
static int encrypt_iov(struct aes_channel *a, const struct iovec *iov, int iovcnt, size_t skip,
                       size_t n)
{
    size_t at = a->pend_end;
    for (int i = 0; i < iovcnt && at < n; i++) {
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        size_t take = l - skip < n - at ? l - skip : n - at;
        if (ctr_stream_apply(&a->wr, (const uint8_t *)iov[i].iov_base + skip, a->win + at, take) !=
            0)
            return -1;
        at += take;
        skip = 0;
    }
    a->pend_end = at;
    return 0;
}

/* The common part of writev and sendfile: fill(window) appends ciphertext after what the
 * window holds, and a full window is written, until all total bytes are taken or the socket is
 * full. Bytes count as taken once encrypted: what the socket did not take stays held, for the
 * next call or channel_flush. With more (MSG_MORE: the caller's next bytes follow at once, as a
 * chunk's body follows its header) the last window is held for them, so header and body leave
 * in one write; the caller flushes when it has nothing more. */
typedef ssize_t (*fill_fn)(struct aes_channel *a, const void *src, size_t done, size_t n);

static ssize_t write_stream(struct aes_channel *a, size_t total, bool more, fill_fn fill,
                            const void *src)
{
    if (a->protocol < 0) {
        errno = EPROTO;
        return -1;
    }
    size_t taken = 0;
    for (;;) {
        bool held = a->pend_off < a->pend_end, full = a->pend_end == CHANNEL_AES_WINDOW;
        if (held && (full || (taken == total && !more))) {
            if (flush_held(a, more || taken < total) < 0)
                break; /* EAGAIN: the socket is full; the window keeps the rest */
            continue;
        }
        if (taken == total)
            break;
        size_t n = total - taken, room = CHANNEL_AES_WINDOW - a->pend_end;
        n = n < room ? n : room;
        if (ensure_window(a, a->pend_end + n) != 0) {
            errno = ENOMEM;
            break;
        }
        ssize_t got = fill(a, src, taken, n);
        if (got <= 0) {
            if (got == 0 && taken == 0)
                return 0; /* the file is shorter than the caller thought */
            break;
        }
        taken += (size_t)got;
    }
    int saved = errno;
    release_if_idle(a);
    errno = saved;
    return taken ? (ssize_t)taken : -1;
}

struct iov_src {
    const struct iovec *iov;
    int iovcnt;
};

static ssize_t fill_from_iov(struct aes_channel *a, const void *src, size_t done, size_t n)
{
    const struct iov_src *s = src;
    if (encrypt_iov(a, s->iov, s->iovcnt, done, n) != 0) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)n;
}

static ssize_t aes_writev(struct channel *ch, const struct iovec *iov, int iovcnt, bool more)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    struct iov_src s = {iov, iovcnt};
    return write_stream(from(ch), total, more, fill_from_iov, &s);
}

struct file_src {
    int fd;
    uint64_t offset;
};

static ssize_t fill_from_file(struct aes_channel *a, const void *src, size_t done, size_t n)
{
    const struct file_src *f = src;
    ssize_t r;
    uint8_t *at = a->win + a->pend_end;
    do
        r = pread(f->fd, at, n, (off_t)(f->offset + done));
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r; /* 0: the file is shorter than the caller thought */
    if (ctr_stream_apply(&a->wr, at, at, (size_t)r) != 0) {
        errno = EIO;
        return -1;
    }
    a->pend_end += (size_t)r;
    return r;
}

static ssize_t aes_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    struct file_src f = {fd, offset};
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
    int rc = flush_held(a, false), saved = errno;
    release_if_idle(a);
    errno = saved;
    return rc;
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
    free(a->win);
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
    return ((const struct aes_channel *)ch)->win_cap;
}

void channel_aes_counts(const struct channel *ch, uint64_t *decrypted, uint64_t *encrypted)
{
    const struct aes_channel *a = (const struct aes_channel *)ch;
    *decrypted = a->rd.bytes;
    *encrypted = a->wr.bytes;
}
