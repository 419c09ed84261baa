/* SPDX-License-Identifier: Apache-2.0 */
/* The pieces of SASL's security layer on the wire (protocol.md 12.3), shared by the daemon's
 * channel_sasl.c and libshuffle's link_sasl.c: `i64 len | token`, len counting its own 8 bytes,
 * token being what the mechanism wraps one piece of plaintext into, without the 4-byte length
 * Cyrus puts in front of its tokens (Java's SaslServer.wrap returns it bare); and the inbound
 * side of a connection: raw bytes gathered into pieces, unwrapped, handed out as plaintext
 * whatever frame boundaries the pieces cut. Its users link Cyrus SASL. */
#ifndef SHUFFLED_PROTO_SASL_PIECE_H
#define SHUFFLED_PROTO_SASL_PIECE_H

#include <errno.h>
#include <sasl/sasl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/codec.h"

#define SASL_PIECE_HEADER 8
#define SASL_TOKEN_PREFIX 4 /* Cyrus's own length in front of a token */
/* Largest inbound piece accepted (Spark's default maxEncryptedBlockSize is 64 KiB; the
 * wrapping adds a few dozen bytes). */
#define SASL_PIECE_MAX (1u << 20)

/* Bytes of the piece at the front of raw (have bytes of it there): 0 while its length is not
 * all there yet. */
static inline size_t sasl_piece_len(const uint8_t *raw, size_t have)
{
    return have < SASL_PIECE_HEADER ? 0 : (size_t)proto_load_u64(raw);
}

/* Whether a piece may be that long: more than a header and a token's length, at most
 * SASL_PIECE_MAX. */
static inline bool sasl_piece_len_ok(size_t len)
{
    return len > SASL_PIECE_HEADER + SASL_TOKEN_PREFIX && len <= SASL_PIECE_MAX;
}

/* Unwraps the whole piece raw[0, len) (its header is overwritten). 0 with the plaintext in
 * *out (Cyrus's buffer: valid until the next call on conn), or -1 with errno EBADMSG. */
static inline int sasl_piece_unwrap(sasl_conn_t *conn, uint8_t *raw, size_t len, const char **out,
                                    unsigned *outlen)
{
    if (!sasl_piece_len_ok(len)) {
        errno = EBADMSG;
        return -1;
    }
    size_t tok = len - SASL_PIECE_HEADER;
    uint8_t *cyrus = raw + SASL_PIECE_HEADER - SASL_TOKEN_PREFIX;
    proto_store_u32(cyrus, (uint32_t)tok);
    if (sasl_decode(conn, (const char *)cyrus, (unsigned)(tok + SASL_TOKEN_PREFIX), out, outlen) !=
        SASL_OK) {
        errno = EBADMSG;
        return -1;
    }
    return 0;
}

/* Wraps plain[0, n): the piece is header (filled here) then token[0, *toklen) (Cyrus's buffer:
 * valid until the next call on conn). 0, or -1 with errno EPROTO. */
static inline int sasl_piece_wrap(sasl_conn_t *conn, const uint8_t *plain, size_t n,
                                  uint8_t header[SASL_PIECE_HEADER], const uint8_t **token,
                                  size_t *toklen)
{
    const char *tok = NULL;
    unsigned len = 0;
    if (sasl_encode(conn, (const char *)plain, (unsigned)n, &tok, &len) != SASL_OK ||
        len < SASL_TOKEN_PREFIX) {
        errno = EPROTO;
        return -1;
    }
    *token = (const uint8_t *)tok + SASL_TOKEN_PREFIX;
    *toklen = len - SASL_TOKEN_PREFIX;
    proto_store_u64(header, (uint64_t)(SASL_PIECE_HEADER + *toklen));
    return 0;
}

/* ---- inbound ---- */

/* Raw bytes read (the piece at the front maybe incomplete), then the plaintext of the last
 * piece unwrapped, being handed out. Zeroed: empty. */
struct sasl_inbound {
    uint8_t *raw;
    size_t raw_len, raw_cap;
    uint8_t *plain;
    size_t plain_off, plain_len;
};

/* Plaintext not handed out yet, plus 1 if a whole piece waits in raw: what a reader holds that
 * no readiness event announces. */
size_t sasl_inbound_pending(const struct sasl_inbound *in);
/* Hands out up to len bytes of plaintext, unwrapping the pieces that have arrived whole as it
 * goes: bytes copied (0: none is there yet, read more raw bytes), or -1 with errno (EBADMSG:
 * not a valid piece; ENOMEM). */
ssize_t sasl_inbound_take(struct sasl_inbound *in, sasl_conn_t *conn, uint8_t *buf, size_t len);
/* Where to read raw bytes into: *room bytes at the result, enough for the front piece (or its
 * header) and, with read_ahead, for raw to hold read_ahead bytes in all. NULL with errno
 * (EBADMSG: the front piece announces an impossible length; ENOMEM). Add what was read to
 * in->raw_len. */
uint8_t *sasl_inbound_space(struct sasl_inbound *in, size_t read_ahead, size_t *room);
void sasl_inbound_free(struct sasl_inbound *in);

#endif
