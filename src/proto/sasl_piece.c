/* SPDX-License-Identifier: Apache-2.0 */
/* The inbound side of SASL's security layer: see sasl_piece.h. */
#include <config.h>

#include "proto/sasl_piece.h"

#include <stdlib.h>
#include <string.h>

static bool piece_ready(const struct sasl_inbound *in)
{
    size_t need = sasl_piece_len(in->raw, in->raw_len);
    return need && in->raw_len >= need;
}

size_t sasl_inbound_pending(const struct sasl_inbound *in)
{
    return (in->plain_len - in->plain_off) + (piece_ready(in) ? 1 : 0);
}

/* Unwraps the whole piece at the front of raw into plain (all handed out before). */
static int unwrap_front(struct sasl_inbound *in, sasl_conn_t *conn)
{
    size_t need = sasl_piece_len(in->raw, in->raw_len);
    const char *out = NULL;
    unsigned outlen = 0;
    if (sasl_piece_unwrap(conn, in->raw, need, &out, &outlen) != 0)
        return -1;
    if (outlen > 0) {
        uint8_t *p = realloc(in->plain, outlen);
        if (!p) {
            errno = ENOMEM;
            return -1;
        }
        memcpy(p, out, outlen);
        in->plain = p;
    }
    in->plain_off = 0;
    in->plain_len = outlen;
    memmove(in->raw, in->raw + need, in->raw_len - need);
    in->raw_len -= need;
    return 0;
}

ssize_t sasl_inbound_take(struct sasl_inbound *in, sasl_conn_t *conn, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        if (in->plain_off == in->plain_len) {
            if (!piece_ready(in))
                break;
            if (unwrap_front(in, conn) != 0)
                return -1;
            continue;
        }
        size_t n = in->plain_len - in->plain_off;
        n = n < len - done ? n : len - done;
        memcpy(buf + done, in->plain + in->plain_off, n);
        in->plain_off += n;
        done += n;
    }
    return (ssize_t)done;
}

uint8_t *sasl_inbound_space(struct sasl_inbound *in, size_t read_ahead, size_t *room)
{
    size_t need = sasl_piece_len(in->raw, in->raw_len);
    if (in->raw_len >= SASL_PIECE_HEADER && !sasl_piece_len_ok(need)) {
        errno = EBADMSG; /* an absurd length: not a SASL piece */
        return NULL;
    }
    size_t want = need ? need : SASL_PIECE_HEADER;
    if (want < read_ahead)
        want = read_ahead;
    if (in->raw_cap < want) {
        uint8_t *r = realloc(in->raw, want);
        if (!r) {
            errno = ENOMEM;
            return NULL;
        }
        in->raw = r;
        in->raw_cap = want;
    }
    *room = want - in->raw_len;
    return in->raw + in->raw_len;
}

void sasl_inbound_free(struct sasl_inbound *in)
{
    free(in->raw);
    if (in->plain) {
        memset(in->plain, 0, in->plain_len);
        free(in->plain);
    }
    memset(in, 0, sizeof(*in));
}
