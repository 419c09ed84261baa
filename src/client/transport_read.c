/* SPDX-License-Identifier: Apache-2.0 */
/* A connection's read pump: the socket's readiness drives rx (which reads it, through the
 * link), rx's frames and stream bytes go to the replies, and what they or rx report as fatal
 * closes the connection. rx's buffer goes back after a quiet while with nothing outstanding. */
#include <config.h>

#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "client/link.h"
#include "client/pending.h"
#include "client/replies.h"
#include "client/rx.h"
#include "client/transport.h"
#include "client/transport_conn.h"
#include "client/util.h"
#include "shuffle/client.h"

enum { IDLE_RELEASE_MS = 1000 };

/* Closes when a reply said so. */
static bool closes(struct tconn *t, const struct reply_close *rc)
{
    if (rc->status)
        tconn_close_io(t, rc->status, rc->fmt, rc->detail);
    if (rc->then_complete) {
        pending_complete(rc->then_complete, SHUFFLE_ESERVER, rc->then_error, NULL, 0);
        free(rc->then_error);
    }
    return t->state == CONN_OPEN;
}

static bool rx_frame(void *arg, const struct frame_out *out)
{
    struct tconn *t = arg;
    struct reply_close rc;
    replies_frame(&t->rs, out, &rc);
    if (t->rs.sink_fd >= 0 && rc.status == 0)
        rx_sink_to(t->rx, t->rs.sink_fd);
    return closes(t, &rc);
}

/* out->raw NULL: the bytes went to the stream's sink file. */
static bool rx_raw(void *arg, const struct frame_out *out)
{
    struct tconn *t = arg;
    struct reply_close rc;
    replies_stream_bytes(&t->rs, out, &rc);
    return closes(t, &rc);
}

struct rx_handler tconn_rx_handler(struct tconn *t)
{
    struct rx_handler h = {rx_frame, rx_raw, t};
    return h;
}

static void arm_idle(struct tconn *t, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(t->idle, &tv);
}

/* Nothing outstanding and nothing heard for IDLE_RELEASE_MS: rx gives its buffer back
 * (a connection kept for later costs no receive buffer meanwhile). */
void tconn_on_idle(evutil_socket_t fd, short what, void *arg)
{
    struct tconn *t = arg;
    uint64_t quiet = client_now_ms() - t->last_io_ms;
    if (t->ps.count > 0)
        return; /* busy again: armed again when it goes quiet */
    if (quiet >= IDLE_RELEASE_MS)
        rx_release_idle(t->rx);
    else
        arm_idle(t, IDLE_RELEASE_MS - quiet);
}

void tconn_on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct tconn *t = arg;
    tconn_ref(t);
    t->last_io_ms = client_now_ms();
    switch (rx_pump(t->rx, fd)) {
    case RX_AGAIN:
        if (link_pending(&t->link) > 0) /* held by the cipher: no readiness event will come */
            event_active(t->readable, EV_READ, 0);
        else if (t->ps.count == 0 && !evtimer_pending(t->idle, NULL))
            arm_idle(t, IDLE_RELEASE_MS);
        break;
    case RX_STOPPED:
        break;
    case RX_EOF:
        tconn_close_io(t, SHUFFLE_EIO, "Connection from %s closed%s", NULL);
        break;
    case RX_IO_ERROR:
        tconn_close_io(t, SHUFFLE_EIO, "Connection to %s failed: %s",
                       evutil_socket_error_to_string(rx_errno(t->rx)));
        break;
    case RX_MALFORMED:
        tconn_close_io(t, SHUFFLE_EPROTO, "Malformed data from %s: %s", rx_error(t->rx));
        break;
    case RX_SINK_ERROR: {
        struct reply_close rc;
        replies_abandon_stream(&t->rs, &rc);
        closes(t, &rc);
        break;
    }
    }
    tconn_unref(t);
}
