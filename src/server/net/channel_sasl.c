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

#include "proto/codec.h"
#include "server/net/channel.h"

/* Largest inbound piece accepted (Spark's default maxEncryptedBlockSize is 64 KiB; the
 * wrapping adds a few dozen bytes). */
#define MAX_PIECE (1u << 20)

struct sasl_channel {
    struct channel base; /* first: the channel the connection holds */
    struct channel *inner;
    sasl_conn_t *sasl;
    void (*release)(void *owner);
    void *owner;
    unsigned plain_max; /* plaintext per piece, so that one sasl_encode makes one token */
    /* inbound: raw bytes of the piece being assembled, then its plaintext being returned */
    uint8_t *raw;
    size_t raw_len, raw_cap;
    uint8_t *plain;
    size_t plain_off, plain_len;
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

/* Unwraps the complete piece in raw[0, need) into plain. -1 with errno EPROTO if it is not
 * a valid token. */
static int unwrap_piece(struct sasl_channel *s, size_t need)
{
    /* Cyrus wants its own 4-byte length in front of the token */
    size_t tok = need - 8;
    proto_store_u32(s->raw + 4, (uint32_t)tok);
    const char *out = NULL;
    unsigned outlen = 0;
    if (sasl_decode(s->sasl, (const char *)s->raw + 4, (unsigned)(tok + 4), &out, &outlen) !=
        SASL_OK) {
        errno = EPROTO;
        return -1;
    }
    if (outlen > 0) {
        uint8_t *p = realloc(s->plain, outlen);
        if (!p) {
            errno = ENOMEM;
            return -1;
        }
        memcpy(p, out, outlen);
        s->plain = p;
    }
    s->plain_off = 0;
    s->plain_len = outlen;
    memmove(s->raw, s->raw + need, s->raw_len - need);
    s->raw_len -= need;
    return 0;
}

/* Bytes of the piece at the front of raw: 0 when its length is not known yet. */
static size_t piece_len(const struct sasl_channel *s)
{
    return s->raw_len < 8 ? 0 : (size_t)proto_load_u64(s->raw);
}

static ssize_t sasl_read(struct channel *ch, void *buf, size_t len)
{
    struct sasl_channel *s = of(ch);
    for (;;) {
        if (s->plain_off < s->plain_len) {
            size_t n = s->plain_len - s->plain_off;
            n = n < len ? n : len;
            memcpy(buf, s->plain + s->plain_off, n);
            s->plain_off += n;
            return (ssize_t)n;
        }
        size_t need = piece_len(s);
        if (s->raw_len >= 8 && (need <= 8 + 4 || need > MAX_PIECE)) {
            errno = EPROTO; /* an absurd length: not a SASL piece */
            return -1;
        }
        if (need && s->raw_len >= need) {
            if (unwrap_piece(s, need) < 0)
                return -1;
            continue;
        }
        size_t want = need ? need : 8;
        if (s->raw_cap < want) {
            uint8_t *r = realloc(s->raw, want);
            if (!r) {
                errno = ENOMEM;
                return -1;
            }
            s->raw = r;
            s->raw_cap = want;
        }
        ssize_t n = channel_read(s->inner, s->raw + s->raw_len, want - s->raw_len);
        if (n <= 0)
            return n; /* EAGAIN, EOF or an error: as the socket said */
        s->raw_len += (size_t)n;
    }
}

static size_t sasl_pending(struct channel *ch)
{
    struct sasl_channel *s = of(ch);
    size_t need = piece_len(s);
    return (s->plain_len - s->plain_off) + (need && s->raw_len >= need ? 1 : 0);
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
    const char *tok = NULL;
    unsigned toklen = 0;
    if (sasl_encode(s->sasl, (const char *)plain, (unsigned)n, &tok, &toklen) != SASL_OK ||
        toklen < 4) {
        errno = EPROTO;
        return -1;
    }
    size_t piece = 8 + (toklen - 4);
    if (s->out_cap < piece) {
        uint8_t *o = realloc(s->out, piece);
        if (!o) {
            errno = ENOMEM;
            return -1;
        }
        s->out = o;
        s->out_cap = piece;
    }
    proto_store_u64(s->out, (uint64_t)piece);
    memcpy(s->out + 8, tok + 4, toklen - 4);
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
    channel_destroy(s->inner);
    s->release(s->owner);
    free(s->raw);
    free(s->plain);
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
