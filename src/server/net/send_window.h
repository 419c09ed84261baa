/* SPDX-License-Identifier: Apache-2.0 */
/* The bounded write window of a channel that transforms what it sends (AES-CTR, userspace
 * TLS): bytes are filled into the window (copied, read from a file, encrypted) a window at a
 * time and handed to a drain (the socket, SSL_write). Once filled, bytes count as taken by the
 * caller; what the drain did not take is held and leaves first, on the next call or at
 * send_window_flush. A call stops when the drain is full, so at most one window is ever held,
 * and a window larger than keep is freed whenever nothing is held. */
#ifndef SHUFFLED_SERVER_NET_SEND_WINDOW_H
#define SHUFFLED_SERVER_NET_SEND_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct send_window {
    uint8_t *buf;
    size_t cap;      /* allocated */
    size_t max;      /* never more than this */
    size_t keep;     /* freed beyond this when idle */
    size_t off, end; /* held: buf[off..end) */
};

/* Writes up to n bytes of p; bytes taken, or -1 with errno (EAGAIN: full). */
typedef ssize_t (*send_window_drain_fn)(void *sink, const uint8_t *p, size_t n, bool more);
/* Puts up to n bytes, starting done bytes into the source, at win: how many (0: the source
 * ended early), or -1 with errno. */
typedef ssize_t (*send_window_fill_fn)(void *src, uint8_t *win, size_t done, size_t n);

static inline void send_window_init(struct send_window *w, size_t max, size_t keep)
{
    *w = (struct send_window){.max = max, .keep = keep};
}
static inline size_t send_window_held(const struct send_window *w)
{
    return w->end - w->off;
}
/* Writes the held bytes. 0 when none is left, -1 (errno from the drain) otherwise; the
 * window is given back if it is idle and large. */
int send_window_flush(struct send_window *w, send_window_drain_fn drain, void *sink, bool more);
/* The held bytes, then total bytes of the source, window by window, until all are taken or
 * the drain is full. Bytes taken (> 0), 0 when the source had nothing, -1 with errno. */
ssize_t send_window_pump(struct send_window *w, size_t total, bool more, send_window_fill_fn fill,
                         void *src, send_window_drain_fn drain, void *sink);
void send_window_free(struct send_window *w);

/* Fill helpers. Copies n bytes of iov, starting skip bytes in, to dst; how many (fewer when iov
 * ends first). */
size_t send_window_gather(uint8_t *dst, const struct iovec *iov, int iovcnt, size_t skip, size_t n);
/* pread of up to n bytes of fd at offset into dst, retried on EINTR. */
ssize_t send_window_pread(int fd, uint64_t offset, uint8_t *dst, size_t n);

#endif
