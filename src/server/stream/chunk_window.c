/* SPDX-License-Identifier: Apache-2.0 */
/* Windowed file bodies; see chunk_window.h. */
#include <config.h>

#include "server/stream/chunk_window.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "server/net/conn.h"
#include "server/net/worker.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "server/stream/blocking_pool.h"

struct chunk_window {
    struct conn *c; /* referenced until the last window is queued or the slot is freed */
    struct reply_slot *slot;
    int fd;
    uint64_t file_offset, len;
    uint64_t queued;  /* body bytes the slot may send */
    uint64_t warming; /* bytes the running job warms (0: no job) */
    bool closing;     /* the connection closed while a job ran */
};

static void release(struct chunk_window *cw)
{
    conn_unref(cw->c);
    free(cw);
}

static void window_warmed(void *arg);

/* Blocking pool: the disk wait happens here. */
static void warm_job(void *arg)
{
    struct chunk_window *cw = arg;
    page_cache_warm(cw->fd, cw->file_offset + cw->queued, cw->warming);
    worker_post(conn_worker(cw->c), window_warmed, cw);
}

static uint64_t next_len(const struct chunk_window *cw)
{
    uint64_t left = cw->len - cw->queued;
    return left < CHUNK_WINDOW_BYTES ? left : CHUNK_WINDOW_BYTES;
}

/* Lets the slot send the next n body bytes; frees cw after the last window. */
static void queue_window(struct chunk_window *cw, uint64_t n)
{
    cw->queued += n;
    bool last = cw->queued == cw->len;
    struct conn *c = cw->c;
    struct reply_slot *slot = cw->slot;
    if (last) {
        slot->on_drain = NULL;
        slot->producer = NULL;
        conn_ref(c);
        release(cw);
    }
    conn_slot_extend(c, slot, n, last);
    if (last)
        conn_unref(c);
}

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
    if (blocking_pool_submit(conn_server(cw->c)->pool, warm_job, cw) != 0)
        warm_job(cw); /* pool gone (shutdown): read here */
}

/* Back on the connection's thread: queue the window just warmed. */
static void window_warmed(void *arg)
{
    struct chunk_window *cw = arg;
    uint64_t n = cw->warming;
    cw->warming = 0;
    if (cw->closing) {
        conn_slot_discard(cw->slot);
        release(cw);
        return;
    }
    queue_window(cw, n);
}

/* The slot's written part nears what it may send, or the connection closed. */
static void on_drain(void *producer, struct reply_slot *slot, bool closing)
{
    struct chunk_window *cw = producer;
    if (closing) {
        if (cw->warming) {
            cw->closing = true; /* window_warmed frees */
        } else {
            conn_slot_discard(slot);
            release(cw);
        }
        return;
    }
    if (!cw->warming && cw->queued < cw->len)
        fetch_next(cw);
}

int chunk_window_send(struct conn *c, struct reply_slot *slot, const struct proto_msg *hdr,
                      const struct reply_file *file)
{
    uint64_t len = file->len;
    if (len <= CHUNK_WINDOW_BYTES)
        return conn_slot_fill_body(c, slot, hdr, len, NULL, file, len);
    struct chunk_window *cw = calloc(1, sizeof *cw);
    if (!cw) {
        reply_file_release(file);
        conn_close(c, "out of memory queueing a file body");
        conn_slot_discard(slot);
        return -1;
    }
    *cw = (struct chunk_window){.c = c,
                                .slot = slot,
                                .fd = file->fd,
                                .file_offset = file->offset,
                                .len = len,
                                .queued = CHUNK_WINDOW_BYTES};
    conn_ref(c);
    slot->on_drain = on_drain;
    slot->producer = cw;
    /* the writer asks on_drain for the second window as soon as it starts on the first */
    if (conn_slot_fill_body(c, slot, hdr, len, NULL, file, CHUNK_WINDOW_BYTES) != 0) {
        release(cw); /* the slot and the file went with the connection */
        return -1;
    }
    return 0;
}
