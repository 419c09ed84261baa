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

/* ---- writing ----
 *
 * A message covers the bytes a call offers (a writev's, or a frame's header waiting with "more"
 * and the file body after it: one message per frame, as Spark sends them), up to
 * CHANNEL_GCM_MESSAGE_MAX, and leaves segment by segment: the window holds at most two sealed
 * segments (and the header before segment 0), or the plaintext of the current segment while
 * its bytes are still coming. So a megabyte block costs one key derivation, not 16, and the
 * window stays the 64 KiB of CTR's. The bytes of a message the socket did not take yet are
 * offered again by the caller, which is what a byte stream's writer does anyway. */

/* Where the current segment starts in the window: after L and the header while it is the
 * first one (the header leaves with it), else at the start. */
static size_t segment_base(const struct cipher_channel *c)
{
    size_t head = GCM_LENGTH_LEN + gcm_header_len(c->seal_key.key_len);
    return !c->sending_open || c->sending.seg == 0 ? head : 0;
}

/* What a fill places: up to n bytes in the current segment (places[0]) and the next one
 * (places[1]), the latter only if they complete it (a half-filled segment after a sealed one
 * would have to move to the start of the window); *msg_len: the plaintext of the message a
 * fill opens, 0 when the bytes only wait (a frame's header before its body). The window is
 * reserved; the bytes, 0 when out of memory. */
static size_t plan(struct cipher_channel *c, size_t n, bool more, struct iovec places[2],
                   uint64_t *msg_len)
{
    size_t staged = c->win.staged, base = segment_base(c);
    uint64_t left = c->sending.left; /* plaintext of the message not sealed, staged included */
    *msg_len = 0;
    if (!c->sending_open) {
        left = staged + (uint64_t)n;
        if (!more || left > CHANNEL_GCM_STAGE_MAX) {
            left = left < CHANNEL_GCM_MESSAGE_MAX ? left : CHANNEL_GCM_MESSAGE_MAX;
            *msg_len = left;
        }
    }
    size_t len0 = left < GCM_SEGMENT_PLAIN ? (size_t)left : GCM_SEGMENT_PLAIN;
    size_t want0 = len0 - staged, k0 = n < want0 ? n : want0, k1 = 0;
    uint64_t after = left - len0;
    size_t len1 = after < GCM_SEGMENT_PLAIN ? (size_t)after : GCM_SEGMENT_PLAIN;
    if (len1 && n - k0 >= len1)
        k1 = len1;
    size_t need = base + (k1 ? GCM_SEGMENT_LEN + k1 : len0) + CRYPTO_GCM_TAG_LEN;
    if (send_window_reserve(&c->win, need) != 0)
        return 0;
    places[0] = (struct iovec){c->win.buf + base + staged, k0};
    places[1] = (struct iovec){c->win.buf + base + GCM_SEGMENT_LEN, k1};
    return k0 + k1;
}

/* Seals the current segment, at p in the window. 0 or -1. */
static int seal_segment(struct cipher_channel *c, uint8_t *p)
{
    size_t len = gcm_sealing_next_len(&c->sending);
    if (gcm_sealing_next(&c->seal_key, &c->sending, p) != 0) {
        errno = EIO;
        return -1;
    }
    c->gcm_encrypted += len;
    cipher_count(c, 0, len);
    if (!c->sending.left)
        c->sending_open = false;
    return 0;
}

/* n bytes are in the places plan gave: opens the message (msg_len > 0), seals the segments
 * they complete, which the window then holds. The bytes taken, or -1. */
static ssize_t placed(struct cipher_channel *c, size_t n, uint64_t msg_len)
{
    size_t base = segment_base(c), key_len = c->seal_key.key_len;
    if (!c->sending_open && !msg_len) { /* a header waiting for its body */
        c->win.staged += n;
        return (ssize_t)n;
    }
    if (!c->sending_open) {
        if (gcm_sealing_start(&c->seal_key, NULL, &c->sending, c->win.buf, msg_len,
                              gcm_message_len(key_len, msg_len)) != 0) {
            errno = EIO;
            return -1;
        }
        c->sending_open = true;
    }
    size_t len0 = gcm_sealing_next_len(&c->sending);
    size_t in0 = n < len0 - c->win.staged ? n : len0 - c->win.staged;
    c->win.staged += in0;
    if (c->win.staged < len0)
        return (ssize_t)n; /* the segment waits for more bytes */
    c->win.staged = 0;
    if (seal_segment(c, c->win.buf + base) != 0)
        return -1;
    size_t end = base + len0 + CRYPTO_GCM_TAG_LEN;
    if (n > in0) { /* plan placed the next segment only whole */
        if (seal_segment(c, c->win.buf + base + GCM_SEGMENT_LEN) != 0)
            return -1;
        end = base + GCM_SEGMENT_LEN + (n - in0) + CRYPTO_GCM_TAG_LEN;
    }
    c->win.off = 0; /* from the header on when this was segment 0 */
    c->win.end = end;
    return (ssize_t)n;
}

static ssize_t gcm_fill_iov(void *src, struct send_window *w, size_t done, size_t n)
{
    (void)w; /* the channel's */
    const struct cipher_iov_src *s = src;
    struct cipher_channel *c = s->c;
    struct iovec places[2];
    uint64_t msg_len;
    if (!(n = plan(c, n, s->more, places, &msg_len)))
        return -1;
    send_window_gather(places[0].iov_base, s->iov, s->iovcnt, done, places[0].iov_len);
    send_window_gather(places[1].iov_base, s->iov, s->iovcnt, done + places[0].iov_len,
                       places[1].iov_len);
    return placed(c, n, msg_len);
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
    struct iovec places[2];
    uint64_t msg_len;
    if (!(n = plan(c, n, false, places, &msg_len)))
        return -1;
    ssize_t r;
    do /* straight into the segments' places: no copy */
        r = preadv(f->fd, places, places[1].iov_len ? 2 : 1, (off_t)(f->offset + done));
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r;      /* 0: the file is shorter than the caller thought */
    if ((size_t)r < n) /* short: a part of the next segment is read again next time */
        n = (size_t)r < places[0].iov_len ? (size_t)r : places[0].iov_len;
    return placed(c, n, msg_len);
}

static ssize_t gcm_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    struct cipher_file_src f = {cipher_of(ch), fd, offset};
    return cipher_write(cipher_of(ch), len, false, gcm_fill_file, &f);
}

/* What is held back leaves: a header that waited for a body is sealed as a message of its
 * own first. (A message opened over bytes the caller has not all given yet cannot leave
 * whole; the caller gives them before it flushes.) */
static int gcm_flush(struct channel *ch)
{
    struct cipher_channel *c = cipher_of(ch);
    if (!c->sending_open && c->win.staged && send_window_held(&c->win) == 0) {
        size_t n = c->win.staged;
        c->win.staged = 0;
        if (placed(c, n, n) < 0)
            return -1;
    }
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
    /* the header and two segments */
    c->win.max = GCM_LENGTH_LEN + gcm_header_len(s->key_len) + 2 * GCM_SEGMENT_LEN;
    c->win.append = false;
    c->base.ops = &gcm_ops;
    return 0;
}
