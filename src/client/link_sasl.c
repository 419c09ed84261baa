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
#include "proto/sasl_piece.h"

enum { READ_CHUNK = 128 * 1024 }; /* raw bytes read per socket read: several pieces at once */

struct sasl_link {
    sasl_conn_t *sasl;
    unsigned plain_max;     /* plaintext per outbound piece (one sasl_encode, one token) */
    struct sasl_inbound in; /* raw bytes read (whole pieces first), the last one's plaintext */
};

static ssize_t sasl_link_readv(void *state, int fd, const struct iovec *iov, int iovcnt)
{
    struct sasl_link *s = state;
    for (;;) {
        size_t done = 0;
        for (int i = 0; i < iovcnt; i++) {
            ssize_t got = sasl_inbound_take(&s->in, s->sasl, iov[i].iov_base, iov[i].iov_len);
            if (got < 0)
                return -1;
            done += (size_t)got;
            if ((size_t)got < iov[i].iov_len)
                break; /* nothing more has arrived whole */
        }
        if (done > 0)
            return (ssize_t)done;
        size_t room = 0;
        uint8_t *space = sasl_inbound_space(&s->in, READ_CHUNK, &room);
        if (!space)
            return -1;
        ssize_t n = read(fd, space, room);
        if (n <= 0)
            return n; /* EAGAIN, EOF or an error, as the socket said */
        s->in.raw_len += (size_t)n;
    }
}

static size_t sasl_link_pending(void *state)
{
    return sasl_inbound_pending(&((struct sasl_link *)state)->in);
}

static int sasl_link_write(void *state, struct evbuffer *out, uint8_t *plain, size_t len)
{
    struct sasl_link *s = state;
    while (len > 0) {
        size_t n = len < s->plain_max ? len : s->plain_max;
        const uint8_t *tok = NULL;
        size_t toklen = 0;
        uint8_t header[SASL_PIECE_HEADER];
        if (sasl_piece_wrap(s->sasl, plain, n, header, &tok, &toklen) != 0 ||
            evbuffer_add(out, header, sizeof(header)) != 0 || evbuffer_add(out, tok, toklen) != 0)
            return -1;
        plain += n;
        len -= n;
    }
    return 0;
}

static void sasl_link_destroy(void *state)
{
    struct sasl_link *s = state;
    sasl_inbound_free(&s->in);
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
