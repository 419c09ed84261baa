/* SPDX-License-Identifier: Apache-2.0 */
/* A server's replies matched to the outstanding requests of one connection (Spark's
 * TransportResponseHandler): RpcResponse/RpcFailure/MergedBlockMetaSuccess by request id, chunks by
 * (stream id, chunk index), StreamResponse/StreamFailure in FIFO order, then the
 * stream's after-frame bytes. The owner of each request hears its outcome here;
 * what the connection must do afterwards (go on, or close and why) goes back to
 * transport.c, which owns the connection. */
#ifndef SHUFFLE_CLIENT_REPLIES_H
#define SHUFFLE_CLIENT_REPLIES_H

#include <stdbool.h>

struct frame_out;
struct pending;
struct pending_set;

struct reply_state {
    struct pending_set *ps;
    struct pending *cur_stream; /* receiving its after-frame bytes */
    int sink_fd;                /* set by a StreamResponse whose bytes go to a file */
};

/* Why the connection must close: status 0 means it stays open. fmt has two %s:
 * the peer, then detail. */
struct reply_close {
    int status;
    const char *fmt;
    char detail[256];
    /* a request whose outcome is told only once the connection is closed (an upload the
     * server refused: its owner's next request must not go on this connection), with its
     * error text (malloc'd) */
    struct pending *then_complete;
    char *then_error;
};

/* One complete frame. */
void replies_frame(struct reply_state *rs, const struct frame_out *out, struct reply_close *rc);
/* After-frame bytes of the current stream (out->raw NULL: they went to its sink file). */
void replies_stream_bytes(struct reply_state *rs, const struct frame_out *out,
                          struct reply_close *rc);
/* The current stream's bytes cannot be stored: it fails; the connection must close. */
void replies_abandon_stream(struct reply_state *rs, struct reply_close *rc);

#endif
