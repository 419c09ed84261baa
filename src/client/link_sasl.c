/* SPDX-License-Identifier: Apache-2.0 */
/* SASL auth-conf under a client connection: see link_sasl.h. */
#include <config.h>

#include <errno.h>
#include <sasl/sasl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "client/link_sasl.h"
#include "proto/codec.h"

enum {
    PIECE_HEADER = 8,
    MAX_PIECE = 1 << 20,     /* largest inbound piece accepted (Spark's are about 64 KiB) */
    READ_CHUNK = 128 * 1024, /* raw bytes read per socket read: several pieces at once */
    TOKEN_LEN_PREFIX = 4,    /* Cyrus's own length in front of a token */
};

struct sasl_link {
    sasl_conn_t *sasl;
    unsigned plain_max; /* plaintext per outbound piece (one sasl_encode, one token) */
    /* inbound: raw bytes read (whole pieces first), then the last piece's plaintext */
    uint8_t *raw;
    size_t raw_len, raw_cap;
    uint8_t *plain;
    size_t plain_off, plain_len;
};

/* Bytes of the piece at the front of raw: 0 while its length is not known. */
static size_t piece_len(const struct sasl_link *s)
{
    return s->raw_len < PIECE_HEADER ? 0 : (size_t)proto_load_u64(s->raw);
}

static bool piece_complete(const struct sasl_link *s)
{
    size_t need = piece_len(s);
    return need && s->raw_len >= need;
}

/* Unwraps the complete piece at the front of raw into plain. -1 with errno. */
static int unwrap_piece(struct sasl_link *s)
{
    size_t need = piece_len(s);
    if (need <= PIECE_HEADER + TOKEN_LEN_PREFIX || need > MAX_PIECE) {
        errno = EBADMSG; /* an absurd length: not a SASL piece */
        return -1;
    }
    size_t tok = need - PIECE_HEADER;
    proto_store_u32(s->raw + PIECE_HEADER - TOKEN_LEN_PREFIX, (uint32_t)tok);
    const char *out = NULL;
    unsigned outlen = 0;
    if (sasl_decode(s->sasl, (const char *)s->raw + PIECE_HEADER - TOKEN_LEN_PREFIX,
                    (unsigned)(tok + TOKEN_LEN_PREFIX), &out, &outlen) != SASL_OK) {
        errno = EBADMSG;
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

/* Copies held plaintext into iov (from *done on), unwrapping complete pieces as it goes. */
static int hand_out(struct sasl_link *s, const struct iovec *iov, int iovcnt, size_t *done)
{
    size_t skip = *done;
    for (int i = 0; i < iovcnt; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        while (skip < iov[i].iov_len) {
            if (s->plain_off == s->plain_len) {
                if (!piece_complete(s))
                    return 0;
                if (unwrap_piece(s) != 0)
                    return -1;
                continue;
            }
            size_t n = s->plain_len - s->plain_off, room = iov[i].iov_len - skip;
            n = n < room ? n : room;
            memcpy((uint8_t *)iov[i].iov_base + skip, s->plain + s->plain_off, n);
            s->plain_off += n;
            skip += n;
            *done += n;
        }
        skip = 0;
    }
    return 0;
}

/* One socket read into raw: > 0, 0 at EOF, -1 with errno. */
static ssize_t read_raw(struct sasl_link *s, int fd)
{
    size_t need = piece_len(s);
    if (s->raw_len >= PIECE_HEADER &&
        (need <= PIECE_HEADER + TOKEN_LEN_PREFIX || need > MAX_PIECE)) {
        errno = EBADMSG; /* an absurd length: not a SASL piece */
        return -1;
    }
    size_t cap = need > READ_CHUNK ? need : READ_CHUNK;
    if (s->raw_cap < cap) {
        uint8_t *r = realloc(s->raw, cap);
        if (!r) {
            errno = ENOMEM;
            return -1;
        }
        s->raw = r;
        s->raw_cap = cap;
    }
    ssize_t n = read(fd, s->raw + s->raw_len, s->raw_cap - s->raw_len);
    if (n > 0)
        s->raw_len += (size_t)n;
    return n;
}

static ssize_t sasl_link_readv(void *state, int fd, const struct iovec *iov, int iovcnt)
{
    struct sasl_link *s = state;
    size_t done = 0;
    for (;;) {
        if (hand_out(s, iov, iovcnt, &done) != 0)
            return -1;
        if (done > 0)
            return (ssize_t)done;
        ssize_t n = read_raw(s, fd);
        if (n <= 0)
            return n; /* EAGAIN, EOF or an error, as the socket said */
    }
}

static size_t sasl_link_pending(void *state)
{
    struct sasl_link *s = state;
    return (s->plain_len - s->plain_off) + (piece_complete(s) ? 1 : 0);
}

static int sasl_link_write(void *state, struct evbuffer *out, uint8_t *plain, size_t len)
{
    struct sasl_link *s = state;
    while (len > 0) {
        size_t n = len < s->plain_max ? len : s->plain_max;
        const char *tok = NULL;
        unsigned toklen = 0;
        if (sasl_encode(s->sasl, (const char *)plain, (unsigned)n, &tok, &toklen) != SASL_OK ||
            toklen < TOKEN_LEN_PREFIX)
            return -1;
        uint8_t header[PIECE_HEADER];
        proto_store_u64(header, (uint64_t)(PIECE_HEADER + toklen - TOKEN_LEN_PREFIX));
        if (evbuffer_add(out, header, sizeof(header)) != 0 ||
            evbuffer_add(out, tok + TOKEN_LEN_PREFIX, toklen - TOKEN_LEN_PREFIX) != 0)
            return -1;
        plain += n;
        len -= n;
    }
    return 0;
}

static void sasl_link_destroy(void *state)
{
    struct sasl_link *s = state;
    free(s->raw);
    if (s->plain) {
        explicit_bzero(s->plain, s->plain_len);
        free(s->plain);
    }
    free(s);
}

static const struct link_ops sasl_link_ops = {
    .name = "sasl-auth-conf",
    .splice_ok = false,
    .readv = sasl_link_readv,
    .pending = sasl_link_pending,
    .write = sasl_link_write,
    .destroy = sasl_link_destroy,
};

int link_sasl_new(struct link *l, void *sasl_conn)
{
    const void *maxout = NULL;
    if (sasl_getprop(sasl_conn, SASL_MAXOUTBUF, &maxout) != SASL_OK || !maxout)
        return -1;
    unsigned plain_max = *(const unsigned *)maxout;
    struct sasl_link *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->sasl = sasl_conn;
    s->plain_max = plain_max == 0 || plain_max > 65536 ? 65536 : plain_max;
    l->ops = &sasl_link_ops;
    l->state = s;
    return 0;
}
