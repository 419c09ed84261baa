/* SPDX-License-Identifier: Apache-2.0 */
/* One connection to a shuffle server (transport.h): its references and its close, which
 * fans out to the owner's callbacks and to every waiting request. The other parts are
 * listed in transport_conn.h. */
#include <config.h>

#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/auth.h"
#include "client/auth_aes.h"
#include "client/dial.h"
#include "client/transport.h"
#include "client/transport_conn.h"
#include "client/util.h"
#include "shuffle/client.h"

void tconn_ref(struct tconn *t)
{
    t->refs++;
}

void tconn_destroy(struct tconn *t)
{
    if (t->timer)
        event_free(t->timer);
    rx_free(t->rx);
    link_clear(&t->link);
    proto_writer_free(&t->w);
    pending_drop_index(&t->ps);
    free(t->early_error);
    free(t->host);
    auth_phase_free(t->auth);
    aes_phase_free(t->aes);
    if (t->auth_timer)
        event_free(t->auth_timer);
    if (t->queued)
        evbuffer_free(t->queued);
    free(t);
}

void tconn_unref(struct tconn *t)
{
    if (--t->refs > 0)
        return;
    if (t->state != CONN_CLOSED) {
        t->refs = 1; /* keep it alive through the close callbacks */
        tconn_close(t, SHUFFLE_ECANCELED, "connection released");
        if (--t->refs > 0)
            return;
    }
    tconn_destroy(t);
}

void tconn_on_connect_result(struct tconn *t, void (*fn)(void *arg, bool ok), void *arg)
{
    t->connect_fn = fn;
    t->connect_arg = arg;
}

void tconn_on_close(struct tconn *t, void (*fn)(void *arg, struct tconn *t), void *arg)
{
    t->close_fn = fn;
    t->close_arg = arg;
}

bool tconn_is_active(const struct tconn *t)
{
    return t->state != CONN_CLOSED;
}

size_t tconn_outstanding(const struct tconn *t)
{
    return t->ps.count;
}

const char *tconn_peer(const struct tconn *t)
{
    return t->peer;
}

bool tconn_was_connected(const struct tconn *t)
{
    return t->was_connected;
}

void tconn_report_connect(struct tconn *t, bool ok)
{
    void (*fn)(void *, bool) = t->connect_fn;
    t->connect_fn = NULL;
    if (fn)
        fn(t->connect_arg, ok);
}

void tconn_close(struct tconn *t, int status, const char *why)
{
    if (t->state == CONN_CLOSED)
        return;
    bool connect_failed = t->state == CONN_CONNECTING && status == SHUFFLE_EIO;
    t->state = CONN_CLOSED;
    tconn_ref(t);
    if (t->dial) {
        dial_cancel(t->dial);
        t->dial = NULL;
    }
    if (connect_failed)
        tconn_report_connect(t, false);
    evtimer_del(t->timer);
    t->timer_armed = false;
    if (t->auth_timer)
        evtimer_del(t->auth_timer);
    if (t->readable) {
        event_free(t->readable);
        event_free(t->idle);
        t->readable = t->idle = NULL;
    }
    /* bytes not sent are dropped now, not when the buffers are freed (the bufferevent on a
     * later turn of the loop, the outbox with the last reference): the references of upload
     * bodies among them are released, so their owners learn of it before the replies fail */
    if (t->queued)
        evbuffer_drain(t->queued, evbuffer_get_length(t->queued));
    if (t->bev) {
        struct evbuffer *out = bufferevent_get_output(t->bev);
        evbuffer_unfreeze(out, 1); /* a socket bufferevent lets only itself drain it */
        evbuffer_drain(out, evbuffer_get_length(out));
        bufferevent_free(t->bev);
        t->bev = NULL;
    }
    if (t->close_fn) {
        void (*fn)(void *, struct tconn *) = t->close_fn;
        t->close_fn = NULL;
        fn(t->close_arg, t);
    }
    pending_drop_index(&t->ps);
    t->rs.cur_stream = NULL;
    struct pending *p;
    while ((p = t->ps.first)) {
        pending_unlink(&t->ps, p);
        pending_complete(p, status, why, NULL, 0);
    }
    tconn_unref(t);
}

void tconn_close_io(struct tconn *t, int status, const char *fmt, const char *detail)
{
    char *msg = client_strf(fmt, t->peer, detail ? detail : "");
    tconn_close(t, status, msg);
    free(msg);
}
