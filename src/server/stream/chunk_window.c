/* Windowed file bodies; see chunk_window.h. */
#include "server/stream/chunk_window.h"

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "server/stream/blocking_pool.h"
#include "server/net/conn.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "server/net/worker.h"

struct chunk_window {
    struct conn *c; /* referenced until the last window is queued or the slot is freed */
    struct resp *r;
    struct evbuffer_file_segment *fs; /* the whole body; this reference until the end */
    int fd;                           /* closed by fs's cleanup, once every window has left */
    uint64_t file_offset, len;
    uint64_t queued;  /* body bytes in r->buf or beyond */
    uint64_t warming; /* bytes the running job warms (0: no job) */
    bool closing;     /* the connection closed while a job ran */
};

static void close_fd_cb(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
    (void)seg;
    (void)flags;
    close((int)(intptr_t)arg);
}

static void release(struct chunk_window *cw)
{
    evbuffer_file_segment_free(cw->fs);
    conn_unref(cw->c);
    free(cw);
}

static void window_warmed(void *arg);

/* Blocking pool: the disk wait happens here. */
static void warm_job(void *arg)
{
    struct chunk_window *cw = arg;
    page_cache_warm(cw->fd, cw->file_offset + cw->queued, cw->warming);
    worker_post(cw->c->w, window_warmed, cw);
}

static uint64_t next_len(const struct chunk_window *cw)
{
    uint64_t left = cw->len - cw->queued;
    return left < CHUNK_WINDOW_BYTES ? left : CHUNK_WINDOW_BYTES;
}

static void queue_window(struct chunk_window *cw, uint64_t n);

/* The next window: queued at once when already in the page cache, else read on the pool. */
static void fetch_next(struct chunk_window *cw)
{
    uint64_t n = next_len(cw);
    if (page_cache_resident(cw->fd, cw->file_offset + cw->queued, n)) {
        metrics_inc(MC_FILE_WINDOWS_CACHED);
        queue_window(cw, n);
        return;
    }
    metrics_inc(MC_FILE_WINDOWS_WARMED);
    cw->warming = n;
    if (blocking_pool_submit(cw->c->srv->pool, warm_job, cw) != 0)
        warm_job(cw); /* pool gone (shutdown): read here */
}

/* Adds the next n body bytes to r; frees cw after the last window (or on failure). */
static void queue_window(struct chunk_window *cw, uint64_t n)
{
    struct resp *r = cw->r;
    if (evbuffer_add_file_segment(r->buf, cw->fs, (ev_off_t)cw->queued, (ev_off_t)n) != 0) {
        struct conn *c = cw->c;
        conn_ref(c);
        conn_close(c, "out of memory queueing a file window"); /* frees r and cw */
        conn_unref(c);
        return;
    }
    cw->queued += n;
    bool last = cw->queued == cw->len;
    if (last)
        r->producer = NULL;
    conn_resp_more(cw->c, r, last);
    if (last)
        release(cw);
}

/* Back on the connection's thread: queue the window just warmed. */
static void window_warmed(void *arg)
{
    struct chunk_window *cw = arg;
    uint64_t n = cw->warming;
    cw->warming = 0;
    if (cw->closing) {
        conn_resp_discard(cw->r);
        release(cw);
        return;
    }
    queue_window(cw, n);
}

/* The connection's output drained while r was at the head, or the connection closed. */
static void on_output(struct conn *c, struct resp *r, bool closing)
{
    struct chunk_window *cw = r->producer;
    (void)c;
    if (closing) {
        if (cw->warming) {
            cw->closing = true; /* window_warmed frees */
        } else {
            conn_resp_discard(r);
            release(cw);
        }
        return;
    }
    if (!cw->warming && cw->queued < cw->len)
        fetch_next(cw);
}

int chunk_window_send(struct conn *c, struct resp *r, int fd, uint64_t offset, uint64_t len)
{
    bool windowed = len > CHUNK_WINDOW_BYTES;
    struct chunk_window *cw = windowed ? calloc(1, sizeof *cw) : NULL;
    struct evbuffer_file_segment *fs =
        (!windowed || cw) ? evbuffer_file_segment_new(fd, (ev_off_t)offset, (ev_off_t)len,
                                                      windowed ? 0 : EVBUF_FS_CLOSE_ON_FREE)
                          : NULL;
    if (!fs) {
        free(cw);
        close(fd);
        return -1;
    }
    if (windowed)
        evbuffer_file_segment_add_cleanup_cb(fs, close_fd_cb, (void *)(intptr_t)fd);
    uint64_t first = windowed ? CHUNK_WINDOW_BYTES : len;
    if (evbuffer_add_file_segment(r->buf, fs, 0, (ev_off_t)first) != 0) {
        evbuffer_file_segment_free(fs); /* closes fd */
        free(cw);
        return -1;
    }
    if (!windowed) {
        evbuffer_file_segment_free(fs); /* r->buf holds it now */
        conn_resp_ready(c, r);
        return 0;
    }
    *cw = (struct chunk_window){
        .c = c, .r = r, .fs = fs, .fd = fd, .file_offset = offset, .len = len, .queued = first};
    conn_ref(c);
    r->partial = true;
    r->on_output = on_output;
    r->producer = cw;
    conn_resp_ready(c, r);
    if (!c->closed && !cw->warming)
        fetch_next(cw); /* the second window is ready while the first one is sent */
    return 0;
}
