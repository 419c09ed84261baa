/* SPDX-License-Identifier: Apache-2.0 */
/* The bounded write window; see send_window.h. */
#include <config.h>

#include "server/net/send_window.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The last large window given back on this thread, kept for the next window that needs one:
 * a connection answering block after block gives its window back between answers, and a new
 * allocation of hundreds of KiB cost a page fault per 4 KiB each time (glibc returns large
 * free blocks to the kernel). At most one per thread, never charged to a connection; freed
 * when the thread ends (spare_key's destructor). */
static __thread uint8_t *spare;
static __thread size_t spare_cap;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_ok;

static void spare_init(void)
{
    spare_ok = pthread_key_create(&spare_key, free) == 0;
}

static void set_spare(uint8_t *buf, size_t cap)
{
    spare = buf;
    spare_cap = cap;
    pthread_setspecific(spare_key, buf);
}

/* Keeps buf (cap bytes) as the thread's spare, or frees it. */
static void give_back(uint8_t *buf, size_t cap)
{
    pthread_once(&spare_once, spare_init);
    if (!spare_ok || cap <= spare_cap) {
        free(buf);
        return;
    }
    free(spare);
    set_spare(buf, cap);
}

int send_window_reserve(struct send_window *w, size_t want)
{
    if (want > w->max)
        want = w->max;
    if (w->cap >= want)
        return 0;
    if (!w->buf && spare && spare_cap >= want && spare_cap <= w->max) {
        w->buf = spare;
        w->cap = spare_cap;
        set_spare(NULL, 0);
        return 0;
    }
    uint8_t *b = realloc(w->buf, want);
    if (!b) {
        errno = ENOMEM;
        return -1;
    }
    w->buf = b;
    w->cap = want;
    return 0;
}

uint8_t *send_window_room(struct send_window *w, size_t *n)
{
    size_t room = w->max - w->end;
    if (*n > room)
        *n = room;
    if (send_window_reserve(w, w->end + *n) != 0)
        return NULL;
    return w->buf + w->end;
}

/* An idle connection holds no large window (10,000 idle connections must stay cheap). */
static void release_if_idle(struct send_window *w)
{
    if (w->end == w->off && !w->staged && w->cap > w->keep) {
        give_back(w->buf, w->cap);
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
        /* What is held leaves before the next fill, unless the window appends and has room;
         * at the end, unless the window appends and more follows at once. */
        bool full = !w->append || w->max - w->end < (w->min_room ? w->min_room : 1);
        if (w->off < w->end && (full || (taken == total && !more))) {
            if (drain_held(w, drain, sink, more || taken < total) < 0)
                break; /* EAGAIN: full; the window keeps the rest */
            continue;
        }
        if (taken == total)
            break;
        ssize_t got = fill(src, w, taken, total - taken);
        if (got <= 0) {
            if (got == 0 && taken == 0)
                return 0; /* the file is shorter than the caller thought */
            break;
        }
        taken += (size_t)got;
    }
    int saved = errno;
    release_if_idle(w);
    errno = saved;
    return taken ? (ssize_t)taken : -1;
}

void send_window_free(struct send_window *w)
{
    if (w->buf)
        give_back(w->buf, w->cap);
    w->buf = NULL;
    w->cap = w->off = w->end = w->staged = 0;
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

ssize_t send_window_put_iov(struct send_window *w, const struct iovec *iov, int iovcnt, size_t skip,
                            size_t n)
{
    uint8_t *at = send_window_room(w, &n);
    if (!at)
        return -1;
    n = send_window_gather(at, iov, iovcnt, skip, n);
    w->end += n;
    return (ssize_t)n;
}

ssize_t send_window_put_file(struct send_window *w, int fd, uint64_t offset, size_t n)
{
    uint8_t *at = send_window_room(w, &n);
    if (!at)
        return -1;
    ssize_t r;
    do
        r = pread(fd, at, n, (off_t)offset);
    while (r < 0 && errno == EINTR);
    if (r > 0)
        w->end += (size_t)r;
    return r;
}
