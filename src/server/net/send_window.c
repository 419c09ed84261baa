/* SPDX-License-Identifier: Apache-2.0 */
/* The bounded write window; see send_window.h. */
#include <config.h>

#include "server/net/send_window.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ensure(struct send_window *w, size_t want)
{
    if (want > w->max)
        want = w->max;
    if (w->cap >= want)
        return 0;
    uint8_t *b = realloc(w->buf, want);
    if (!b)
        return -1;
    w->buf = b;
    w->cap = want;
    return 0;
}

/* An idle connection holds no large window (10,000 idle connections must stay cheap). */
static void release_if_idle(struct send_window *w)
{
    if (w->end == w->off && w->cap > w->keep) {
        free(w->buf);
        w->buf = NULL;
        w->cap = 0;
    }
}

static int drain_held(struct send_window *w, send_window_drain_fn drain, void *sink, bool more)
{
    while (w->off < w->end) {
        ssize_t n = drain(sink, w->buf + w->off, w->end - w->off, more);
        if (n < 0)
            return -1;
        w->off += (size_t)n;
    }
    w->off = w->end = 0;
    return 0;
}

int send_window_flush(struct send_window *w, send_window_drain_fn drain, void *sink, bool more)
{
    int rc = drain_held(w, drain, sink, more), saved = errno;
    release_if_idle(w);
    errno = saved;
    return rc;
}

ssize_t send_window_pump(struct send_window *w, size_t total, bool more, send_window_fill_fn fill,
                         void *src, send_window_drain_fn drain, void *sink)
{
    size_t taken = 0;
    for (;;) {
        if (drain_held(w, drain, sink, more || taken < total) < 0)
            break; /* EAGAIN: full; the window keeps the rest */
        if (taken == total)
            break;
        if (ensure(w, total - taken) != 0) {
            errno = ENOMEM;
            break;
        }
        size_t n = total - taken < w->cap ? total - taken : w->cap;
        ssize_t got = fill(src, w->buf, taken, n);
        if (got <= 0) {
            if (got == 0 && taken == 0)
                return 0; /* the file is shorter than the caller thought */
            break;
        }
        w->off = 0;
        w->end = (size_t)got;
        taken += (size_t)got;
    }
    int saved = errno;
    release_if_idle(w);
    errno = saved;
    return taken ? (ssize_t)taken : -1;
}

void send_window_free(struct send_window *w)
{
    free(w->buf);
    w->buf = NULL;
    w->cap = w->off = w->end = 0;
}

size_t send_window_gather(uint8_t *dst, const struct iovec *iov, int iovcnt, size_t skip, size_t n)
{
    size_t at = 0;
    for (int i = 0; i < iovcnt && at < n; i++) {
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        size_t take = l - skip < n - at ? l - skip : n - at;
        memcpy(dst + at, (const uint8_t *)iov[i].iov_base + skip, take);
        at += take;
        skip = 0;
    }
    return at;
}

ssize_t send_window_pread(int fd, uint64_t offset, uint8_t *dst, size_t n)
{
    ssize_t r;
    do
        r = pread(fd, dst, n, (off_t)offset);
    while (r < 0 && errno == EINTR);
    return r;
}
