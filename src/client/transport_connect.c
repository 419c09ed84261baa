/* SPDX-License-Identifier: Apache-2.0 */
/* A connection being made (tconn_new): the dial, the connect timeout (which shares its timer
 * with the request timeout), and, once connected, the read and write events set up and the
 * first move: the TLS handshake, the authentication phase or the held requests. */
#include <config.h>

#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/dial.h"
#include "client/rx.h"
#include "client/transport.h"
#include "client/transport_conn.h"
#include "client/util.h"
#include "shuffle/client.h"

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct tconn *t = arg;
    t->timer_armed = false;
    if (t->state == CONN_CONNECTING) {
        if (t->early_error) {
            tconn_close(t, SHUFFLE_EIO, t->early_error);
        } else {
            char *msg =
                client_strf("Connecting to %s timed out (%d ms)", t->peer, t->connect_timeout_ms);
            tconn_close(t, SHUFFLE_EIO, msg);
            free(msg);
        }
        return;
    }
    if (t->state != CONN_OPEN || t->ps.count == 0)
        return;
    uint64_t now = client_now_ms(), quiet = now - t->last_io_ms;
    if (quiet >= (uint64_t)t->request_timeout_ms) {
        char *msg = client_strf("Connection to %s has been quiet for %llu ms while there are "
                                "outstanding requests (request timeout %d ms): assuming it is "
                                "dead",
                                t->peer, (unsigned long long)quiet, t->request_timeout_ms);
        tconn_close(t, SHUFFLE_EIO, msg);
        free(msg);
        return;
    }
    tconn_arm_request_timer(t, (uint64_t)t->request_timeout_ms - quiet);
}

static struct tconn *tconn_alloc(const struct tconn_env *env, const char *host, int port,
                                 int connect_timeout_ms, int request_timeout_ms)
{
    struct tconn *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->env = env;
    t->refs = 1;
    t->state = CONN_CONNECTING;
    t->connect_timeout_ms = connect_timeout_ms;
    t->request_timeout_ms = request_timeout_ms;
    client_peer_name(t->peer, sizeof(t->peer), host, port);
    t->rs.ps = &t->ps;
    proto_writer_init(&t->w);
    struct rx_handler h = tconn_rx_handler(t);
    t->rx = rx_new(env->max_frame_bytes, env->no_splice, &h);
    t->timer = evtimer_new(env->base, on_timer, t);
    t->queued = evbuffer_new();
    if (!t->rx || !t->timer || !t->queued) {
        tconn_destroy(t);
        return NULL;
    }
    return t;
}

/* The connect failed before any I/O: requests queued meanwhile fail with it on
 * the next loop iteration (never from inside the call that queued them). */
static void fail_soon(struct tconn *t, char *msg)
{
    t->early_error = msg;
    struct timeval tv = {0, 0};
    evtimer_add(t->timer, &tv);
}

struct tconn *tconn_new_failed(const struct tconn_env *env, const char *host, int port,
                               const char *why)
{
    struct tconn *t = tconn_alloc(env, host, port, 0, 0);
    if (t)
        fail_soon(t, client_strf("%s", why));
    return t;
}

/* Runs once per dial_start unless the connection closed first. */
static void on_dialed(void *arg, struct bufferevent *bev, const char *error)
{
    struct tconn *t = arg;
    t->dial = NULL;
    if (!bev) {
        fail_soon(t, client_strf("Failed to connect to %s: %s", t->peer, error));
        return;
    }
    t->readable =
        event_new(t->env->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST, tconn_on_readable, t);
    t->idle = evtimer_new(t->env->base, tconn_on_idle, t);
    if (!t->readable || !t->idle || event_add(t->readable, NULL) != 0) {
        if (t->readable)
            event_free(t->readable);
        if (t->idle)
            event_free(t->idle);
        t->readable = t->idle = NULL;
        bufferevent_free(bev);
        fail_soon(t, client_strf("Failed to connect to %s: out of memory", t->peer));
        return;
    }
    t->bev = bev;
    bufferevent_setcb(bev, NULL, NULL, tconn_on_write_event, t); /* write errors */
    bufferevent_disable(bev, EV_READ);
    bufferevent_enable(bev, EV_WRITE);
    t->state = CONN_OPEN;
    t->was_connected = true;
    tconn_report_connect(t, true);
    evtimer_del(t->timer);
    t->timer_armed = false;
    t->last_io_ms = client_now_ms();
    if (t->ps.count && t->request_timeout_ms > 0)
        tconn_arm_request_timer(t, (uint64_t)t->request_timeout_ms);
    if (t->state != CONN_OPEN)
        return; /* closed by the pool's connect callback */
    if (t->tls_handshaking)
        tconn_tls_begin(t);
    else if (t->authing)
        tconn_auth_begin(t);
    else
        tconn_release_queued(t);
}

struct tconn *tconn_new(const struct tconn_env *env, const char *host, int port,
                        int connect_timeout_ms, int request_timeout_ms)
{
    struct tconn *t = tconn_alloc(env, host, port, connect_timeout_ms, request_timeout_ms);
    if (!t)
        return NULL;
    if (tconn_handshake_init(t, host) != 0) {
        tconn_destroy(t);
        return NULL;
    }
    if (connect_timeout_ms > 0) { /* covers the name lookup too */
        struct timeval tv = {connect_timeout_ms / 1000, (connect_timeout_ms % 1000) * 1000};
        evtimer_add(t->timer, &tv);
    }
    t->dial = dial_start(env->base, env->resolver, host, port, on_dialed, t);
    return t;
}
