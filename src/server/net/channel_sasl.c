/* SPDX-License-Identifier: Apache-2.0 */
/* The SASL security layer (QOP auth-conf) as a channel over the plain one; see channel_sasl.h.
 *
 * On the wire, both ways: `i64 len | wrapped` pieces, len counting its own 8 bytes; wrapped is
 * the mechanism's token without the 4-byte length that Cyrus puts in front of it (Java's
 * SaslServer.wrap returns it bare). Outbound plaintext is cut into pieces that Cyrus wraps in
 * one token each (at most SASL_MAXOUTBUF); inbound pieces are unwrapped in order and their
 * plaintext handed to the frame decoder, whatever frame boundaries they cut. */
#include <config.h>

#include "server/net/channel_sasl.h"

#include <errno.h>
#include <sasl/sasl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/sasl_piece.h"
#include "server/net/channel.h"

struct sasl_channel {
    struct channel base; /* first: the channel the connection holds */
    struct channel *inner;
    sasl_conn_t *sasl;
    void (*release)(void *owner);
    void *owner;
    unsigned plain_max;     /* plaintext per piece, so that one sasl_encode makes one token */
    struct sasl_inbound in; /* the piece being assembled, then its plaintext being returned */
    /* outbound: the encoded piece not yet written */
    uint8_t *out;
    size_t out_off, out_len, out_cap;
    uint8_t *scratch; /* plaintext gathered for one piece (plain_max bytes) */
};

static struct sasl_channel *of(struct channel *ch)
{
    return (struct sasl_channel *)(void *)ch;
}

/* ---- inbound ---- */

static ssize_t sasl_read(struct channel *ch, void *buf, size_t len)
{
    struct sasl_channel *s = of(ch);
    for (;;) {
        ssize_t got = sasl_inbound_take(&s->in, s->sasl, buf, len);
        if (got > 0)
            return got;
        size_t room = 0;
        uint8_t *space = got == 0 ? sasl_inbound_space(&s->in, 0, &room) : NULL; /* the piece */
        if (!space) {
            if (errno == EBADMSG)
                errno = EPROTO; /* not a valid piece */
            return -1;
        }
        ssize_t n = channel_read(s->inner, space, room);
        if (n <= 0)
            return n; /* EAGAIN, EOF or an error: as the socket said */
        s->in.raw_len += (size_t)n;
    }
}

static size_t sasl_pending(struct channel *ch)
{
    return sasl_inbound_pending(&of(ch)->in);
}

/* ---- outbound ---- */

static int sasl_flush(struct channel *ch)
{
    struct sasl_channel *s = of(ch);
    while (s->out_off < s->out_len) {
        struct iovec v = {s->out + s->out_off, s->out_len - s->out_off};
        ssize_t n = channel_writev(s->inner, &v, 1, false);
        if (n < 0)
            return -1;
        s->out_off += (size_t)n;
    }
    s->out_off = s->out_len = 0;
    return 0;
}

/* Wraps plain[0, n) into the outbound buffer as one piece. */
static int wrap_piece(struct sasl_channel *s, const uint8_t *plain, size_t n)
{
    const uint8_t *tok = NULL;
    size_t toklen = 0;
    uint8_t header[SASL_PIECE_HEADER];
    if (sasl_piece_wrap(s->sasl, plain, n, header, &tok, &toklen) != 0)
        return -1;
    size_t piece = SASL_PIECE_HEADER + toklen;
    if (s->out_cap < piece) {
        uint8_t *o = realloc(s->out, piece);
        if (!o) {
            errno = ENOMEM;
            return -1;
        }
        s->out = o;
        s->out_cap = piece;
    }
    memcpy(s->out, header, SASL_PIECE_HEADER);
    memcpy(s->out + SASL_PIECE_HEADER, tok, toklen);
    s->out_off = 0;
    s->out_len = piece;
    return 0;
}

/* Takes up to one piece of plaintext: it is counted as written once wrapped; the wrapped
 * bytes leave now or through sasl_flush. */
static ssize_t take_piece(struct sasl_channel *s, const uint8_t *plain, size_t n)
{
    if (sasl_flush(&s->base) < 0)
        return -1;
    if (wrap_piece(s, plain, n) < 0)
        return -1;
    if (sasl_flush(&s->base) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return -1;
    return (ssize_t)n;
}

static ssize_t sasl_writev(struct channel *ch, const struct iovec *iov, int iovcnt, bool more)
{
    struct sasl_channel *s = of(ch);
    (void)more;
    size_t n = 0;
    for (int i = 0; i < iovcnt && n < s->plain_max; i++) {
        size_t k = iov[i].iov_len < s->plain_max - n ? iov[i].iov_len : s->plain_max - n;
        memcpy(s->scratch + n, iov[i].iov_base, k);
        n += k;
    }
    return take_piece(s, s->scratch, n);
}

static ssize_t sasl_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    struct sasl_channel *s = of(ch);
    size_t want = len < s->plain_max ? len : s->plain_max;
    ssize_t n = pread(fd, s->scratch, want, (off_t)offset);
    if (n <= 0)
        return n; /* 0: the file is shorter than it was: the caller treats it as an error */
    return take_piece(s, s->scratch, (size_t)n);
}

static void sasl_cork(struct channel *ch, bool on)
{
    channel_cork(of(ch)->inner, on);
}

static void sasl_destroy(struct channel *ch)
{
    struct sasl_channel *s = of(ch);
    if (s->inner) /* NULL: abandoned (channel_sasl_abandon) */
        channel_destroy(s->inner);
    s->release(s->owner);
    sasl_inbound_free(&s->in);
    free(s->out);
    free(s->scratch);
    free(s);
}

static const struct channel_ops sasl_ops = {
    .name = "sasl-auth-conf",
    .read = sasl_read,
    .writev = sasl_writev,
    .sendfile = sasl_sendfile,
    .cork = sasl_cork,
    .pending = sasl_pending,
    .flush = sasl_flush,
    .destroy = sasl_destroy,
};

struct channel *channel_sasl_new(struct channel *inner, void *sasl_conn,
                                 void (*release)(void *owner), void *owner)
{
    sasl_conn_t *conn = sasl_conn;
    const void *maxout = NULL;
    if (sasl_getprop(conn, SASL_MAXOUTBUF, &maxout) != SASL_OK || !maxout)
        return NULL;
    unsigned plain_max = *(const unsigned *)maxout;
    if (plain_max == 0 || plain_max > 65536)
        plain_max = 65536;
    struct sasl_channel *s = calloc(1, sizeof *s);
    uint8_t *scratch = s ? malloc(plain_max) : NULL;
    if (!scratch) {
        free(s);
        return NULL;
    }
    s->base.ops = &sasl_ops;
    s->base.fd = inner->fd;
    s->inner = inner;
    s->sasl = conn;
    s->release = release;
    s->owner = owner;
    s->plain_max = plain_max;
    s->scratch = scratch;
    return &s->base;
}

void channel_sasl_abandon(struct channel *ch)
{
    of(ch)->inner = NULL;
    sasl_destroy(ch);
}
