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

static ssize_t gcm_read(struct channel *ch, void *buf, size_t len)
{
    struct cipher_channel *c = cipher_of(ch);
    ssize_t n;
    while ((n = gcm_inbox_take(&c->inbox, buf, len)) == 0) {
        size_t room = 0;
        uint8_t *at = gcm_inbox_space(&c->inbox, &room);
        if (!at)
            return -1;
        ssize_t got = channel_read(c->inner, at, room);
        if (got <= 0) {
            int saved = errno;
            gcm_inbox_trim(&c->inbox); /* idle connections hold no input buffers */
            errno = saved;
            return got;
        }
        gcm_inbox_filled(&c->inbox, (size_t)got);
    }
    if (n > 0) {
        cipher_count(c, (uint64_t)n, 0);
        gcm_inbox_trim(&c->inbox);
    }
    return n;
}

static size_t gcm_pending(struct channel *ch)
{
    return gcm_inbox_pending(&cipher_of(ch)->inbox);
}

/* ---- writing ---- */

/* Room in the window for up to n more plaintext bytes of the message being built (it holds
 * c->win.staged already), and their places in its segments (at most CHANNEL_GCM_SEGMENTS
 * + 1): the plaintext bytes it takes, 0 when out of memory. */
#define CHANNEL_GCM_SEGMENTS (CHANNEL_GCM_MESSAGE_PLAIN / GCM_SEGMENT_PLAIN)
static size_t begin_message(struct cipher_channel *c, size_t n, struct iovec *places, int *count)
{
    size_t start = c->win.staged, key_len = c->seal_key.key_len;
    n = n < CHANNEL_GCM_MESSAGE_PLAIN - start ? n : CHANNEL_GCM_MESSAGE_PLAIN - start;
    size_t want = (size_t)gcm_message_len(key_len, start + n);
    if (send_window_reserve(&c->win, want) != 0)
        return 0;
    int k = 0;
    for (size_t at = start; at < start + n; k++) {
        size_t seg = at / GCM_SEGMENT_PLAIN, in_seg = at % GCM_SEGMENT_PLAIN;
        size_t len = GCM_SEGMENT_PLAIN - in_seg < start + n - at ? GCM_SEGMENT_PLAIN - in_seg
                                                                 : start + n - at;
        places[k].iov_base = c->win.buf + gcm_segment_offset(key_len, seg) + in_seg;
        places[k].iov_len = len;
        at += len;
    }
    *count = k;
    return n;
}

/* Seals the message being built; its ciphertext is then held until written. 0 or -1. */
static int seal_building(struct cipher_channel *c)
{
    size_t n = c->win.staged;
    if (gcm_message_seal(&c->seal_key, NULL, c->win.buf, n) != 0) {
        errno = EIO;
        return -1;
    }
    c->win.staged = 0;
    c->win.off = 0;
    c->win.end = (size_t)gcm_message_len(c->seal_key.key_len, n);
    c->gcm_encrypted += n;
    cipher_count(c, 0, n);
    return 0;
}

/* n more bytes are in place: seal unless the caller said more follows at once (a frame's
 * header before its file body: one message for both, as Spark sends a frame) and there is
 * room. The bytes taken, or -1. */
static ssize_t placed(struct cipher_channel *c, size_t n, bool more)
{
    c->win.staged += n;
    if (more && c->win.staged < CHANNEL_GCM_MESSAGE_PLAIN)
        return (ssize_t)n;
    return seal_building(c) == 0 ? (ssize_t)n : -1;
}

static ssize_t gcm_fill_iov(void *src, struct send_window *w, size_t done, size_t n)
{
    (void)w; /* the channel's */
    const struct cipher_iov_src *s = src;
    struct cipher_channel *c = s->c;
    struct iovec places[CHANNEL_GCM_SEGMENTS + 1];
    int count = 0;
    if (!(n = begin_message(c, n, places, &count)))
        return -1;
    for (int p = 0, at = 0; p < count; at += (int)places[p].iov_len, p++)
        send_window_gather(places[p].iov_base, s->iov, s->iovcnt, done + (size_t)at,
                           places[p].iov_len);
    return placed(c, n, s->more);
}

static ssize_t gcm_writev(struct channel *ch, const struct iovec *iov, int iovcnt, bool more)
{
    struct cipher_iov_src s = {cipher_of(ch), iov, iovcnt, more};
    return cipher_write(cipher_of(ch), cipher_iov_total(iov, iovcnt), more, gcm_fill_iov, &s);
}

static ssize_t gcm_fill_file(void *src, struct send_window *w, size_t done, size_t n)
{
    (void)w; /* the channel's */
    const struct cipher_file_src *f = src;
    struct cipher_channel *c = f->c;
    struct iovec places[CHANNEL_GCM_SEGMENTS + 1];
    int count = 0;
    if (!(n = begin_message(c, n, places, &count)))
        return -1;
    ssize_t r;
    do /* straight into the segments' places: no copy */
        r = preadv(f->fd, places, count, (off_t)(f->offset + done));
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r; /* 0: the file is shorter than the caller thought */
    return placed(c, (size_t)r, false);
}

static ssize_t gcm_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    struct cipher_file_src f = {cipher_of(ch), fd, offset};
    return cipher_write(cipher_of(ch), len, false, gcm_fill_file, &f);
}

/* What is held back leaves: the message being built is sealed first. */
static int gcm_flush(struct channel *ch)
{
    struct cipher_channel *c = cipher_of(ch);
    if (c->win.staged && seal_building(c) != 0)
        return -1;
    return cipher_flush(ch);
}

static const struct channel_ops gcm_ops = {
    .name = "aes-gcm",
    .read = gcm_read,
    .writev = gcm_writev,
    .sendfile = gcm_sendfile,
    .cork = cipher_cork,
    .pending = gcm_pending,
    .flush = gcm_flush,
    .destroy = cipher_destroy,
    .memory = cipher_memory,
};

int channel_gcm_start(struct cipher_channel *c, const struct aes_session *s)
{
    if (gcm_key_init(&c->seal_key, s->key, s->key_len) != 0 ||
        gcm_inbox_init(&c->inbox, s->key, s->key_len, CHANNEL_GCM_RAW) != 0)
        return -1;
    c->gcm = true;
    /* one sealed message at a time, the largest one this key makes */
    c->win.max = (size_t)gcm_message_len(s->key_len, CHANNEL_GCM_MESSAGE_PLAIN);
    c->win.append = false;
    c->base.ops = &gcm_ops;
    return 0;
}
