/* SPDX-License-Identifier: Apache-2.0 */
/* The client connection's cipher seam: what sits between the socket and the frames once a
 * security layer is on (SASL auth-conf: link_sasl.c; spark.network.crypto's AES-CTR and AES-GCM:
 * link_aes.c, link_gcm.c; TLS: tls_link.c). A connection without one (link.ops NULL) reads the
 * socket straight, splices stream bytes into files and writes frames as they are; with one, every
 * byte read goes through ops->readv and every byte written through ops->write, and nothing is
 * spliced unless the cipher says the socket carries plaintext (ops->splice_ok; none does yet, TLS
 * included).
 *
 * The contract, for whoever adds a cipher:
 *   - readv behaves like readv(2) on the socket but yields plaintext: > 0 bytes placed in the
 *     iovecs in order, 0 at the peer's end of stream, -1 with errno (EAGAIN/EWOULDBLOCK: no
 *     plaintext for now, e.g. half a cipher record arrived; EBADMSG/EPROTO: the peer's bytes
 *     do not decrypt, the connection is closed). It may read more from the socket than it
 *     returns and keep the rest.
 *   - pending: plaintext (or whole records) the cipher already took from the socket and holds:
 *     no readiness event will announce it, so the transport calls readv again while it is
 *     nonzero. NULL: never holds any.
 *   - write takes len plaintext bytes, in stream order, and appends their wire form to out
 *     (the connection's output evbuffer); it may scribble over plain (in-place encryption).
 *     Every byte is passed exactly once and never taken back. 0, or -1 (out of memory, cipher
 *     failure: the connection is closed).
 *   - destroy frees state and wipes key material; called once, when the connection goes.
 *   - trim (optional) frees what the cipher holds for reading when nothing is half read; the
 *     transport calls it when the connection has been quiet a while (rx_release_idle).
 * Everything runs on the client's loop thread. The transport installs a link only between
 * frames: after the reply that ends the handshake and before any byte that needs it (TLS's
 * link, under everything, when the connection is made). */
#ifndef SHUFFLE_CLIENT_LINK_H
#define SHUFFLE_CLIENT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct evbuffer;

struct link_ops {
    const char *name; /* "aes-ctr", "sasl-auth-conf", ...: for messages */
    bool splice_ok;   /* the socket's bytes are the plaintext (stream-to-file may splice) */
    /* readv takes the socket's bytes in reads of its own (TLS's read buffer) and hands out what it
     * holds: a short readv costs no system call */
    bool reads_ahead;
    ssize_t (*readv)(void *state, int fd, const struct iovec *iov, int iovcnt);
    size_t (*pending)(void *state);
    int (*write)(void *state, struct evbuffer *out, uint8_t *plain, size_t len);
    void (*destroy)(void *state);
    void (*trim)(void *state); /* gives back buffers it holds while idle; NULL: holds none */
};

/* A connection's security layer; zeroed (ops NULL): none, the socket carries plaintext. */
struct link {
    const struct link_ops *ops;
    void *state;
};

static inline bool link_is_plain(const struct link *l)
{
    return !l || !l->ops;
}

static inline bool link_reads_ahead(const struct link *l)
{
    return l && l->ops && l->ops->reads_ahead;
}

/* The socket's next bytes into iov: readv(2) without a cipher, ops->readv with one. */
ssize_t link_readv(const struct link *l, int fd, const struct iovec *iov, int iovcnt);
/* ops->pending, or 0. */
size_t link_pending(const struct link *l);
/* Appends len bytes to out as the link sends them (plain may be modified). 0, or -1. */
int link_write(const struct link *l, struct evbuffer *out, uint8_t *plain, size_t len);
/* Moves all of from to out through the link (from ends empty). 0, or -1. */
int link_write_buffer(const struct link *l, struct evbuffer *out, struct evbuffer *from);
/* ops->trim, if any. */
void link_trim(const struct link *l);
/* Destroys the cipher, leaving l plain. */
void link_clear(struct link *l);

#endif
