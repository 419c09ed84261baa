/* SPDX-License-Identifier: Apache-2.0 */
/* The receive side of one client connection: reads the socket itself (no
 * bufferevent, no evbuffer chains) and hands the frames above it.
 *
 * - Small frames are read into one reusable buffer per connection (256 KiB reads)
 *   and handed over in place, without a copy.
 * - A ChunkFetchSuccess whose body is large (RX_DIRECT_MIN_BYTES or more) and has
 *   not fully arrived gets one allocation of exactly its content; the rest of it is
 *   read straight into that allocation (readv: the body's remainder, then the
 *   buffer for what follows).
 * - The after-frame bytes of a StreamResponse go either to the owner piece by
 *   piece (as they arrive) or, once the owner names a sink file (rx_sink_to), into
 *   that file: spliced from the socket through a pipe (no copy through user
 *   space), or read into the buffer and written when splice is not possible (or
 *   disabled: LIBSHUFFLE_NO_SPLICE).
 * - Frame headers are checked by the protocol's frame decoder (the same limits
 *   and texts) before anything of the announced size is allocated; other frames
 *   larger than the buffer are gathered by that decoder as their bytes arrive. */
#ifndef SHUFFLE_CLIENT_RX_H
#define SHUFFLE_CLIENT_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct frame_out;
struct link;
struct rx;

enum { RX_BUF_BYTES = 256 * 1024, RX_DIRECT_MIN_BYTES = 64 * 1024 };

/* Both return false when the connection was closed meanwhile: rx_pump stops at
 * once and touches nothing but r. on_raw: out->raw is NULL for bytes that went
 * to the sink file (out->raw_len of them). */
struct rx_handler {
    bool (*on_frame)(void *arg, const struct frame_out *out);
    bool (*on_raw)(void *arg, const struct frame_out *out);
    void *arg;
};

enum rx_result {
    RX_AGAIN,      /* the socket has nothing more for now */
    RX_STOPPED,    /* a handler closed the connection */
    RX_EOF,        /* the peer closed it */
    RX_IO_ERROR,   /* reading failed: rx_errno */
    RX_MALFORMED,  /* rx_error says why (the frame decoder's text) */
    RX_SINK_ERROR, /* the sink file could not be written: rx_errno */
};

/* What went through which path (for tests and measurements). */
struct rx_stats {
    uint64_t direct_bodies, direct_bytes;  /* bodies read straight into their allocation */
    uint64_t spliced_bytes, written_bytes; /* sink bytes by splice / by read + write */
};

/* max_frame_bytes as in frame_decoder_init; no_splice: never splice. NULL on OOM. */
struct rx *rx_new(uint64_t max_frame_bytes, bool no_splice, const struct rx_handler *h);
void rx_free(struct rx *r);

/* Reads what fd has (a bounded amount per call) and hands over every complete
 * frame and raw piece. fd is non-blocking. */
enum rx_result rx_pump(struct rx *r, int fd);

/* From inside on_frame of a message with after-frame bytes: they go to sink_fd. */
void rx_sink_to(struct rx *r, int sink_fd);
/* From now on the socket is read through link (link.h; it must outlive r), which also stops
 * splicing unless the link allows it. Only between frames: -1 if r holds bytes it read
 * before (they came under the old link: the caller closes the connection). */
int rx_set_link(struct rx *r, const struct link *link);
/* Between pumps, when nothing is outstanding: gives the buffer back (the next
 * pump allocates it again). */
void rx_release_idle(struct rx *r);

const char *rx_error(const struct rx *r);
int rx_errno(const struct rx *r);
const struct rx_stats *rx_get_stats(const struct rx *r);

#endif
