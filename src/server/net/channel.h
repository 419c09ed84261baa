/* SPDX-License-Identifier: Apache-2.0 */
/* The byte-stream layer under the frame codec: what a connection reads from and writes to.
 * One interface, several implementations stacked the same way: the plain socket
 * (channel_plain.c), and over it TLS (channel_tls.c, kernel-TLS sendfile where it can), SASL
 * auth-conf (channel_sasl.c) and AES-CTR / AES-GCM (channel_aes.c, channel_gcm.c); CTR, GCM and
 * userspace TLS write through a bounded send window (send_window.h).
 * A connection never touches its socket except through its channel.
 *
 * Every call is non-blocking: -1 with errno EAGAIN means "call again once the socket is
 * ready" (channel_wants tells for which direction); any other errno is fatal for the
 * connection. */
#ifndef SHUFFLED_SERVER_NET_CHANNEL_H
#define SHUFFLED_SERVER_NET_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct channel;

struct channel_ops {
    const char *name; /* "plain", for logs and metrics */
    /* Up to len bytes of plaintext; 0 at end of stream. */
    ssize_t (*read)(struct channel *ch, void *buf, size_t len);
    /* Writes from iov; more: further bytes follow at once (coalesce into packets). */
    ssize_t (*writev)(struct channel *ch, const struct iovec *iov, int iovcnt, bool more);
    /* Writes up to len bytes of file fd from offset (zero copy where the channel can). */
    ssize_t (*sendfile)(struct channel *ch, int fd, uint64_t offset, size_t len);
    /* Hold back partial packets while a run of small answers is written (best effort). */
    void (*cork)(struct channel *ch, bool on);
    /* Optional: plaintext already taken off the socket and not read yet (a decrypting
     * channel's buffer). The socket will not signal it: the reader reads again while > 0. */
    size_t (*pending)(struct channel *ch);
    /* Optional: writes output the channel holds back (ciphertext of plaintext it already
     * accepted). 0 when none is left; -1 with EAGAIN when the socket is full (call again once
     * it is writable), another errno when fatal. */
    int (*flush)(struct channel *ch);
    void (*destroy)(struct channel *ch); /* closes the socket */
    /* Optional: bytes of memory the channel holds for output (true: a send window) or input
     * (false: decryption buffers, TLS record buffers), for the memory budgets
     * (max_output_bytes, max_input_bytes). */
    size_t (*memory)(struct channel *ch, bool output);
};

struct channel {
    const struct channel_ops *ops;
    int fd; /* the socket, for the event loop's readiness events */
};

/* A plain TCP (or unix) socket: recv, sendmsg with MSG_MORE, sendfile, TCP_CORK. Takes fd.
 * NULL when out of memory (fd is then left open). */
struct channel *channel_plain_new(int fd);

static inline ssize_t channel_read(struct channel *ch, void *buf, size_t len)
{
    return ch->ops->read(ch, buf, len);
}
static inline ssize_t channel_writev(struct channel *ch, const struct iovec *iov, int n, bool more)
{
    return ch->ops->writev(ch, iov, n, more);
}
static inline ssize_t channel_sendfile(struct channel *ch, int fd, uint64_t off, size_t len)
{
    return ch->ops->sendfile(ch, fd, off, len);
}
static inline void channel_cork(struct channel *ch, bool on)
{
    ch->ops->cork(ch, on);
}
static inline size_t channel_pending(struct channel *ch)
{
    return ch->ops->pending ? ch->ops->pending(ch) : 0;
}
static inline int channel_flush(struct channel *ch)
{
    return ch->ops->flush ? ch->ops->flush(ch) : 0;
}
static inline size_t channel_memory(struct channel *ch, bool output)
{
    return ch->ops->memory ? ch->ops->memory(ch, output) : 0;
}
static inline void channel_destroy(struct channel *ch)
{
    ch->ops->destroy(ch);
}

#endif
