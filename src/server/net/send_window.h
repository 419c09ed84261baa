/* SPDX-License-Identifier: Apache-2.0 */
/* The bounded write window of a channel that transforms what it sends (AES-CTR, AES-GCM,
 * userspace TLS): a fill puts the output of the next bytes of a source into the window
 * (copied, read from a file, encrypted, sealed) and the window hands it to a drain (the
 * socket, SSL_write). Once filled, source bytes count as taken by the caller; what the drain
 * did not take is held and leaves first, on the next call or at send_window_flush. A call
 * stops when the drain is full, so at most one window is ever held, and a window larger than
 * keep is freed whenever nothing is held or staged.
 *
 * Two ways to fill: by default (TLS, GCM) what is held leaves before the next fill; an
 * appending window (CTR) adds fills after what it holds until it is full, and at the end of a
 * call keeps what it holds while the caller says more follows at once (a frame's header waits
 * for its body: one write for both). */
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
    /* Source bytes a fill placed for a unit not ready to leave yet (GCM: the plaintext of a
     * message not sealed yet); the fill's owner turns it into held bytes. Not freed meanwhile. */
    size_t staged;
    bool append; /* see above */
    /* An appending window counts as full once less room than this is left (0: none left): a
     * fill whose output grows (TLS records) needs this much to place at least one byte. */
    size_t min_room;
};

/* Writes up to n bytes of p; bytes taken, or -1 with errno (EAGAIN: full). */
typedef ssize_t (*send_window_drain_fn)(void *sink, const uint8_t *p, size_t n, bool more);
/* Places the output of up to n bytes of the source, starting done bytes into it, in the window
 * after what it holds (send_window_room or send_window_reserve; then end or staged grows).
 * Source bytes taken (>= 1), 0 when the source ended early, or -1 with errno. */
typedef ssize_t (*send_window_fill_fn)(void *src, struct send_window *w, size_t done, size_t n);

static inline void send_window_init(struct send_window *w, size_t max, size_t keep, bool append)
{
    *w = (struct send_window){.max = max, .keep = keep, .append = append};
}
static inline size_t send_window_held(const struct send_window *w)
{
    return w->end - w->off;
}
/* Makes the window at least want bytes (at most max). 0, or -1 (ENOMEM). */
int send_window_reserve(struct send_window *w, size_t want);
/* Room after what the window holds for up to *n bytes: where (NULL: out of memory, ENOMEM),
 * *n cut to what fits. The fill then adds the bytes it put there to end. */
uint8_t *send_window_room(struct send_window *w, size_t *n);
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
/* Appends up to n bytes of iov (from skip bytes in) / of fd at offset (pread, retried on EINTR)
 * to the held bytes: how many (the last ones held), 0 at the file's end, -1 with errno. */
ssize_t send_window_put_iov(struct send_window *w, const struct iovec *iov, int iovcnt, size_t skip,
                            size_t n);
ssize_t send_window_put_file(struct send_window *w, int fd, uint64_t offset, size_t n);

#endif
