/* SPDX-License-Identifier: Apache-2.0 */
/* The AES-GCM cipher of the AES channel; see channel_gcm.h. */
#include <config.h>

#include "server/net/channel_gcm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "server/net/channel_cipher.h"

/* ---- reading ---- */

/* Input memory goes back once no message is half read and nothing is left to hand out. */
static void release_input_if_idle(struct cipher_channel *c)
{
    if (c->raw_off == c->raw_len && c->plain_off == c->plain_len && gcm_reader_idle(&c->reader)) {
        free(c->raw);
        c->raw = NULL;
        c->raw_off = c->raw_len = 0;
        free(c->reader.buf);
        c->reader.buf = NULL;
    }
}

/* Feeds buffered ciphertext to the reader until a segment's plaintext is out or none is left. */
static int feed(struct cipher_channel *c)
{
    while (c->raw_off < c->raw_len && c->plain_off == c->plain_len) {
        size_t plain_len = 0;
        ssize_t took = gcm_reader_feed(&c->reader, c->raw + c->raw_off, c->raw_len - c->raw_off,
                                       &c->plain, &plain_len);
        if (took < 0) {
            c->read_error = errno;
            return -1;
        }
        c->raw_off += (size_t)took;
        c->plain_off = 0;
        c->plain_len = plain_len;
        c->gcm_decrypted += plain_len;
        cipher_count(c, plain_len, 0);
    }
    return 0;
}

static ssize_t gcm_read(struct channel *ch, void *buf, size_t len)
{
    struct cipher_channel *c = cipher_of(ch);
    size_t out = 0;
    for (;;) {
        if (c->plain_off < c->plain_len) {
            size_t n =
                c->plain_len - c->plain_off < len - out ? c->plain_len - c->plain_off : len - out;
            memcpy((uint8_t *)buf + out, c->plain + c->plain_off, n);
            c->plain_off += n;
            out += n;
            if (out == len)
                break;
            continue;
        }
        if (c->read_error || feed(c) != 0) {
            if (out)
                break; /* the error shows on the next call */
            errno = c->read_error;
            return -1;
        }
        if (c->plain_off < c->plain_len)
            continue;
        if (out)
            break;
        if (!c->raw && !(c->raw = malloc(CHANNEL_GCM_RAW))) {
            errno = ENOMEM;
            return -1;
        }
        ssize_t n = channel_read(c->inner, c->raw, CHANNEL_GCM_RAW);
        if (n <= 0) {
            int saved = errno;
            release_input_if_idle(c);
            errno = saved;
            return n;
        }
        c->raw_off = 0;
        c->raw_len = (size_t)n;
    }
    release_input_if_idle(c);
    return (ssize_t)out;
}

static size_t gcm_pending(struct channel *ch)
{
    struct cipher_channel *c = cipher_of(ch);
    return (c->plain_len - c->plain_off) + (c->raw_len - c->raw_off);
}

/* ---- writing ---- */

/* Makes room for a message of up to n plaintext bytes; the plaintext to take. */
static size_t reserve_message(struct cipher_channel *c, size_t n)
{
    if (n > CHANNEL_GCM_MESSAGE_PLAIN)
        n = CHANNEL_GCM_MESSAGE_PLAIN;
    size_t want = (size_t)gcm_message_len(c->seal_key.key_len, n);
    return cipher_window_reserve(c, want, want) == 0 ? n : 0;
}

/* The message of n plaintext bytes now in their places in the window: seal it. */
static ssize_t seal(struct cipher_channel *c, size_t n)
{
    if (gcm_message_seal(&c->seal_key, NULL, c->win, n) != 0) {
        errno = EIO;
        return -1;
    }
    c->pend_off = 0;
    c->pend_end = (size_t)gcm_message_len(c->seal_key.key_len, n);
    c->gcm_encrypted += n;
    cipher_count(c, 0, n);
    return (ssize_t)n;
}

/* The places of a message's first n plaintext bytes in the window, as iovecs (at most 2). */
static int segment_places(struct cipher_channel *c, size_t n, struct iovec *v)
{
    int k = 0;
    for (size_t at = 0; at < n; at += GCM_SEGMENT_PLAIN, k++) {
        v[k].iov_base = c->win + gcm_segment_offset(c->seal_key.key_len, (size_t)k);
        v[k].iov_len = n - at < GCM_SEGMENT_PLAIN ? n - at : GCM_SEGMENT_PLAIN;
    }
    return k;
}

static ssize_t gcm_fill_iov(struct cipher_channel *c, const void *src, size_t done, size_t n)
{
    const struct cipher_iov_src *s = src;
    if (!(n = reserve_message(c, n))) {
        errno = ENOMEM;
        return -1;
    }
    struct iovec places[CHANNEL_GCM_MESSAGE_PLAIN / GCM_SEGMENT_PLAIN];
    int nplaces = segment_places(c, n, places), p = 0;
    size_t place_at = 0, skip = done, left = n;
    for (int i = 0; i < s->iovcnt && left; i++) {
        size_t l = s->iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        const uint8_t *from = (const uint8_t *)s->iov[i].iov_base + skip;
        l -= skip;
        skip = 0;
        while (l && left && p < nplaces) {
            size_t take = places[p].iov_len - place_at;
            take = take < l ? take : l;
            memcpy((uint8_t *)places[p].iov_base + place_at, from, take);
            from += take;
            l -= take;
            left -= take;
            if ((place_at += take) == places[p].iov_len) {
                p++;
                place_at = 0;
            }
        }
    }
    return seal(c, n);
}

static ssize_t gcm_writev(struct channel *ch, const struct iovec *iov, int iovcnt, bool more)
{
    struct cipher_iov_src s = {iov, iovcnt};
    return cipher_write(cipher_of(ch), cipher_iov_total(iov, iovcnt), more, gcm_fill_iov, &s);
}

static ssize_t gcm_fill_file(struct cipher_channel *c, const void *src, size_t done, size_t n)
{
    const struct cipher_file_src *f = src;
    if (!(n = reserve_message(c, n))) {
        errno = ENOMEM;
        return -1;
    }
    struct iovec places[CHANNEL_GCM_MESSAGE_PLAIN / GCM_SEGMENT_PLAIN];
    int nplaces = segment_places(c, n, places);
    ssize_t r;
    do /* straight into the segments' places: no copy */
        r = preadv(f->fd, places, nplaces, (off_t)(f->offset + done));
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r; /* 0: the file is shorter than the caller thought */
    return seal(c, (size_t)r);
}

static ssize_t gcm_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    struct cipher_file_src f = {fd, offset};
    return cipher_write(cipher_of(ch), len, false, gcm_fill_file, &f);
}

static const struct channel_ops gcm_ops = {
    .name = "aes-gcm",
    .read = gcm_read,
    .writev = gcm_writev,
    .sendfile = gcm_sendfile,
    .cork = cipher_cork,
    .pending = gcm_pending,
    .flush = cipher_flush,
    .destroy = cipher_destroy,
    .memory = cipher_memory,
};

int channel_gcm_start(struct cipher_channel *c, const struct aes_session *s)
{
    if (gcm_key_init(&c->seal_key, s->key, s->key_len) != 0 ||
        gcm_reader_init(&c->reader, s->key, s->key_len) != 0 || !(c->raw = malloc(CHANNEL_GCM_RAW)))
        return -1;
    c->gcm = true;
    c->base.ops = &gcm_ops;
    return 0;
}
