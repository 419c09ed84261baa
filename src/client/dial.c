/* SPDX-License-Identifier: Apache-2.0 */
/* Making one TCP connection: see dial.h. */
#include <config.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/dial.h"
#include "client/resolve.h"

/* Bytes one writable event may hand to writev. libevent's default is 16 KiB: a 64 KiB pushed
 * block then needs four loop turns (and four writevs, each waking the server for a partial
 * frame); this lets one turn write everything queued that the socket takes. */
enum { MAX_WRITE_PER_TURN = 1 << 20 };

struct dial {
    struct event_base *base;
    struct resolve_req *resolving; /* the host name is being looked up */
    struct bufferevent *bev;       /* connecting */
    bool canceled;                 /* by the caller while resolving: free once resolved */
    bool in_start;                 /* inside dial_start: its caller learns the outcome there */
    bool finished;                 /* fn ran during dial_start */
    dial_fn fn;
    void *arg;
};

static void finish(struct dial *d, struct bufferevent *bev, const char *error)
{
    d->fn(d->arg, bev, error);
    if (d->in_start)
        d->finished = true; /* dial_start frees it */
    else
        free(d);
}

static void on_connect_event(struct bufferevent *bev, short what, void *arg)
{
    struct dial *d = arg;
    d->bev = NULL;
    if (what & BEV_EVENT_CONNECTED) {
        evutil_socket_t fd = bufferevent_getfd(bev);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        bufferevent_set_max_single_write(bev, MAX_WRITE_PER_TURN);
        bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
        finish(d, bev, NULL);
        return;
    }
    int e = EVUTIL_SOCKET_ERROR();
    bufferevent_free(bev);
    finish(d, NULL, e ? evutil_socket_error_to_string(e) : "connection closed");
}

static void start_connect(struct dial *d, const struct sockaddr *sa, socklen_t salen)
{
    struct bufferevent *bev = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        finish(d, NULL, "cannot create a socket");
        return;
    }
    bufferevent_setcb(bev, NULL, NULL, on_connect_event, d);
    if (bufferevent_socket_connect(bev, sa, (int)salen) != 0) {
        int e = EVUTIL_SOCKET_ERROR();
        bufferevent_free(bev);
        finish(d, NULL, e ? strerror(e) : "connect failed");
        return;
    }
    d->bev = bev;
}

/* Runs once per resolve_start, maybe from inside it. */
static void on_resolved(void *arg, const struct sockaddr *sa, socklen_t salen, const char *error)
{
    struct dial *d = arg;
    d->resolving = NULL;
    if (d->canceled)
        free(d);
    else if (sa)
        start_connect(d, sa, salen);
    else
        finish(d, NULL, error);
}

struct dial *dial_start(struct event_base *base, struct resolver *resolver, const char *host,
                        int port, dial_fn fn, void *arg)
{
    struct dial *d = calloc(1, sizeof(*d));
    if (!d) {
        fn(arg, NULL, "out of memory");
        return NULL;
    }
    d->base = base;
    d->fn = fn;
    d->arg = arg;
    d->in_start = true;
    struct resolve_req *r = resolve_start(resolver, host, port, on_resolved, d);
    d->in_start = false;
    if (d->finished) {
        free(d);
        return NULL;
    }
    d->resolving = r;
    return d;
}

void dial_cancel(struct dial *d)
{
    if (d->resolving) {
        d->canceled = true;
        resolve_cancel(d->resolving); /* on_resolved still runs, later, and frees d */
        return;
    }
    if (d->bev)
        bufferevent_free(d->bev);
    free(d);
}
